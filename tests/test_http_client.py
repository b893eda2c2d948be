"""The one HTTP plumbing (resources.http_client) and the one OAuth token manager (resources.oauth), against
a small HTTP server started on loopback for each test: Retry-After honoured with a capped wait, capped
retries, the size cap, paging that does not advance, failures below HTTP worded as the client's error,
refresh before expiry, exactly one refresh on 401, and single-use refresh tokens rotated and stored
(in memory, and in the vault under the row lock)."""
from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from marketsync.resources.http_client import HttpClient, transport_failure
from marketsync.resources.http_limits import AnswerTooLarge, Limits
from marketsync.resources.http_retry import HttpCallError, RetryPolicy, retry_after_seconds
from marketsync.resources.oauth import MemoryTokenStore, OAuthTokens, TokenSet, VaultTokenStore, issued, unauthorized
from marketsync.resources.scrubbing import SecretScrubber


class ServiceError(HttpCallError):
    """The error type of the test's client."""

    TRANSIENT = frozenset({"rate_limited", "server", "unreachable"})

    def __init__(self, message, kind, retry_after=None, *, status=None, outcome_unknown=False):
        super().__init__(message, kind, retry_after)
        self.status, self.outcome_unknown = status, outcome_unknown


def status_error(response: httpx.Response, what: str) -> ServiceError:
    """The test client's error mapping."""
    code = response.status_code
    kind = "rate_limited" if code == 429 else "server" if code >= 500 else "auth" if code == 401 else "rejected"
    return ServiceError(f"the service answered {what} with HTTP {code}", kind, retry_after_seconds(response),
                        status=code)


Answer = tuple[int, dict[str, str], bytes]


class Service:
    """An HTTP server on 127.0.0.1 whose answers come from `handle(method, path, query, form, headers)`:
    (status, headers, body), or None to drop the connection without an answer. `seen` lists the requests."""

    def __init__(self, handle: Callable[..., Answer | None]):
        self.handle = handle
        self.seen: list[tuple[str, str, dict]] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode()) if length else {}
                service.seen.append((self.command, parts.path, dict(self.headers)))
                answer = service.handle(self.command, parts.path, parse_qs(parts.query), form, self.headers)
                if answer is None:
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                status, headers, body = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.handle_error = lambda *error: None  # a dropped connection is the point, not a fault
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> Service:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def _json(body: object, status: int = 200, **headers: str) -> Answer:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(body).encode()


def _client(service: Service, **options) -> HttpClient:
    options.setdefault("retry", RetryPolicy(attempts=4, backoff=0.001, max_wait=0.5))
    return HttpClient("the service", ServiceError, base_url=service.base_url, timeout=2.0,
                      status_error=status_error, lost={"outcome_unknown": True}, **options)


def _read(client: HttpClient, path: str = "/things") -> dict:
    return client.expect(client.send("GET", path, "the things"), "the things").json()


# ----------------------------------------------------------------------------------------- retries
@pytest.mark.integration
def test_retry_after_is_honoured_and_capped_and_retries_are_capped():
    answers = [_json({}, 503, **{"Retry-After": "0.3"}), _json({}, 429, **{"Retry-After": "3600"}), _json({"ok": 1})]
    with Service(lambda *request: answers.pop(0) if answers else _json({}, 500)) as service, \
            _client(service) as client:
        slept: list[float] = []
        assert client.retrying(_read, client, sleep=slept.append) == {"ok": 1}
        assert slept[0] >= 0.3 and slept[1] == 0.5  # the hint, then the hint capped at max_wait
        assert client.requests == 3
        with pytest.raises(ServiceError) as failed:  # always 500: four tries, then the last failure
            client.retrying(_read, client, sleep=slept.append)
        assert failed.value.kind == "server" and failed.value.transient and client.requests == 3 + 4
        started = time.monotonic()
        answers.extend([_json({}, 503, **{"Retry-After": "0.2"}), _json({"ok": 2})])
        assert client.retrying(_read, client) == {"ok": 2}  # really waited, on tenacity's own sleep
        assert time.monotonic() - started >= 0.2


@pytest.mark.integration
def test_a_refusal_is_not_retried_and_only_the_policys_kinds_are():
    with Service(lambda *request: _json({}, 400)) as service, _client(service) as client:
        with pytest.raises(ServiceError) as failed:
            client.retrying(_read, client)
        assert failed.value.kind == "rejected" and client.requests == 1
    with Service(lambda *request: _json({}, 429)) as service, \
            _client(service, retry=RetryPolicy(3, 0.001, 0.01, kinds=frozenset({"server"}))) as client:
        with pytest.raises(ServiceError):
            client.retrying(_read, client)
        assert client.requests == 1


