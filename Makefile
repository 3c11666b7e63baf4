# The two commands: `make run` (set up what the chat needs, index the bundled corpus, start
# the chat) and `make test` (set up everything, run the whole test suite). CI runs `make test`.
# `make llm` sets up the local LLM (llama.cpp build and model), which `make run` leaves out.
SHELL := /bin/bash
VENV := .venv/bin

.PHONY: setup llm run test bench eval load clean

setup:
	@bash scripts/setup.sh base

llm:
	@bash scripts/setup.sh llm

run: setup
	$(VENV)/minutes chat

test:
	@bash scripts/setup.sh llm dev
	$(VENV)/python -m pytest

bench:
	@bash scripts/setup.sh bench
	$(VENV)/python -m assistant.app.bench $(BENCH_ARGS)

CORPORA := ../shared/corpora
ALAMEDA := $(CORPORA)/alameda-city-council
NORFOLK := $(CORPORA)/norfolk-parish-councils
SETS := eval/seeds.jsonl eval/alameda.jsonl eval/norfolk.jsonl

# One index holding all three families of minutes, as a real index would: each set's
# questions meet the other sets' minutes as distractors. Incremental: a second run embeds nothing.
eval: setup
	$(VENV)/minutes --index index/all ingest corpus $(NORFOLK) $(ALAMEDA)
	$(VENV)/minutes --index index/all eval $(SETS)
	$(VENV)/minutes --index index/all eval --calibrate $(SETS)

load: setup
	$(VENV)/python scripts/load_test.py --start

clean:
	rm -rf index/chroma index/*.sqlite* index/*.bm25 index/*.vectors.* index/alameda index/all index/uploads .pytest_cache test-artifacts
