"""Decisions as records (placeholder until the decisions register lands)."""


def decision_hooks(index):
    return ()