# ----------------------------------------------------------------------------------------- size cap
@pytest.mark.integration
def test_an_answer_past_the_size_cap_is_refused_while_it_streams():
    big = b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    answers = {"/plain": (200, {}, big),
               "/gzip": (200, {"Content-Encoding": "gzip"}, gzip.compress(big)),  # 2 KiB that inflate past it
               "/small": (200, {}, b'{"x": 1}')}
    with Service(lambda method, path, *rest: answers[path]) as service, \
            _client(service, limits=Limits(max_answer_mib=1)) as client:
        for path in ("/plain", "/gzip"):
            with pytest.raises(ServiceError) as failed:
                client.retrying(_read, client, path)
            assert failed.value.kind == "too_large" and not failed.value.transient
            assert "the service's answer to the things" in str(failed.value) and "1.0 MiB cap" in str(failed.value)
        assert _read(client, "/small") == {"x": 1}
        assert client.requests == 3  # never retried


# ----------------------------------------------------------------------------------------- paging
def _list(cursors: dict[str | None, str | None]) -> Callable[..., Answer]:
    """A paged list on the server: the page asked for by `?cursor=` names the next one."""
    return lambda method, path, query, *rest: _json({"next": cursors[query.get("cursor", [None])[0]]})


def _pages(client: HttpClient) -> list[int]:
    def fetch(cursor: str | None, number: int) -> dict:
        return {"number": number, **_read(client, "/list" + (f"?cursor={cursor}" if cursor else ""))}

    return [page["number"] for page in client.pages("the list", fetch, lambda page: page["next"])]


@pytest.mark.integration
def test_paging_that_does_not_advance_stops_and_so_do_page_and_time_caps():
    with Service(_list({None: "a", "a": "b", "b": None})) as service, _client(service) as client:
        assert _pages(client) == [1, 2, 3]
    with Service(_list({None: "a", "a": "b", "b": "a"})) as service, _client(service) as client:
        with pytest.raises(ServiceError) as failed:  # "b" answers "a" again: it would never end
            _pages(client)
        assert failed.value.kind == "paging_stuck" and failed.value.transient and "would never end" in str(failed.value)
        assert client.requests == 3  # stopped before asking for "a" twice
    with Service(_list({None: "a", "a": "b", "b": None})) as service, \
            _client(service, limits=Limits(max_pages=2)) as client:
        with pytest.raises(ServiceError) as failed:
            _pages(client)
        assert failed.value.kind == "too_many_pages" and not failed.value.transient
    with Service(_list({None: None})) as service, _client(service, limits=Limits(deadline_seconds=-1)) as client:
        with pytest.raises(ServiceError) as failed:
            _pages(client)
        assert failed.value.kind == "deadline" and failed.value.transient and client.requests == 0


@pytest.mark.integration
def test_following_runs_once_the_caller_is_done_with_a_page():
    events: list[str] = []
    with Service(lambda *request: _json({})) as service, _client(service) as client:
        def fetch(cursor, number):
            events.append(f"fetch {number}")
            return number

        def following(number):
            events.append(f"following {number}")
            return number + 1 if number < 2 else None

        for number in client.pages("the list", fetch, following):
            events.append(f"used {number}")
    assert events == ["fetch 1", "used 1", "following 1", "fetch 2", "used 2", "following 2"]


# ----------------------------------------------------------------------------------------- below HTTP
@pytest.mark.integration
def test_failures_below_http_become_the_clients_error_scrubbed():
    secret = "s3cret/Value+1"
    with Service(lambda *request: None) as service, \
            _client(service, scrubber=SecretScrubber(secret), retry=RetryPolicy(2, 0.001, 0.01)) as client:
        with pytest.raises(ServiceError) as failed:  # the request arrived, the answer was lost
            client.retrying(lambda: client.send("GET", f"/x?key={secret}", f"the read with {secret}"))
        error = failed.value
        assert error.kind == "unreachable" and error.outcome_unknown and client.requests == 2
        assert str(error).startswith("no complete answer from the service on the read with ***")
        assert secret not in str(error)
        port = service.base_url.rsplit(":", 1)[1]
    with HttpClient("the service", ServiceError, timeout=1.0) as client:  # nothing listens there any more
        with pytest.raises(ServiceError) as failed:
            client.send("GET", f"http://127.0.0.1:{port}/", "the read")
        assert failed.value.kind == "unreachable" and not failed.value.outcome_unknown
        assert str(failed.value) == "the service is unreachable on the read (ConnectError)"


