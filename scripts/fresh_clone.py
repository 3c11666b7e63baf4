"""Time `make run` from a fresh clone to the chat's first answer.

    python scripts/fresh_clone.py [--repo .] [--branch NAME] [--dir /tmp/fresh] [--port 7871]

Clones the repository into an empty folder, starts `make run` there (its own new .venv),
waits until the chat answers one question through its API (gradio_client, from the
interpreter running this script), prints the seconds to each step and stops the chat.
The pip cache of the machine is used as it is: say whether it was warm when quoting a figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--branch", default="")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/fresh"))
    parser.add_argument("--port", type=int, default=7871)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--question", default="what did cabinet resolve on the phase 2 plan?")
    args = parser.parse_args()
    if args.dir.exists():
        shutil.rmtree(args.dir)
    started = time.perf_counter()
    branch = ["-b", args.branch] if args.branch else []
    subprocess.run(["git", "clone", "-q", *branch, args.repo, str(args.dir)], check=True)
    env = dict(os.environ, MINUTES_PORT=str(args.port))
    log = (args.dir.parent / f"{args.dir.name}-make-run.log").open("w")
    proc = subprocess.Popen(["make", "run"], cwd=args.dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{args.port}/"
    marks = {}
    try:
        while time.perf_counter() - started < args.timeout:
            if proc.poll() is not None:
                print(f"make run ended with {proc.returncode}: see {log.name}")
                return 1
            if "setup" not in marks and (args.dir / ".venv" / ".setup-base").exists():
                marks["setup"] = time.perf_counter() - started
            try:
                urllib.request.urlopen(url, timeout=2).read(100)
                marks["chat page served"] = time.perf_counter() - started
                break
            except OSError:
                time.sleep(1)
        from gradio_client import Client

        client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
        history, _box, _sources = client.predict(args.question, [], "", "", "", "", api_name="/chat")
        marks["first answer"] = time.perf_counter() - started
        answer = history[-1]["content"] if history and isinstance(history[-1], dict) else history
        print(f"answer: {str(answer)[:200]!r}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    for name, seconds in marks.items():
        print(f"{name}: {seconds:.0f} s after the clone started")
    return 0


if __name__ == "__main__":
    sys.exit(main())
