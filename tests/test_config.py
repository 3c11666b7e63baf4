"""The settings: groups that refuse what they do not know, the documented MINUTES_ variables
still honoured, and no default that depends on where the checkout sits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from assistant.core.config import ALAMEDA_DIR, FLAT, GROUPS, TOP_LEVEL, Settings, env_name
from conftest import ALAMEDA, ROOT

# Where the MINUTES_ variables are documented or used: the README, the Makefile, CI, set-up, scripts, tests, code.
DOCUMENTS = [ROOT / "README.md", ROOT / "Makefile", ROOT / ".ci" / "run", ROOT / "scripts" / "setup.sh",
             *sorted((ROOT / "scripts").glob("*.py")), *sorted((ROOT / "tests").glob("*.py")),
             *sorted((ROOT / "assistant").rglob("*.py"))]
NOT_VARIABLES = {"MINUTES_WORD", "MINUTES_CONTENT_WORDS"}  # Python names that happen to start so


def _documented_variables() -> set[str]:
    found: set[str] = set()
    for path in DOCUMENTS:
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"\bMINUTES_[A-Z][A-Z_]*[A-Z]\b", text):
            found.add(match.group(0))
        # the README's table shortens a run of variables: `MINUTES_MODERNGOV_DELAY` / `_TIMEOUT` / `_RETRIES`
        for row in re.finditer(r"`(MINUTES_[A-Z_]+)`((?:\s*/\s*`_[A-Z_]+`)+)", text):
            stem = row.group(1).rsplit("_", 1)[0]
            for tail in re.findall(r"`(_[A-Z_]+)`", row.group(2)):
                found.add(stem + tail)
    return found - NOT_VARIABLES - {"MINUTES_AUTH"}  # `MINUTES_AUTH_*` in a help text


def _sample(value):
    """A value of the field's type other than its default, as the environment would spell it."""
    if isinstance(value, bool):
        return str(not value).lower(), (not value)
    if isinstance(value, int):
        return str(value + 3), value + 3
    if isinstance(value, float):
        return str(value + 0.25), value + 0.25
    if isinstance(value, Path):
        return "/srv/minutes/elsewhere", Path("/srv/minutes/elsewhere")
    return "something-else", "something-else"


@pytest.fixture
def clean_env(monkeypatch):
    import os

    for key in list(os.environ):
        if key.upper().startswith("MINUTES_"):
            monkeypatch.delenv(key)
    return monkeypatch


def test_every_documented_variable_is_a_setting():
    documented = _documented_variables()
    assert "MINUTES_INDEX_DIR" in documented and "MINUTES_MODERNGOV_TIMEOUT" in documented
    known = {env_name(*place) for place in FLAT.values()} | {env_name(name) for name in TOP_LEVEL}
    assert documented <= known, f"documented but not read: {sorted(documented - known)}"


@pytest.mark.parametrize("flat", sorted([*FLAT, *TOP_LEVEL]))
def test_each_flat_variable_sets_its_field(clean_env, flat):
    group, name = FLAT.get(flat, (None, flat))
    default = getattr(getattr(Settings(), group), name) if group else getattr(Settings(), name)
    raw, expected = _sample(default)
    clean_env.setenv("MINUTES_" + flat.upper(), raw)
    settings = Settings()
    assert (getattr(getattr(settings, group), name) if group else getattr(settings, name)) == expected
    assert settings.flat()[flat] == expected


def test_documented_variables_reach_their_groups(clean_env):
    clean_env.setenv("MINUTES_INDEX_DIR", "/srv/minutes/index")
    clean_env.setenv("MINUTES_TOP_K", "4")
    clean_env.setenv("MINUTES_ANSWER_MODE", "llm")
    clean_env.setenv("MINUTES_PORT", "7999")
    clean_env.setenv("MINUTES_MODERNGOV_DELAY", "0.5")
    clean_env.setenv("minutes_detect_exempt", "false")  # any case, as before
    settings = Settings()
    assert settings.index.index_dir == Path("/srv/minutes/index")
    assert settings.retrieval.top_k == 4
    assert settings.answer.answer_mode == "llm"
    assert settings.chat.port == 7999
    assert settings.moderngov.delay == 0.5
    assert settings.index.detect_exempt is False
    # an argument wins over the environment, as it did
    assert Settings(top_k=2, index_dir="/tmp/i").retrieval.top_k == 2
    assert Settings(retrieval={"candidates": 9}).retrieval.top_k == 4


def test_unknown_settings_are_refused_by_name(clean_env):
    with pytest.raises(ValidationError, match=r"unknown setting 'top_kk': did you mean 'top_k'\?"):
        Settings(top_kk=3)
    with pytest.raises(ValidationError, match=r"unknown RetrievalSettings setting 'topk': did you mean 'top_k'\?"):
        Settings(retrieval={"topk": 3})
    with pytest.raises(ValueError, match=r"unknown setting 'answer_mod': did you mean 'answer_mode'\?"):
        Settings().model_copy(update={"answer_mod": "llm"})
    with pytest.raises(ValueError, match=r"unknown AnswerSettings setting 'mode'"):
        Settings().model_copy(update={"answer": {"mode": "llm"}})
    for group in GROUPS.values():
        assert group.model_config["extra"] == "forbid"
        with pytest.raises(ValidationError, match="unknown"):
            group(no_such_setting=1)


def test_flat_and_grouped_spellings_agree(clean_env):
    flat = Settings(index_dir="/tmp/i", chunker="naive", moderngov_delay=0.1, answer_mode="llm")
    grouped = Settings(index={"index_dir": "/tmp/i", "chunker": "naive"}, moderngov={"delay": 0.1},
                       answer={"answer_mode": "llm"})
    assert flat == grouped
    copy = flat.model_copy(update={"answer_mode": "extractive", "top_k": 3, "moderngov_retries": 1})
    assert (copy.answer.answer_mode, copy.retrieval.top_k, copy.moderngov.retries) == ("extractive", 3, 1)
    assert (flat.answer.answer_mode, flat.retrieval.top_k, flat.moderngov.retries) == ("llm", 10, 3)  # untouched
    assert copy.index == flat.index


def test_no_default_depends_on_the_checkout(clean_env):
    checkout = str(ROOT.resolve())

    def strings(value):
        if isinstance(value, BaseModel):
            for field in type(value).model_fields:
                yield from strings(getattr(value, field))
        else:
            yield value

    values = list(strings(Settings()))
    assert not [v for v in values if checkout in str(v)]
    assert all(not v.is_absolute() for v in values if isinstance(v, Path))
    assert Settings().index.index_dir == Path("index") and Settings().chat.corpus_dir == Path("corpus")
    # the Alameda corpus is named once, beside the checkout; tests join it to the checkout's root
    assert not ALAMEDA_DIR.is_absolute() and ALAMEDA == (ROOT / ALAMEDA_DIR).resolve()