def test_transport_failures_are_classified_once():
    request = httpx.Request("GET", "http://127.0.0.1/")
    assert transport_failure(AnswerTooLarge(10)) == "too_large"
    assert transport_failure(httpx.DecodingError("bad gzip")) == "decoding"
    assert transport_failure(httpx.ConnectTimeout("slow", request=request)) == "connect_timeout"
    assert transport_failure(httpx.ReadTimeout("slow", request=request)) == "timeout"
    assert transport_failure(httpx.ConnectError("[Errno 111] Connection refused")) == "refused"
    assert transport_failure(httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] nope")) == "tls"
    assert transport_failure(httpx.ConnectError("[Errno -2] Name or service not known")) == "unresolved"
    assert transport_failure(httpx.ConnectError("no route")) == "unreachable"
    assert transport_failure(httpx.RemoteProtocolError("closed")) == "broken"
    assert transport_failure(httpx.UnsupportedProtocol("gopher")) == "unsupported"
    assert transport_failure(httpx.TooManyRedirects("loop", request=request)) == "redirects"


# ----------------------------------------------------------------------------------------- OAuth
class Provider:
    """A token endpoint with single-use refresh tokens (a spent one is refused with invalid_grant) and an
    API that accepts the access tokens it issued until they expire, or none (`refuse_all`)."""

    def __init__(self, lifetime: float = 3600.0):
        self.lifetime = lifetime
        self.live_refresh = "refresh-0"
        self.valid: dict[str, float] = {}  # access token -> when it expires
        self.token_calls = self.api_calls = 0
        self.refuse_all = False
        self.lock = threading.Lock()

    def __call__(self, method, path, query, form, headers) -> Answer:
        with self.lock:
            if path == "/token":
                self.token_calls += 1
                if form.get("refresh_token", [None])[0] != self.live_refresh:
                    return _json({"error": "invalid_grant"}, 400)
                self.live_refresh = f"refresh-{self.token_calls}"
                access = f"access-{self.token_calls}"
                self.valid[access] = time.time() + self.lifetime
                return _json({"access_token": access, "refresh_token": self.live_refresh,
                              "expires_in": self.lifetime})
            self.api_calls += 1
            token = (headers.get("Authorization") or "").removeprefix("Bearer ")
            if self.refuse_all or self.valid.get(token, 0) < time.time():
                return _json({}, 401)
            return _json({"ok": True})


def _exchange(client: HttpClient, clock: Callable[[], float], margin: float = 60.0):
    def exchange(refresh_token: str | None) -> TokenSet:
        sent = clock()
        response = client.expect(client.send("POST", "/token", "the token refresh",
                                             data={"refresh_token": refresh_token or ""}), "the token refresh")
        body = response.json()
        return issued(body["access_token"], float(body["expires_in"]), sent, margin, body.get("refresh_token"))

    return exchange


def _authorised_read(client: HttpClient, tokens: OAuthTokens) -> dict:
    response = tokens.authorised(lambda token: client.send("GET", "/api", "the read",
                                                           headers={"Authorization": f"Bearer {token}"}),
                                 unauthorized)
    return client.expect(response, "the read").json()


@pytest.mark.integration
def test_the_token_is_refreshed_a_margin_before_it_expires():
    provider = Provider(lifetime=100.0)
    now = [1000.0]
    rotated: list[str] = []
    with Service(provider) as service, _client(service) as client:
        store = MemoryTokenStore("refresh-0", clock=lambda: now[0], on_rotate=rotated.append)
        tokens = OAuthTokens(_exchange(client, lambda: now[0], margin=30.0), store, remember=client.scrubber.add_token)
        assert _authorised_read(client, tokens) == {"ok": True} and provider.token_calls == 1
        now[0] += 69.0  # refresh_at = 1000 + 100 - 30: not yet
        assert _authorised_read(client, tokens) == {"ok": True} and provider.token_calls == 1
        now[0] += 2.0  # past the margin, before expiry: a new token first, and the API never refuses one
        assert _authorised_read(client, tokens) == {"ok": True} and provider.token_calls == 2
        assert provider.api_calls == 3
        assert rotated == ["refresh-1", "refresh-2"]  # every new refresh token handed on to be kept
        assert store.load().refresh_token == "refresh-2"
        assert client.scrubber.scrub("access-2 refresh-2") == "*** ***"


