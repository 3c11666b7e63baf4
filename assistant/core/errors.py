"""The one exception type meant for users: the CLI and the app print it without a traceback."""


class MinutesError(Exception):
    """A problem the user can act on, said plainly."""


class SkipFile(MinutesError):
    """A file that cannot be ingested, with the reason."""
