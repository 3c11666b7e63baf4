"""The `minutes` command line. Library errors become one-line messages and exit codes."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..core.errors import MinutesError
from ..core.text import shorten

EPILOG = "Every setting can also come from the environment: MINUTES_INDEX_DIR, MINUTES_CHROMA_URL, MINUTES_ANSWER_MODE, ..."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minutes", description="Cited answers from council minutes.", epilog=EPILOG)
    parser.add_argument("--index", help="index folder (env MINUTES_INDEX_DIR; default ./index)")
    parser.add_argument("--chroma-url", help="use a Chroma server at this URL (env MINUTES_CHROMA_URL)")
    parser.add_argument("--level", choices=["public", "officer"],
                        help="public: exempt (Part II, closed session) items are left out; officer: everything "
                             "(env MINUTES_ACCESS_LEVEL; default public)")
    sub = parser.add_subparsers(dest="command", required=True)
    _ingest_commands(sub)
    _query_commands(sub)
    _app_commands(sub)
    _decision_commands(sub)
    return parser


def _ingest_commands(sub) -> None:
    """ingest, sync moderngov, watch: what puts minutes into the index."""
    p = sub.add_parser("ingest", help="read minutes into the index (incremental)")
    p.add_argument("paths", nargs="+", help="files or folders (PDF, HTML, .txt, .md)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    p = sub.add_parser("sync", help="fetch minutes from where a council publishes them, then ingest them")
    sources = p.add_subparsers(dest="source", required=True)
    m = sources.add_parser(
        "moderngov", help="a ModernGov site (most English and Welsh councils)",
        description="Fetch published minutes from a council's ModernGov web service into the index. "
                    "Incremental (meetings already synced and settled are not fetched again), polite "
                    "(MINUTES_MODERNGOV_DELAY seconds between requests) and resumable: run it again to continue.",
    )
    m.add_argument("url", help="the council's ModernGov site, e.g. https://democracy.example.gov.uk")
    m.add_argument("--committee", action="append", default=[], metavar="NAME",
                   help="only this committee, by its name on the site (repeatable; default: all)")
    m.add_argument("--since", metavar="YYYY-MM-DD", help="meetings on or after this date (default: a year before --until)")
    m.add_argument("--until", metavar="YYYY-MM-DD", help="meetings on or before this date (default: today)")
    m.add_argument("--council", help="the council's name as cited (default: the site's host name)")
    m.add_argument("--refresh", action="store_true", help="fetch every meeting again, settled or not")
    m.add_argument("--index", default=argparse.SUPPRESS, help="index folder (same as the global --index)")
    m.add_argument("--no-progress", action="store_true", help="no progress lines")

    p = sub.add_parser("watch", help="keep folders indexed: ingest again whenever files appear, change or go away")
    p.add_argument("folders", nargs="+", help="folders of minutes (PDF, HTML, .txt, .md), e.g. a shared drive")
    p.add_argument("--poll", type=float, default=0.0, metavar="SECONDS",
                   help="look for changes every SECONDS instead of waiting for change events "
                        "(needed for network drives, SMB or NFS, which send none)")


def _query_commands(sub) -> None:
    """search, stats, ask: what reads the index."""
    p = sub.add_parser("search", help="hybrid search over the index")
    p.add_argument("query")
    _filter_args(p)
    p.add_argument("-k", type=int, default=5, help="number of hits (default 5)")
    p.add_argument("--mode", choices=["hybrid", "dense", "lexical"], help="retrieval mode (default hybrid)")
    p.add_argument("--json", action="store_true", help="print JSON")

    sub.add_parser("stats", help="what the index holds")

    p = sub.add_parser("ask", help="answer a question with citations")
    p.add_argument("question", nargs="?")
    _filter_args(p)
    p.add_argument("--llm", action="store_true", help="answer with the configured LLM (MINUTES_ANSWER_MODE=llm)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--batch", metavar="FILE.jsonl", help="answer one {id, question, history?} per line")


def _app_commands(sub) -> None:
    """chat, eval: the web page and the evaluation."""
    p = sub.add_parser("chat", help="start the chat in a browser (Gradio)")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 7860)")
    p.add_argument("--watch", action="append", default=[], metavar="FOLDER",
                   help="keep this folder indexed while the chat runs (repeatable)")

    p = sub.add_parser("eval", help="run an evaluation set and write a report")
    p.add_argument("file", nargs="*", help="question sets (JSONL), run one after another over the same index")
    p.add_argument("--compare", action="store_true", help="compare retrieval, chunking and answer variants")
    p.add_argument("--llm", action="store_true", help="with --compare: add the LLM answer variant (slow)")
    p.add_argument("--out", default="eval/reports", help="report folder")
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--gate", help="thresholds file: fail when a metric is below its threshold")
    p.add_argument("--calibrate", action="store_true", help="find the refusal threshold that best separates the sets' answerable and unanswerable questions, "
                        "and check it leave-one-set-out")


def _decision_commands(sub) -> None:
    """decisions, history: the decision records."""
    p = sub.add_parser("decisions", help="list recorded decisions")
    _filter_args(p)
    p.add_argument("--outcome", help="approved, agreed, noted, deferred, refused, carried, failed, withdrawn")
    p.add_argument("--text", help="words the decision or item title contains")
    p.add_argument("--limit", type=int, default=50)
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true")

    p = sub.add_parser("history", help="an item's decisions and discussions across meetings, dated")
    p.add_argument("topic")
    _filter_args(p)
    p.add_argument("--json", action="store_true")


def _filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--council", help="only this council")
    p.add_argument("--committee", help="only this committee")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="meetings on or after this date")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="meetings on or before this date")


def _settings(args):
    from pydantic import ValidationError

    from ..core.config import Settings

    overrides = {}
    if args.index:
        overrides["index_dir"] = Path(args.index)
    if args.chroma_url:
        overrides["chroma_url"] = args.chroma_url
    if getattr(args, "level", None):
        overrides["access_level"] = args.level
    if getattr(args, "llm", False):
        overrides["answer_mode"] = "llm"
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if getattr(args, "port", None):
        overrides["port"] = args.port
    try:
        return Settings(**overrides)
    except ValidationError as exc:  # a MINUTES_ variable that does not parse, say: one line each, no traceback
        raise MinutesError("settings: " + "; ".join(_setting_error(error) for error in exc.errors())) from None


def _setting_error(error) -> str:
    from ..core.config import env_name

    where = ".".join(str(part) for part in error["loc"]) or "value"
    env = env_name(*error["loc"])
    return f"{where}{f' ({env})' if env else ''}: {error['msg']}"


def _filters(args):
    from ..core.dates import find_date
    from ..core.types import Filters

    for name in ("since", "until"):
        value = getattr(args, name, None)
        if value and not find_date(value):
            raise MinutesError(f"--{name} wants a date like 2019-06-04, not {value!r}")
    return Filters(
        council=getattr(args, "council", None) or "",
        committee=getattr(args, "committee", None) or "",
        since=find_date(args.since) if getattr(args, "since", None) else "",
        until=find_date(args.until) if getattr(args, "until", None) else "",
    )


def main(argv: list[str] | None = None) -> int:
    from ..index.embedding import set_offline_environment

    set_offline_environment()
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
        handler = COMMANDS[args.command]
        return handler(args, settings) or 0
    except MinutesError as exc:
        print(f"minutes: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("minutes: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head, say
        sys.stderr.close()
        return 0


def _open_index(settings, create: bool = False):
    """Only ingest creates an index; the commands that read it never leave files behind. The
    commands that read it see it at the access level of the settings."""
    from ..retrieve.minutes_index import MinutesIndex

    index = MinutesIndex.open(settings, create=create)
    return index if create else index.view(settings.access_level)


def cmd_ingest(args, settings) -> int:
    from ..ingest.pipeline import ingest, writer_lock
    from ..decisions import decision_hooks

    index = _open_index(settings, create=True)
    index.catalog.require_writable()
    with writer_lock(settings.index.index_dir):  # a second ingest on this index is refused, with the reason
        report = ingest(index, args.paths, progress=not args.no_progress and sys.stderr.isatty(),
                        hooks=decision_hooks(index))
    print(report.summary())
    return 130 if report.interrupted else 0


def cmd_sync(args, settings) -> int:
    from ..decisions import decision_hooks
    from ..ingest.moderngov import sync_moderngov

    from ..ingest.pipeline import writer_lock

    dates = _filters(args)
    quiet = args.no_progress
    index = _open_index(settings, create=True)  # a sync writes the index, as ingest does
    index.catalog.require_writable()
    with writer_lock(settings.index.index_dir):
        report = sync_moderngov(
            index, args.url, committees=args.committee, since=dates.since, until=dates.until,
            council=args.council or "", refresh=args.refresh, hooks=decision_hooks(index),
            log=(lambda line: None) if quiet else (lambda line: print(line, file=sys.stderr, flush=True)),
            ingest_progress=not quiet and sys.stderr.isatty(),
        )
    print(report.summary())
    return 130 if report.interrupted else 0


def cmd_watch(args, settings) -> int:
    from ..decisions import decision_hooks
    from ..ingest.watch import watch_folders

    index = _open_index(settings, create=True)  # a watch writes the index, as ingest does
    index.catalog.require_writable()
    watch_folders(index, args.folders, hooks=decision_hooks(index), poll_seconds=args.poll,
                  log=lambda line: print(line, flush=True))
    return 0


def hit_json(hit) -> dict:
    c = hit.chunk
    return {
        "rank": hit.rank,
        "score": round(hit.score, 6),
        "text": c.text,
        "source": c.source,
        "page": c.page_start,
        "page_end": c.page_end,
        "council": c.council,
        "committee": c.committee,
        "date": c.date,
        "item": c.item,
        "title": c.title,
        "section": c.section,
        "provenance": c.provenance(),
    }


def cmd_search(args, settings) -> int:
    index = _open_index(settings).require_chunks()
    hits = index.retriever.search(args.query, _filters(args), k=args.k, mode=args.mode)
    if args.json:
        print(json.dumps([hit_json(h) for h in hits], ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("No passages found.")
    for hit in hits:
        c = hit.chunk
        where = ", ".join(p for p in (c.council, c.committee, c.date or "date not stated") if p)
        item = f" item {c.item}" if c.item else ""
        print(f"[{hit.rank}] {where}{item} — {c.source} p.{c.page_start} ({c.section})")
        print("    " + shorten(c.text, 300).replace("\n", " "))
    return 0


def cmd_stats(args, settings) -> int:
    from ..index.identity import collection_name

    index = _open_index(settings)
    stats = index.catalog.stats()
    stats["collection"] = collection_name(settings)
    stats["vectors"] = index.store.count()
    stats["index_dir"] = str(settings.index.index_dir)
    stats["size_on_disk_mb"] = round(_folder_size(settings.index.index_dir) / 1e6, 1)
    print(json.dumps(stats, indent=2, default=str))
    return 0


def _folder_size(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def cmd_ask(args, settings) -> int:
    from ..answer.service import AnswerService
    from ..decisions.answerer import RECORDS

    service = AnswerService.open(settings, _open_index(settings).require_chunks(), records=RECORDS)
    if args.batch:
        return _ask_batch(service, args)
    if not args.question:
        raise MinutesError("ask wants a QUESTION or --batch FILE.jsonl")
    answer = service.ask(args.question, history=[], filters=_filters(args))
    if args.json:
        print(json.dumps(service.to_json(answer), ensure_ascii=False, indent=2))
    else:
        print(service.to_text(answer))
    return 0


def _ask_batch(service, args) -> int:
    path = Path(args.batch)
    if not path.exists():
        raise MinutesError(f"no such file: {path}")
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question = row["question"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            print(json.dumps({"id": None, "line": n, "error": f"bad line: {exc}"}), flush=True)
            continue
        answer = service.ask(question, history=row.get("history") or [], filters=_filters(args))
        print(json.dumps({"id": row.get("id"), **service.to_json(answer)}, ensure_ascii=False), flush=True)
    return 0


def cmd_chat(args, settings) -> int:
    from .ui import serve

    serve(settings, watch=args.watch)
    return 0


def cmd_eval(args, settings) -> int:
    from .evaluate import run_cli

    return run_cli(args, settings)


def cmd_decisions(args, settings) -> int:
    from ..decisions.report import run_decisions_cli

    return run_decisions_cli(args, settings, _filters(args))


def cmd_history(args, settings) -> int:
    from ..decisions.report import run_history_cli

    return run_history_cli(args, settings, _filters(args))


COMMANDS = {
    "ingest": cmd_ingest,
    "sync": cmd_sync,
    "watch": cmd_watch,
    "search": cmd_search,
    "stats": cmd_stats,
    "ask": cmd_ask,
    "chat": cmd_chat,
    "eval": cmd_eval,
    "decisions": cmd_decisions,
    "history": cmd_history,
}

if __name__ == "__main__":
    sys.exit(main())
