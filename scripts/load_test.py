"""Load test for the chat: 1, 5 and 10 concurrent conversations through gradio_client.

Each conversation is its own client session and asks 3 questions, the second and third
being follow-ups that pass the conversation so far. The time of an answer is the whole
call as a user waits for it (queueing included). Prints p50 and p95 answer seconds and
the errors at each level.

    python scripts/load_test.py                      # against a running app (`minutes chat`)
    python scripts/load_test.py --url http://127.0.0.1:7861 --levels 1,5,10
    python scripts/load_test.py --start              # start `minutes chat` on a free port over a
                                                     # tmp index of the bundled corpus, run, stop it
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
API = "/chat"  # assistant.app.ui.API_CHAT
ERROR_WORDS = "Sorry, something went wrong"
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

# Questions about the bundled corpus; the second and third of each are follow-ups.
CONVERSATIONS = [
    ["What did cabinet resolve on the phase 2 plan?", "Who introduced the report?",
     "What did the scrutiny committee welcome?"],
    ["What did the Health and Wellbeing Board resolve on the children's services improvement plan?",
     "How was it voted on?", "What action came out of it?"],
    ["What did Plymouth's board agree on the quarterly improvement update?", "Who introduced it?",
     "What were the key points?"],
    ["What did the Corporate Parenting Board discuss about moving from inadequate?", "Who undertook to feed it back?",
     "And what about the workforce?"],
]


@dataclass
class Level:
    conversations: int
    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, int(-(-p * len(ordered) // 100)))  # ceil(p/100 * n)
    return ordered[min(rank, len(ordered)) - 1]


def last_answer(history) -> str:
    if not history:
        return ""
    content = history[-1].get("content") if isinstance(history[-1], dict) else history[-1]
    if isinstance(content, list):
        content = " ".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return re.sub(r"<[^>]+>", " ", str(content or ""))


def conversation(url: str, questions: list[str], auth, level: Level, timeout: float) -> None:
    from gradio_client import Client

    try:
        client = Client(url, auth=auth, verbose=False, analytics_enabled=False, download_files=False)
    except Exception as exc:
        level.errors.extend([f"connect: {type(exc).__name__}: {exc}"] * len(questions))
        return
    history: list = []
    try:
        for question in questions:
            started = time.perf_counter()
            try:
                job = client.submit(question, history, "", "", "", "", api_name=API)
                history, _box, _sources = job.result(timeout=timeout)
            except Exception as exc:
                level.errors.append(f"{question!r}: {type(exc).__name__}: {str(exc)[:160]}")
                return  # the rest of this conversation depends on this turn
            level.seconds.append(time.perf_counter() - started)
            text = last_answer(history)
            if not text.strip() or ERROR_WORDS in text:
                level.errors.append(f"{question!r}: {text.strip()[:160] or 'empty answer'}")
    finally:
        try:
            client.close()
        except Exception:
            pass


def run_level(url: str, n: int, auth, timeout: float) -> Level:
    level = Level(n)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n) as pool:
        for i in range(n):
            pool.submit(conversation, url, CONVERSATIONS[i % len(CONVERSATIONS)], auth, level, timeout)
    level.wall = time.perf_counter() - started
    return level


def report(levels: list[Level]) -> None:
    print()
    print(f"{'concurrent':>10} {'answers':>8} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'wall s':>7} {'errors':>7}")
    for lv in levels:
        mx = max(lv.seconds) if lv.seconds else float("nan")
        print(f"{lv.conversations:>10} {len(lv.seconds):>8} {percentile(lv.seconds, 50):>7.2f} "
              f"{percentile(lv.seconds, 95):>7.2f} {mx:>7.2f} {lv.wall:>7.1f} {len(lv.errors):>7}")
    for lv in levels:
        for err in lv.errors[:5]:
            print(f"  error at {lv.conversations} concurrent: {err}")
        if len(lv.errors) > 5:
            print(f"  ... and {len(lv.errors) - 5} more at {lv.conversations} concurrent")


# ---- --start: a throwaway server --------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"load_test: the app exited with {proc.returncode}; its log:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/config", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"load_test: the app did not answer at {url} within {seconds:.0f} s; log: {log}")


def start_app(workdir: Path) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    env = dict(os.environ, MINUTES_INDEX_DIR=str(workdir / "index"), MINUTES_PORT=str(port),
               MINUTES_HOST="127.0.0.1", MINUTES_CORPUS_DIR=str(ROOT / "corpus"))
    minutes = Path(sys.executable).with_name("minutes")
    command = [str(minutes), "chat"] if minutes.exists() else [sys.executable, "-m", "assistant.app.cli", "chat"]
    log = workdir / "app.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(command + ["--port", str(port)], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}", log


def stop_app(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:7860", help="the running app (default %(default)s)")
    parser.add_argument("--levels", default="1,5,10", help="concurrent conversations per level (default %(default)s)")
    parser.add_argument("--start", action="store_true",
                        help="start `minutes chat` on a free port over a tmp index of the bundled corpus, then stop it")
    parser.add_argument("--auth", metavar="USER:PASSWORD", help="sign in (when the app has MINUTES_AUTH_*)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for one answer")
    parser.add_argument("--startup-timeout", type=float, default=300.0, help="seconds to wait for --start's app")
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    auth = tuple(args.auth.split(":", 1)) if args.auth else None

    proc = workdir = None
    url = args.url.rstrip("/")
    try:
        if args.start:
            workdir = Path(tempfile.mkdtemp(prefix="minutes-load-"))
            proc, url, log = start_app(workdir)
            print(f"load_test: started `minutes chat` at {url} (pid {proc.pid}, log {log}); building its index…",
                  flush=True)
            t0 = time.perf_counter()
            wait_until_up(url, proc, args.startup_timeout, log)
            print(f"load_test: the app answered after {time.perf_counter() - t0:.1f} s", flush=True)
        print(f"load_test: {url}, levels {levels}, 3 questions per conversation (2 follow-ups)", flush=True)
        warm = Level(1)
        conversation(url, CONVERSATIONS[0][:1], auth, warm, args.timeout)  # not counted
        if warm.errors:
            print(f"load_test: the warm-up question failed: {warm.errors[0]}", file=sys.stderr)
            return 1
        results = []
        for n in levels:
            print(f"load_test: {n} concurrent conversation(s)…", flush=True)
            results.append(run_level(url, n, auth, args.timeout))
        report(results)
        return 1 if any(lv.errors for lv in results) else 0
    finally:
        if proc is not None:
            stop_app(proc)
            print(f"load_test: stopped the app (pid {proc.pid})", flush=True)
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
