"""How an asset fails on a worded error: the run fails with the error's words as the step's description
(what the failure alert quotes), and Dagster's retry policy runs only when another try could help."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import Failure

from marketsync.resources.errors import MarketsyncError
from marketsync.resources.scrubbing import process_scrubber

# The failing client's classification of the error (HttpCallError.kind: "auth", "reauthorize", "server",
# ...), kept on the Failure so the failure sensor can tell a revoked credential from an outage.
ERROR_KIND = "marketsync/error_kind"
# Kinds that mean the store's credentials no longer work: a person must authorise again.
CREDENTIAL_KINDS = frozenset({"auth", "reauthorize"})


@contextmanager
def worded_failure() -> Iterator[None]:
    """Turns a MarketsyncError into a Dagster Failure that retries only when the error is transient (a
    network error, 429, 5xx). A missing client, refused credentials or a bad setting fail the same way on
    every try, so they fail at once and the alert reaches a person without three retries' delay."""
    try:
        yield
    except MarketsyncError as exc:
        kind = getattr(exc, "kind", None)
        # The process's own secrets never reach the event log, whatever input the message quotes.
        raise Failure(description=process_scrubber().scrub(str(exc)), allow_retries=exc.transient,
                      metadata={ERROR_KIND: kind} if isinstance(kind, str) else None) from None
