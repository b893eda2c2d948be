"""The one exception type the CLI prints as a single line: a problem the user can act on."""


class MarketsyncError(Exception):
    """A failure worded for the user. Its message never contains secret material."""
