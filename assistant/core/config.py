"""One Settings object, built once at the edge (CLI, app) and passed in.

The settings come in groups, one per stage that reads them: `settings.index`, `.retrieval`,
`.answer`, `.chat` and `.moderngov`, plus `access_level`. Each group refuses a field it does
not know, so a misspelt setting is an error instead of a silent default.

Every setting keeps one flat name, the one the README documents: `MINUTES_TOP_K` in the
environment, `Settings(top_k=5)` and `settings.model_copy(update={"top_k": 5})` in code; the
flat name is the field's name in its group (`retrieval.top_k`), except the ModernGov group,
whose fields drop the `moderngov_` prefix (`MINUTES_MODERNGOV_DELAY` is `moderngov.delay`).
A group can also be given whole: `Settings(retrieval={"top_k": 5})`.

No default depends on where the checkout sits: paths are relative to the working directory
(the checkout's root for `make`, `pytest` and the scripts), or given explicitly.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX = "MINUTES_"

# Bumped whenever chunking changes, so a new index is built instead of mixing chunk kinds.
CHUNKING_VERSION = "s8"  # s7: PDF text read by PDFium; s8: a file's publication date kept with its chunks

# The shared corpora beside the checkout, as the Makefile's CORPORA: relative to the working
# directory; tests and scripts that know the checkout join it to its root (`ROOT / ALAMEDA_DIR`).
SHARED_CORPORA = Path("../shared/corpora")
ALAMEDA_DIR = SHARED_CORPORA / "alameda-city-council"
NORFOLK_DIR = SHARED_CORPORA / "norfolk-parish-councils"


def _unknown(kind: str, name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown {kind} {name!r}: {hint}known: {', '.join(sorted(known))}"


class _Group(BaseModel):
    """A group of settings; a field it does not know is refused, naming the ones it has."""

    model_config = ConfigDict(extra="forbid")
    flat_prefix: ClassVar[str] = ""  # what a field's flat name adds before its name

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if key not in cls.model_fields:
                    raise ValueError(_unknown(f"{cls.__name__} setting", str(key), list(cls.model_fields)))
        return data


class IndexSettings(_Group):
    """Where the index is and how chunks are made and embedded: what an index is built with."""

    index_dir: Path = Field(Path("index"), description="where the index lives; relative to the working directory")
    chroma_url: str = Field("", description="a Chroma server URL; empty means embedded")
    embedding_model: str = Field("all-MiniLM-L6-v2", description="name recorded in the index")
    embedding_model_path: str = Field("", description="a local model folder; empty: the packaged one")
    embedding_backend: str = Field(
        "auto", description="torch-bf16 (bfloat16, for CPUs with bf16 in hardware), onnx-int8 (the int8 ONNX "
        "export made at set-up, ONNX Runtime), torch (fp32), or auto: torch-bf16 on a CPU with bf16 in "
        "hardware, else onnx-int8 when the export is there, else torch. Part of the index's identity")
    embed_threads: int = Field(0, description="onnx-int8: threads per text (0: one; texts run side by side on "
                               "the cores left); torch-bf16: torch's threads per batch (0: one; batches side by side on the cores)")
    embedding_onnx_dir: str = Field("", description="folder of the int8 ONNX export; empty: the one set-up makes in the venv")
    embed_batch_size: int = 64
    embed_max_tokens: int = Field(
        128, description="word pieces of each chunk (header first) that the dense model reads; BM25 reads all"
    )
    chunk_tokens: int = Field(220, description="word pieces of minutes text per chunk, header aside")
    chunker: str = Field("structure", description="structure, or naive (1000/200 characters)")
    detect_exempt: bool = Field(True, description="mark items restricted from the minutes' own wording (the "
                                "press and public excluded, closed session); false: only the manifest marks them")


class RetrievalSettings(_Group):
    """How passages are found for a question and put in order."""

    top_k: int = 10
    coverage_rerank: float = Field(1.0, description="weight of the question's topic words in a passage when "
                                   "the search's passages are put in order (0: fused rank only)")
    candidates: int = Field(40, description="hits taken from each retriever before fusion")
    rrf_k: int = 60
    # Measured with `minutes eval`: on the Alameda set BM25 alone beats dense alone (recall@5
    # 0.85 against 0.68), and halving the dense vote in the fusion lifts hybrid MRR from 0.69 to
    # 0.73 (seeds: 0.92 to 0.95) while keeping hybrid's better answers.
    dense_weight: float = 0.5
    lexical_weight: float = 1.0
    retrieval_mode: str = Field("hybrid", description="hybrid, dense or lexical")


class AnswerSettings(_Group):
    """How an answer is written from the passages: quotes or an LLM, and when to refuse."""

    answer_mode: str = Field("extractive", description="extractive or llm")
    llm_provider: str = Field("llamacpp", description="llamacpp, ollama or openai")
    llm_model: str = Field("", description="GGUF path, Ollama model or OpenAI-compatible model name")
    llm_base_url: str = ""
    llm_api_key_env: str = Field("OPENAI_API_KEY", description="environment variable holding the key")
    llm_max_tokens: int = 160
    llm_temperature: float = 0.0
    llm_threads: int = 2
    llm_context: int = 2048
    refusal_threshold: float = Field(0.66, description="minimum relevance to answer (calibrated with `minutes eval --calibrate`)")
    max_quotes: int = 3


class ChatSettings(_Group):
    """The chat app: its address, logins, uploads and load."""

    host: str = "127.0.0.1"
    port: int = 7860
    auth_user: str = ""
    auth_password: str = ""
    auth_level: str = Field("public", description="access level of the MINUTES_AUTH_USER login: public or officer")
    users_file: str = Field("", description="JSON file of chat logins and API users with their access levels")
    max_upload_mb: int = 25
    concurrency: int = 2
    ingest_lock_wait: float = Field(20.0, description="seconds an upload waits for another ingest on the index to finish")
    corpus_dir: Path = Field(Path("corpus"), description="the bundled minutes, ingested when the chat starts on an "
                             "empty index; relative to the working directory")


class ModernGovSettings(_Group):
    """`minutes sync moderngov URL`: polite by default, one request at a time."""

    flat_prefix: ClassVar[str] = "moderngov_"

    delay: float = Field(1.0, description="seconds between two requests to a council's service")
    timeout: float = Field(30.0, description="seconds to wait for an answer before trying again")
    retries: int = Field(3, description="tries again after a timeout, a lost connection, a 5xx or a 429")
    backoff: float = Field(2.0, description="seconds before the first retry; doubles with each one")
    settle_days: int = Field(
        60, description="a meeting fetched this many days after it was held is settled: not fetched again"
    )
    documents: str = Field(
        "minutes", description="linked documents to fetch: minutes (titles naming minutes), all, or none"
    )
    max_document_mb: int = Field(50, description="a linked document larger than this is skipped")


GROUPS: dict[str, type[_Group]] = {
    "index": IndexSettings,
    "retrieval": RetrievalSettings,
    "answer": AnswerSettings,
    "chat": ChatSettings,
    "moderngov": ModernGovSettings,
}

# flat name -> (group, field): `top_k` -> ("retrieval", "top_k"), `moderngov_delay` -> ("moderngov", "delay")
FLAT: dict[str, tuple[str, str]] = {
    group.flat_prefix + name: (group_name, name)
    for group_name, group in GROUPS.items() for name in group.model_fields
}
TOP_LEVEL = ("access_level",)


def env_name(*loc: Any) -> str:
    """The environment variable of a setting given where it sits: ("chat", "port") -> MINUTES_PORT."""
    flat = next((f for f, place in FLAT.items() if place == tuple(loc[:2])), None)
    if flat is None and loc and loc[0] in TOP_LEVEL:
        flat = str(loc[0])
    return ENV_PREFIX + flat.upper() if flat else ""


def _nest(values: dict[str, Any]) -> dict[str, Any]:
    """Flat names moved into their groups; a flat name wins over the same field given in its group."""
    nested: dict[str, Any] = {}
    for key, value in values.items():
        if key in FLAT:
            continue
        if key in GROUPS and isinstance(value, BaseModel):
            value = value.model_dump(exclude_unset=True)
        if key in GROUPS and isinstance(value, dict):
            nested[key] = {**nested.get(key, {}), **value}
        else:
            nested[key] = value
    for key, value in values.items():
        if key in FLAT:
            group, name = FLAT[key]
            nested.setdefault(group, {})
            nested[group] = {**nested[group], name: value}
    return nested


class FlatEnvSource(PydanticBaseSettingsSource):
    """`MINUTES_<FLAT NAME>` variables (any case), the ones the README documents, into their groups."""

    def get_field_value(self, field, field_name):  # required by the base class; __call__ does the work
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        env = {key.upper(): value for key, value in os.environ.items() if key.upper().startswith(ENV_PREFIX)}
        found: dict[str, Any] = {}
        for flat in (*FLAT, *TOP_LEVEL):
            value = env.get(ENV_PREFIX + flat.upper())
            if value is not None:
                found[flat] = value
        return _nest(found)


class Settings(BaseSettings):
    """Every setting, in its group; each can come from the environment as MINUTES_<FLAT NAME>."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    index: IndexSettings = Field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    moderngov: ModernGovSettings = Field(default_factory=ModernGovSettings)
    access_level: str = Field("public", description="what the command line shows: public, or officer (exempt items too)")

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        # Arguments first, then the flat MINUTES_ variables; a group is not read whole from one JSON variable.
        return init_settings, FlatEnvSource(settings_cls)

    @model_validator(mode="before")
    @classmethod
    def _flat_names(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        known = [*FLAT, *TOP_LEVEL, *GROUPS]
        for key in data:
            if key not in known:
                raise ValueError(_unknown("setting", str(key), known))
        return _nest(data)

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> "Settings":
        """A copy with some settings changed, named flat (`{"answer_mode": "llm"}`) or by group."""
        if not update:
            return super().model_copy(deep=deep)
        known = [*FLAT, *TOP_LEVEL, *GROUPS]
        for key in update:
            if key not in known:
                raise ValueError(_unknown("setting", str(key), known))
        changes: dict[str, Any] = {}
        for key, value in _nest(update).items():
            if key in GROUPS and isinstance(value, dict):
                for name in value:
                    if name not in GROUPS[key].model_fields:
                        raise ValueError(_unknown(f"{GROUPS[key].__name__} setting", name, list(GROUPS[key].model_fields)))
                value = getattr(self, key).model_copy(update=value, deep=deep)
            changes[key] = value
        return super().model_copy(update=changes, deep=deep)

    def flat(self) -> dict[str, Any]:
        """Every setting by its flat name, as the environment spells it (lower case)."""
        values = {flat: getattr(getattr(self, group), name) for flat, (group, name) in FLAT.items()}
        return {**values, **{name: getattr(self, name) for name in TOP_LEVEL}}
