# The two commands: `make run` (set up, index the bundled corpus, start the chat)
# and `make test` (set up, run the whole test suite). CI runs `make test`.
SHELL := /bin/bash
VENV := .venv/bin

.PHONY: setup run test bench eval load clean

setup:
	@bash scripts/setup.sh

run: setup
	$(VENV)/minutes chat

test: setup
	$(VENV)/python -m pytest

bench: setup
	$(VENV)/python -m assistant.bench $(BENCH_ARGS)

ALAMEDA := ../shared/corpora/alameda-city-council

eval: setup
	$(VENV)/minutes --index index/alameda ingest $(ALAMEDA)
	$(VENV)/minutes --index index/alameda eval eval/alameda.jsonl
	$(VENV)/minutes ingest corpus
	$(VENV)/minutes eval eval/seeds.jsonl

load: setup
	$(VENV)/python scripts/load_test.py --start

clean:
	rm -rf index/chroma index/*.sqlite* index/*.bm25 index/alameda index/uploads .pytest_cache test-artifacts
