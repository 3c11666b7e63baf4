"""How well decisions are extracted, measured against the hand-checked sample.

    python -m assistant.decisions.quality eval/decisions_gold.jsonl [--out FILE.json]

Ingests the sample's files into a temporary index with the decision hook (Alameda PDFs
from ../shared/corpora/alameda-city-council/, the bundled files from corpus/), reads the
register back, matches extracted decisions to the annotated items by (file, item) — for the
bundled files the item is the title — and reports:

- precision and recall of "has a decision" (an item's decision, and actions separately);
- outcome accuracy, mover and seconder exact match, vote-count exact match (ayes, noes,
  abstentions and absent all equal, "not recorded" included), and whether the annotated
  start of the decision text is found verbatim in the extracted text, over matched items.

A motion whose outcome the minutes do not record is kept in the register (outcome null) but,
as in the sample's definition, is not a decision. When an item has several motions the
register keeps each; like the sample, the item's last
decision is the one compared. Extracted decisions on numbered items the sample does not
annotate in its files count as false positives and are listed; decisions outside numbered
items in the PDFs (the consent-calendar motion itself, a motion under a section heading) are
counted and listed as not judged, since the sample annotates numbered items only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from ..core.config import ALAMEDA_DIR, Settings
from ..index.embedding import set_offline_environment
from ..retrieve.minutes_index import MinutesIndex
from ..ingest.pipeline import ingest
from .register import DecisionRegister, decision_hooks

# Relative to the working directory, the checkout's root when run as the docstring says.
ALAMEDA = ALAMEDA_DIR
CORPUS = Path("corpus")
EVAL = Path("eval")


def _norm(text: str | None) -> str:
    text = (text or "").lower().replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text).strip()


def _key(text: str | None) -> str:
    """An item number or title as a matching key: '10-180A CC' and '10-180ACC' are one item."""
    return re.sub(r"\s+", "", _norm(text))


def _squash(text: str | None) -> str:
    return re.sub(r"[\s\"'.,;:–—-]+", "", _norm(text))


def load_gold(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _is_action(row: dict) -> bool:
    return bool(row.get("has_decision")) and row.get("outcome") is None


def evaluate(gold: list[dict], decisions: list) -> dict:
    """Compare register records with the sample. `decisions` are Decision objects."""
    gold_keys: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in gold:
        gold_keys[(row["file"], _key(row["item"]))].append(row)
    extracted, unannotated, outside = _match(gold_keys, {row["file"] for row in gold}, decisions)
    counts = {"item": {"tp": 0, "fp": 0, "fn": 0}, "action": {"tp": 0, "fp": 0, "fn": 0}}
    field_hits = defaultdict(int)
    field_total = defaultdict(int)
    problems = []
    for key, rows in gold_keys.items():
        found = sorted(extracted.get(key, []), key=lambda d: d.ordinal)
        _judge_item(key, rows, found, counts, field_hits, field_total, problems)
        _judge_actions(key, rows, found, counts, field_hits, field_total, problems)
    for d in unannotated:
        kind = "action" if d.kind == "action" else "item"
        counts[kind]["fp"] += 1
        problems.append({"file": Path(d.source).name, "item": d.item or d.title[:40],
                         "problem": "extracted on an item the sample does not annotate", "extracted": d.text[:120]})
    total = {k: counts["item"][k] + counts["action"][k] for k in ("tp", "fp", "fn")}
    rates = {name: {"correct": field_hits[name], "of": field_total[name],
                    "rate": _round(field_hits[name] / field_total[name]) if field_total[name] else None}
             for name in ("outcome", "mover", "seconder", "votes", "mover_when_recorded", "seconder_when_recorded",
                          "votes_when_recorded", "text_verbatim", "action_owner")}
    return {
        "annotated_items": len(gold_keys),
        "annotated_rows": len(gold),
        "has_decision": _precision_recall(total),
        "item_decisions": _precision_recall(counts["item"]),
        "actions": _precision_recall(counts["action"]),
        "fields": rates,
        "not_judged": {"count": len(outside), "why": "decisions outside numbered items (consent-calendar motions, "
                       "motions under a section heading); the sample annotates numbered items only",
                       "examples": [d.text[:100] for d in outside[:10]]},
        "problems": problems,
    }


def _match(gold_keys: dict, files: set, decisions: list) -> tuple[dict, list, list]:
    """The sample's files' decisions by annotated (file, item key); those on items the sample
    does not annotate; and those outside numbered items in the PDFs (not judged)."""
    extracted: dict[tuple[str, str], list] = defaultdict(list)
    unannotated, outside = [], []
    for d in decisions:
        name = Path(d.source).name
        if name not in files:
            continue
        key = next(((name, k) for k in (_key(d.item), _key(d.title)) if (name, k) in gold_keys), None)
        if key is None and not d.item and name.endswith(".pdf"):
            outside.append(d)  # a consent-calendar motion, a motion under a section heading: not annotated
            continue
        if key is None:
            unannotated.append(d)
            continue
        extracted[key].append(d)
    return extracted, unannotated, outside


def _judge_item(key: tuple, rows: list[dict], found: list, counts: dict, hits: dict, total: dict,
                problems: list) -> None:
    """An annotated item's decision against the item's last extracted decision."""
    gold_item = next((r for r in rows if r["has_decision"] and not _is_action(r)), None)
    ext_items = [d for d in found if d.kind != "action" and d.outcome]  # a motion with no recorded outcome is no decision
    ext_item = ext_items[-1] if ext_items else None
    if gold_item and ext_item:
        counts["item"]["tp"] += 1
        _compare(gold_item, ext_item, hits, total, problems)
    elif gold_item:
        counts["item"]["fn"] += 1
        problems.append({"file": key[0], "item": gold_item["item"], "problem": "missed",
                         "gold": gold_item.get("decision_text")})
    elif ext_item:
        counts["item"]["fp"] += 1
        problems.append({"file": key[0], "item": rows[0]["item"], "problem": "extracted, not in sample",
                         "extracted": ext_item.text[:120], "kind": ext_item.kind})


def _judge_actions(key: tuple, rows: list[dict], found: list, counts: dict, hits: dict, total: dict,
                   problems: list) -> None:
    """An annotated item's actions against its extracted actions, matched by their text."""
    gold_actions = [r for r in rows if _is_action(r)]
    ext_actions = [d for d in found if d.kind == "action"]
    for r in gold_actions:
        match = next((d for d in ext_actions if _squash(r["decision_text"])[:40] in _squash(d.text)), None)
        if match is not None:
            ext_actions.remove(match)
            counts["action"]["tp"] += 1
            total["action_owner"] += 1
            owner = re.search(r"owner ([\w' -]+)", r.get("note") or "")
            if owner and _norm(owner[1]) == _norm(match.action_owner):
                hits["action_owner"] += 1
        else:
            counts["action"]["fn"] += 1
            problems.append({"file": key[0], "item": r["item"], "problem": "missed action",
                             "gold": r["decision_text"]})
    for d in ext_actions:
        counts["action"]["fp"] += 1
        problems.append({"file": key[0], "item": rows[0]["item"], "problem": "action not in sample",
                         "extracted": d.text[:120]})


