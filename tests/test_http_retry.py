"""Retry-After parsing and the tenacity wait that honours it (resources.http_retry)."""
import time
from email.utils import formatdate

import httpx
import pytest
from tenacity import RetryCallState

from marketsync.resources.errors import MarketsyncError
from marketsync.resources.http_retry import HttpCallError, retry_after_seconds, retrying, wait_honouring_retry_after


@pytest.mark.parametrize(("value", "expected"), [
    ("120", 120.0), (" 7 ", 7.0), ("0", 0.0), ("1.5", 1.5), ("-3", 0.0),
    ("", None), ("soon", None), ("nan", None), ("inf", None), ("Wed, 99 Foo 2015 07:28:00 GMT", None),
])
def test_delta_seconds_and_unreadable_values(value, expected):
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": value})) == expected


def test_http_date_counts_from_now_and_is_never_negative():
    assert 25 <= retry_after_seconds({"Retry-After": formatdate(time.time() + 30, usegmt=True)}) <= 30
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0


def test_absent_header_or_response():
    assert retry_after_seconds(None) is None
    assert retry_after_seconds(httpx.Response(503)) is None
    assert retry_after_seconds({"Content-Type": "text/plain"}) is None
    assert retry_after_seconds(httpx.Headers({"RETRY-AFTER": "4"})) == 4.0  # headers alone, any case


class _Failed(Exception):
    def __init__(self, retry_after=None, transient=True):
        super().__init__("failed")
        self.retry_after, self.transient = retry_after, transient


def _state(failure: BaseException, attempt: int = 1) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(failure), failure, None))
    return state


def test_wait_is_jittered_backoff_or_the_hint_whichever_is_longer_capped():
    wait = wait_honouring_retry_after(multiplier=0.01, max_wait=5.0)
    assert 0.0 <= wait(_state(_Failed())) <= 0.02
    assert wait(_state(_Failed(retry_after=2.0))) == 2.0
    assert wait(_state(_Failed(retry_after=600.0))) == 5.0
    assert 0.0 <= wait(_state(ValueError("no hint"), attempt=3)) <= 0.08


def test_retrying_retries_only_transient_failures_of_its_type():
    calls = []

    def flaky(fail_with):
        calls.append(fail_with)
        if len(calls) < 3:
            raise fail_with
        return "ok"

    assert retrying(_Failed, 4, 0.001, 0.01)(flaky, _Failed()) == "ok" and len(calls) == 3
    calls.clear()
    with pytest.raises(_Failed):
        retrying(_Failed, 4, 0.001, 0.01)(flaky, _Failed(transient=False))
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(_Failed):
        retrying(_Failed, 2, 0.001, 0.01)(flaky, _Failed(retry_after=0.0))
    assert len(calls) == 2
    calls.clear()
    with pytest.raises(KeyError):
        retrying(_Failed, 4, 0.001, 0.01)(flaky, KeyError("other"))
    assert len(calls) == 1


def test_http_call_error_is_transient_by_kind():
    class Failed(HttpCallError):
        TRANSIENT = frozenset({"server"})

    assert Failed("down", "server", 3.0).transient and Failed("down", "server", 3.0).retry_after == 3.0
    assert not Failed("no", "rejected").transient and Failed("no", "rejected").retry_after is None
    assert isinstance(Failed("no", "rejected"), MarketsyncError) and str(Failed("no", "rejected")) == "no"
