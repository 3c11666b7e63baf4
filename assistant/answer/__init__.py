"""Turning retrieved passages into a cited answer: extractive by default, an LLM on request."""