def _precision_recall(c: dict) -> dict:
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else None
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else None
    return {**c, "precision": _round(p), "recall": _round(r)}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _compare(gold: dict, d, hits: dict, total: dict, problems: list) -> None:
    def check(name: str, ok: bool, expected, got) -> None:
        total[name] += 1
        if ok:
            hits[name] += 1
        else:
            problems.append({"file": gold["file"], "item": gold["item"], "problem": f"{name} differs",
                             "gold": expected, "extracted": got})

    check("outcome", d.outcome == gold["outcome"], gold["outcome"], d.outcome)
    for name in ("mover", "seconder"):
        got = getattr(d, name) or None
        check(name, got == gold[name], gold[name], got)
        if gold[name] is not None:
            total[f"{name}_when_recorded"] += 1
            hits[f"{name}_when_recorded"] += int(got == gold[name])
    got_votes = [d.ayes, d.noes, d.abstentions, d.absent]
    gold_votes = [gold["ayes"], gold["noes"], gold["abstentions"], gold["absent"]]
    check("votes", got_votes == gold_votes, gold_votes, got_votes)
    if any(v is not None for v in gold_votes):
        total["votes_when_recorded"] += 1
        hits["votes_when_recorded"] += int(got_votes == gold_votes)
    if gold.get("decision_text"):
        check("text_verbatim", _squash(gold["decision_text"]) in _squash(d.text), gold["decision_text"], d.text[:120])