@pytest.mark.integration
def test_a_401_refreshes_exactly_once_then_fails():
    provider = Provider()
    with Service(provider) as service, _client(service) as client:
        tokens = OAuthTokens(_exchange(client, time.time), MemoryTokenStore("refresh-0"))
        assert _authorised_read(client, tokens) == {"ok": True}
        provider.valid.clear()  # the held token is revoked early: one refresh, then it works
        assert _authorised_read(client, tokens) == {"ok": True}
        assert (provider.token_calls, provider.api_calls) == (2, 3)
        provider.refuse_all = True
        with pytest.raises(ServiceError) as failed:
            _authorised_read(client, tokens)
        assert failed.value.kind == "auth" and failed.value.status == 401
        assert (provider.token_calls, provider.api_calls) == (3, 5)  # one refresh, two tries: no loop


@pytest.mark.integration
def test_a_refresh_another_session_made_meanwhile_is_used_not_repeated():
    provider = Provider()
    with Service(provider) as service, _client(service) as client:
        store = MemoryTokenStore("refresh-0")
        first = OAuthTokens(_exchange(client, time.time), store)
        second = OAuthTokens(_exchange(client, time.time), store)
        assert _authorised_read(client, first) == {"ok": True}
        assert _authorised_read(client, second) == {"ok": True}
        assert provider.token_calls == 1  # the second session found the first one's token in the store
        stale = first.bearer()
        assert second.renew(stale) != stale and provider.token_calls == 2
        assert first.renew(stale) == second.bearer() and provider.token_calls == 2


@pytest.mark.integration
def test_another_sessions_token_refused_on_arrival_earns_one_exchange_of_its_own():
    """Under load, a token another session just exchanged can expire before this session's request reaches
    the API: that refusal is no reason to give up (a refusal of a token this session made itself is)."""
    provider = Provider()
    with Service(provider) as service, _client(service) as client:
        store = MemoryTokenStore("refresh-0")
        first = OAuthTokens(_exchange(client, time.time), store)
        second = OAuthTokens(_exchange(client, time.time), store)
        assert _authorised_read(client, first) == _authorised_read(client, second) == {"ok": True}
        provider.valid.clear()  # access-1 revoked: the first session exchanges access-2
        assert _authorised_read(client, first) == {"ok": True} and provider.token_calls == 2
        provider.valid.pop("access-2")  # ... which expires before the second session's request arrives
        assert _authorised_read(client, second) == {"ok": True}
        # 401 for its own access-1, 401 for the first session's access-2, then its own access-3.
        assert (provider.token_calls, provider.api_calls) == (3, 7)


@pytest.mark.integration
def test_single_use_refresh_tokens_are_stored_under_the_row_lock(warehouse, vault):
    """Two sessions of one account in two threads, their tokens in the vault: every refresh spends the
    stored refresh token and stores its successor in the same transaction, so no refresh token is ever
    sent twice and the row always holds the live one."""
    from marketsync.assets.accounts import upsert_account
    from marketsync.resources.oauth import store_refresh_token

    provider = Provider(lifetime=0.2)  # replaced from 0.1 s on: many refreshes in a short run
    with warehouse.begin() as conn:
        account = upsert_account(conn, "shop", "jtl_ffn", None).account_id
        vault.store(conn, account, {"refresh_token": "an old one", "access_token": "old", "note": "kept"})
        store_refresh_token(conn, vault, account, "refresh-0")  # as a user enters it: the old access token goes
        assert set(vault.load(conn, account).masked()) == {"refresh_token", "note"}
    failures: list[BaseException] = []
    with Service(provider) as service:
        def work() -> None:
            try:
                with _client(service) as client:
                    tokens = OAuthTokens(_exchange(client, time.time, margin=0.1),
                                         VaultTokenStore(warehouse.engine, vault, account))
                    for _ in range(15):
                        _authorised_read(client, tokens)
                        time.sleep(0.02)
            except BaseException as error:
                failures.append(error)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert not failures, failures
    assert provider.token_calls >= 3  # rotated again and again while both sessions read
    stored = VaultTokenStore(warehouse.engine, vault, account).load()
    assert stored.refresh_token == provider.live_refresh  # every rotation landed, none was lost
    with warehouse.begin() as conn:
        assert vault.load(conn, account).reveal("note") == "kept"
