"""The one exception type the CLI prints as a single line: a problem the user can act on."""


class MarketsyncError(Exception):
    """A failure worded for the user. Its message never contains secret material. `transient`: worth
    another try later (a network error, 429, 5xx); False for a problem someone must fix first
    (configuration, credentials, a refusal). Subclasses that can be either say which per instance."""

    transient = False


def first_line(value: object, limit: int = 300) -> str:
    """The first line of a message from elsewhere (an API's error text), cut to `limit` characters: what
    an error of ours quotes of it."""
    lines = str(value).strip().splitlines()
    return lines[0][:limit] if lines else ""