def gold_paths(gold: list[dict], alameda: Path, corpus: Path) -> list[Path]:
    paths = []
    for name in sorted({row["file"] for row in gold}):
        path = (corpus / name) if (corpus / name).exists() else alameda / name
        if not path.exists():
            raise SystemExit(f"cannot find {name} in {corpus} or {alameda}")
        paths.append(path)
    return paths


def measure(gold_file: Path, alameda: Path = ALAMEDA, corpus: Path = CORPUS, index_dir: Path | None = None,
            embedder=None) -> dict:
    set_offline_environment()
    gold = load_gold(gold_file)
    paths = gold_paths(gold, alameda, corpus)
    with tempfile.TemporaryDirectory(prefix="decisions-quality-") as tmp:
        settings = Settings(index_dir=index_dir or Path(tmp))
        index = MinutesIndex.open(settings, embedder=embedder)
        started = time.perf_counter()
        ingest(index, [str(p) for p in paths], hooks=decision_hooks(index), workers=0)
        register = DecisionRegister.of(index)
        result = evaluate(gold, register.all())
        result["files"] = [p.name for p in paths]
        result["decisions_extracted"] = register.count()
        result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def summary(result: dict) -> str:
    h, i, a, f = result["has_decision"], result["item_decisions"], result["actions"], result["fields"]

    def rate(name: str) -> str:
        r = f[name]
        return f"{r['rate']:.3f} ({r['correct']}/{r['of']})" if r["of"] else "n/a"

    return "\n".join([
        f"Decision extraction, {result['annotated_rows']} annotated rows ({result['annotated_items']} items) "
        f"in {len(result.get('files', []))} files:",
        f"  has decision:   precision {h['precision']}, recall {h['recall']} (tp {h['tp']}, fp {h['fp']}, fn {h['fn']})",
        f"    item decisions: precision {i['precision']}, recall {i['recall']}; actions: precision {a['precision']}, "
        f"recall {a['recall']}",
        f"  on matched items: outcome {rate('outcome')}; mover {rate('mover')}; seconder {rate('seconder')}; "
        f"vote counts {rate('votes')}; decision text verbatim {rate('text_verbatim')}",
        f"  not judged (outside numbered items): {result['not_judged']['count']}\n"
        f"  where the sample records them: mover {rate('mover_when_recorded')}; seconder "
        f"{rate('seconder_when_recorded')}; vote counts {rate('votes_when_recorded')}; action owner {rate('action_owner')}",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.decisions.quality", description=__doc__.split("\n\n")[0])
    parser.add_argument("gold", nargs="*", default=[str(EVAL / "decisions_gold.jsonl")],
                        help="annotated samples (JSONL); several are measured one by one and together")
    parser.add_argument("--out", default=str(EVAL / "reports" / "decisions_quality.json"), help="JSON report")
    parser.add_argument("--alameda", default=str(ALAMEDA), help="folder of the Alameda PDFs")
    parser.add_argument("--corpus", default=str(CORPUS), help="folder of the bundled files")
    parser.add_argument("--problems", action="store_true", help="print every disagreement")
    args = parser.parse_args(argv)
    results = {}
    for gold in args.gold:
        results[gold] = measure(Path(gold), Path(args.alameda), Path(args.corpus))
    if len(results) > 1:
        combined = Path(tempfile.mkstemp(suffix=".jsonl")[1])
        combined.write_text("".join(Path(g).read_text(encoding="utf-8") for g in args.gold), encoding="utf-8")
        results["all"] = measure(combined, Path(args.alameda), Path(args.corpus))
        combined.unlink()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = next(iter(results.values())) if len(results) == 1 else results
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for name, result in results.items():
        if len(results) > 1:
            print(f"== {name}")
        print(summary(result))
        if args.problems:
            for p in result["problems"]:
                print("  - " + json.dumps(p, ensure_ascii=False))
    print(f"Report written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
