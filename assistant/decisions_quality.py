"""The old name of `python -m assistant.decisions.quality`, kept because the README still runs
it by this name; remove it once the README names the new one."""

import sys

from .decisions.quality import main

if __name__ == "__main__":
    sys.exit(main())
