"""A cited-answer assistant over council minutes."""

__version__ = "0.1.0"
