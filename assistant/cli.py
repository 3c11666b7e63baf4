"""The entry point that `minutes` commands installed before the move to `assistant/app/`
still name (`assistant.cli:main`): it only re-exports `assistant.app.cli.main`, so an existing
virtual environment keeps working until its next `pip install -e .` writes the new path.
"""

from .app.cli import main

__all__ = ["main"]
