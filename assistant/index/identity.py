"""What an index is named after: the embedding backend the settings resolve to (`auto` picks
int8 ONNX when the export is present), the model identity an index records with it, and the
collection name that encodes model, backend and chunking, so that changing any of them builds
a new collection instead of mixing kinds of vector. These were methods of `Settings`; they sit
here, beside the embedder whose backends they name, so the settings import nothing above them.
"""

from __future__ import annotations

from ..core.config import CHUNKING_VERSION, Settings
from .embedding import model_identity, resolve_backend


def resolved_backend(settings: Settings) -> str:
    return resolve_backend(settings.index.embedding_backend, settings.index.embedding_model_path, settings.index.embedding_onnx_dir)


def embedding_identity(settings: Settings, backend: str | None = None) -> str:
    """The model name an index records: with the backend, since int8 vectors differ from fp32 ones."""
    return model_identity(settings.index.embedding_model, backend or resolved_backend(settings))


def collection_name(settings: Settings, backend: str | None = None) -> str:
    """Encodes model, backend and chunking, so changing any builds a new collection
    (the torch backend keeps the name indexes had before backends were chosen)."""
    model = "".join(c if c.isalnum() else "-" for c in embedding_identity(settings, backend).lower())
    return f"minutes-{model}-{settings.index.embed_max_tokens}-{settings.index.chunker}-{CHUNKING_VERSION}"[:63]
