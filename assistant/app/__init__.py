"""What a person runs: the `minutes` command line, the web UI, the evaluation of question
sets and the side-by-side benchmark. The only layer that wires the others together (it
builds the index, the ingest hooks and the answer service and passes each what it needs).
"""
