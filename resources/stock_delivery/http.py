"""Delivery by HTTP(S) PUT, with the caller's Idempotency-Key; the answer is kept for the caller. The
client and the classification of what goes wrong below HTTP are the project's one HTTP plumbing
(resources.http_client); the words are a delivery's."""
import json
from typing import Any

import httpx

from marketsync.resources.http_client import CONNECT_FAILURES, client_options, transport_failure
from marketsync.resources.http_retry import retry_after_seconds
from marketsync.resources.scrubbing import SecretScrubber
from marketsync.resources.stock_delivery.core import Call, Delivery, DeliveryError, describe_location, tls_context

ANSWER_TEXT_LIMIT = 2000  # characters of a non-JSON HTTP answer kept in `Delivery.answer`
ERROR_BODY_LIMIT = 300  # characters of an HTTP error body quoted in a DeliveryError message


def send_http(call: Call, url: str) -> Delivery:
    target = call.target
    headers = {"Content-Type": call.content_type, "Idempotency-Key": call.idempotency_key,
               "User-Agent": "marketsync-delivery/1", "Accept": "application/json, */*;q=0.5"}
    auth: httpx.Auth | None = None
    if target.token:
        headers["Authorization"] = f"Bearer {target.token}"
    elif target.username:
        auth = httpx.BasicAuth(target.username, target.password or "")
    try:
        # No answer size cap: a receiver's answer to a PUT is its report on the file, kept as it came.
        with httpx.Client(**client_options(httpx.Timeout(target.timeout), limits=None, verify=tls_context(),
                                           follow_redirects=False)) as client:
            response = client.put(url, content=call.data, headers=headers, auth=auth)
    except httpx.HTTPError as exc:
        # Not chained: httpx's own text names the URL.
        raise _httpx_error(call, exc) from None
    answer = _answer(response)
    code = response.status_code
    if 200 <= code < 300:
        return call.delivered(code, answer)
    raise _status_error(call, response, answer)


def _answer(response: httpx.Response) -> dict | list | str | None:
    """The body: parsed when it is JSON (a dict or list), else the text cut to ANSWER_TEXT_LIMIT."""
    try:
        text = response.text
    except (UnicodeDecodeError, LookupError):
        text = response.content.decode("utf-8", "replace")
    if not text.strip():
        return None
    if "json" in response.headers.get("content-type", "").lower() or text.lstrip()[:1] in ("{", "["):
        try:
            parsed = json.loads(text)
        except ValueError:
            pass
        else:
            if isinstance(parsed, (dict, list)):
                return parsed
    return text[:ANSWER_TEXT_LIMIT]


def _scrubbed(value: Any, scrubber: SecretScrubber) -> Any:
    """`value` (a parsed answer) with the secrets replaced in every string, keys included."""
    if isinstance(value, str):
        return scrubber.scrub(value)
    if isinstance(value, dict):
        return {_scrubbed(k, scrubber): _scrubbed(v, scrubber) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, scrubber) for v in value]
    return value


def _status_error(call: Call, response: httpx.Response, answer: Any) -> DeliveryError:
    code = response.status_code
    answer = _scrubbed(answer, call.scrubber)
    said = ""
    if answer is not None:
        snippet = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
        snippet = " ".join(snippet.split())
        if len(snippet) > ERROR_BODY_LIMIT:
            snippet = snippet[:ERROR_BODY_LIMIT] + "..."
        said = f": {snippet}"
    extra = {"status_code": code, "answer": answer}
    if code in (401, 403):
        return call.error(f"the server refused the credentials (HTTP {code}){said}", "auth", **extra)
    if code in (404, 405, 410):
        return call.error(f"the server does not take files at this address (HTTP {code}){said}", "not_found", **extra)
    if code == 429:
        return call.error(f"the server is rate limiting us (HTTP 429){said}", "rate_limited",
                          retry_after=retry_after_seconds(response), **extra)
    if code == 408 or code >= 500:
        return call.error(f"server error (HTTP {code}){said}", "server", retry_after=retry_after_seconds(response),
                          **extra)
    if 300 <= code < 400:
        moved = describe_location(response.headers.get("location", "")) or "nowhere"
        return call.error(f"the server redirects to {moved} (HTTP {code}): configure that location instead",
                          "rejected", **extra)
    return call.error(f"the server rejected the file (HTTP {code}){said}", "rejected", **extra)


def _httpx_error(call: Call, exc: httpx.HTTPError) -> DeliveryError:
    """A failure below HTTP (classified once, resources.http_client) in a delivery's words."""
    failure = transport_failure(exc)
    timeout = call.target.timeout
    if failure == "connect_timeout":
        return call.error(f"no connection within {timeout:g} s (timeout)", "timeout")
    if failure in ("timeout", "pool_timeout"):
        return call.error(f"no answer within {timeout:g} s (timeout)", "timeout")
    if failure in CONNECT_FAILURES:
        return call.error(*CONNECT_FAILURES[failure])
    if failure == "unsupported":
        return call.error("the URL's scheme is not supported", "rejected")
    if failure == "broken":
        return call.error("the connection broke", "broken")
    return call.error(f"the request failed ({type(exc).__name__})", "broken")
