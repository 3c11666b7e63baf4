"""The optional manifest of a folder of minutes: what is known about each file.

`manifest.json` beside the files: {"files": {"NAME": {"council": ..., "committee": ...,
"date": "YYYY-MM-DD", "item": ..., "title": ..., "url": ..., "licence": ..., "attribution": ...,
"restricted": true, "access": "public" | "restricted", "restricted_items": ["12", ...]}}}.
Fields that are not known are left out or null; they never override with a guess.
`restricted: true` (written by `minutes sync moderngov` from the service's `isrestricted`) and
`access: restricted` both mark a file as exempt (Part II) business.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from ..core.errors import MinutesError

MANIFEST_NAME = "manifest.json"
KNOWN_FIELDS = ("council", "committee", "date", "item", "title", "url", "licence", "attribution", "restricted",
                "access", "restricted_items", "published")  # access: public | restricted; restricted_items: item
# numbers; published: the day the file was published (the meeting was no later)


@lru_cache(maxsize=64)
def _load(folder: Path, mtime: float) -> dict:
    try:
        data = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise MinutesError(f"cannot read {folder / MANIFEST_NAME}: {exc}") from exc
    return data.get("files", {})


def manifest_entry(path: Path) -> dict:
    """What the manifest beside `path` says about it ({} when there is none)."""
    manifest = path.parent / MANIFEST_NAME
    if not manifest.exists():
        return {}
    entry = _load(path.parent.resolve(), manifest.stat().st_mtime).get(path.name, {})
    return {key: entry[key] for key in KNOWN_FIELDS if entry.get(key)}
