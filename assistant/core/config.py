"""One Settings object, built once at the edge (CLI, app) and passed in."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Bumped whenever chunking changes, so a new index is built instead of mixing chunk kinds.
CHUNKING_VERSION = "s5"


class Settings(BaseSettings):
    """Every setting can come from the environment with the MINUTES_ prefix."""

    model_config = SettingsConfigDict(env_prefix="MINUTES_", extra="ignore")

    index_dir: Path = Field(PROJECT_ROOT / "index", description="where the index lives")
    chroma_url: str = Field("", description="a Chroma server URL; empty means embedded")
    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="the bundled minutes")

    embedding_model: str = Field("all-MiniLM-L6-v2", description="name recorded in the index")
    embedding_model_path: str = Field("", description="a local model folder; empty: the packaged one")
    embedding_backend: str = Field(
        "auto", description="onnx-int8 (the int8 ONNX export made at set-up, ONNX Runtime), torch (fp32), "
        "or auto: onnx-int8 when the export is there, else torch. Part of the index's identity")
    embed_threads: int = Field(0, description="threads of the onnx-int8 backend; 0: one less than the cores, at least 1")
    embedding_onnx_dir: str = Field("", description="folder of the int8 ONNX export; empty: the one set-up makes in the venv")
    embed_batch_size: int = 64
    embed_max_tokens: int = Field(
        128, description="word pieces of each chunk (header first) that the dense model reads; BM25 reads all"
    )
    chunk_tokens: int = Field(220, description="word pieces of minutes text per chunk, header aside")
    chunker: str = Field("structure", description="structure, or naive (1000/200 characters)")
    detect_exempt: bool = Field(True, description="mark items restricted from the minutes' own wording (the "
                                "press and public excluded, closed session); false: only the manifest marks them")

    # Retrieval
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

    # Answers
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

    # Chat
    host: str = "127.0.0.1"
    port: int = 7860
    auth_user: str = ""
    auth_password: str = ""
    auth_level: str = Field("public", description="access level of the MINUTES_AUTH_USER login: public or officer")
    users_file: str = Field("", description="JSON file of chat logins and API users with their access levels")
    access_level: str = Field("public", description="what the command line shows: public, or officer (exempt items too)")
    max_upload_mb: int = 25
    concurrency: int = 2
    ingest_lock_wait: float = Field(20.0, description="seconds an upload waits for another ingest on the index to finish")

    # ModernGov sync (`minutes sync moderngov URL`): polite by default, one request at a time
    moderngov_delay: float = Field(1.0, description="seconds between two requests to a council's service")
    moderngov_timeout: float = Field(30.0, description="seconds to wait for an answer before trying again")
    moderngov_retries: int = Field(3, description="tries again after a timeout, a lost connection, a 5xx or a 429")
    moderngov_backoff: float = Field(2.0, description="seconds before the first retry; doubles with each one")
    moderngov_settle_days: int = Field(
        60, description="a meeting fetched this many days after it was held is settled: not fetched again"
    )
    moderngov_documents: str = Field(
        "minutes", description="linked documents to fetch: minutes (titles naming minutes), all, or none"
    )
    moderngov_max_document_mb: int = Field(50, description="a linked document larger than this is skipped")

