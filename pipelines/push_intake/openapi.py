"""The push intake's OpenAPI 3.1 document, served at GET /openapi.json (no signature needed): what a
supplier writing a pusher needs, the two delivery operations, how to sign a delivery, the item fields
`parse_item` (assets/feeds/push_items.py) reads with their types and limits, and every answer with its
JSON error shape. tests/test_push_intake_openapi.py checks the live app's answers against it."""
from __future__ import annotations

from functools import cache
from typing import Any

from marketsync.pipelines.push_intake.limits import PushLimits
from marketsync.resources.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER

OPENAPI_PATH = "/openapi.json"

_SIGNING = f"""Every delivery is signed with the feed's signing secret (the store creates it; `marketsync feeds
push-secret` shows and rotates it). To sign a request:

1. Take the current time as Unix seconds, as text (`1767225600`), and an id of your own for this delivery
   (1 to 200 printable ASCII characters, no spaces; a UUID does). Keep both when you send the same
   delivery again: a re-send with the same id and body is recognised and answered as the first one was.
2. Build the message: the timestamp, a newline (`\\n`), the event id, a newline, then the request body
   exactly as sent, byte for byte.
3. Compute HMAC-SHA256 of that message with the secret (its UTF-8 bytes) as the key.
4. Send `{TIMESTAMP_HEADER}`, `{EVENT_ID_HEADER}` and `{SIGNATURE_HEADER}: sha256=<digest>`, the digest as 64
   lowercase hex digits (or standard base64).

A delivery signed more than the replay window (300 s by default) before or after our clock is refused,
so keep the sender's clock in sync. While the store rotates the secret, the previous one still verifies
until it is retired."""


def _error_shape(description: str, extra: dict[str, Any] | None = None, required: tuple[str, ...] = ()) -> dict:
    properties = {"error": {"type": "string", "description": "A stable code for programs"},
                  "message": {"type": "string", "description": "What is wrong, for people"}}
    return {"type": "object", "description": description, "required": ["error", "message", *required],
            "properties": {**properties, **(extra or {})}}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str, schema: str = "Error", headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, **_json(_ref(schema))}
    if headers:
        answer["headers"] = headers
    return answer


_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before sending again",
                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
_DUPLICATE = {"X-Marketsync-Duplicate": {
    "description": "`true` when this delivery (same event id, same body) was received before: nothing was "
                   "written again, and the answer is the first one's",
    "schema": {"type": "string", "enum": ["true"]}}}


def _text(limit: int, description: str) -> dict[str, Any]:
    return {"type": ["string", "integer", "null"], "maxLength": limit,
            "description": f"{description} (at most {limit} characters, trimmed; null clears it)"}


def _money(description: str) -> dict[str, Any]:
    return {"description": f"{description}: a number or numeric text from 0 to below 10,000,000,000, kept "
                           "to four decimals; null clears it",
            "oneOf": [{"type": "number", "minimum": 0, "exclusiveMaximum": 10_000_000_000},
                      {"type": "string", "pattern": r"^\s*[0-9]{1,10}(\.[0-9]*)?\s*$"}, {"type": "null"}]}


def _item_schema() -> dict[str, Any]:
    int32 = {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
    passthrough = {"description": "Kept as sent in the product's attributes",
                   "oneOf": [{"type": ["string", "number", "boolean", "null"]},
                             {"type": "array", "items": {"type": "string"}}]}
    translation = {"type": "object", "properties": {
        "name": {"type": ["string", "null"]}, "title": {"type": ["string", "null"]},
        "description": {"type": ["string", "null"]}}}
    moment = {"type": ["string", "null"], "format": "date-time",
              "description": "ISO 8601; without an offset it is UTC. At most 5 minutes ahead of our clock"}
    return {
        "type": "object",
        "description": "One product of the feed, keyed by externalId. A field left out keeps its stored value; "
                       "null clears it. An item older than the stored record (by updatedAt) is not applied. "
                       "Fields not listed here are ignored.",
        "required": ["externalId"],
        "properties": {
            "externalId": {**_text(255, "The supplier's id of the product; required, not empty"),
                           "type": ["string", "integer"]},
            "vendorSku": _text(255, "The supplier's SKU"),
            "mpn": _text(255, "Manufacturer part number"),
            "brand": _text(255, "Brand"),
            "barcode": _text(64, "GTIN-8/12/13/14 or ISBN-10; its check digit must verify"),
            "inventoryQuantity": {"description": "Units in stock (a whole number, or its text); sets availability",
                                  "oneOf": [int32, {"type": "string", "pattern": r"^\s*-?[0-9]{1,10}\s*$"},
                                            {"type": "null"}]},
            "price": _money("Selling price"),
            "retailPrice": _money("Selling price, when `price` is not sent"),
            "currency": {"type": ["string", "null"], "pattern": "^[A-Za-z]{3}$",
                         "description": "ISO 4217 code; default: the feed's currency"},
            "costPrice": _money("Cost price"),
            "compareAtPrice": _money("Compare-at price"),
            "grams": passthrough, "handle": passthrough, "productType": passthrough, "tags": passthrough,
            "countryOfOrigin": passthrough, "hsCode": passthrough, "inventoryPolicy": passthrough,
            "name": {"type": ["string", "null"], "description": "Title in `language` (`title` is the same field; "
                                                                "send one, or both equal)"},
            "title": {"type": ["string", "null"]},
            "description": {"type": ["string", "null"], "description": "Description in `language`"},
            "language": {"type": "string", "pattern": "^[A-Za-z]{2}$",
                         "description": "Language of name and description; default: the feed's"},
            "translations": {"type": ["object", "null"], "description": "More languages: {\"de\": {\"name\", "
                                                                        "\"description\"}, ...}",
                             "propertyNames": {"pattern": "^[A-Za-z]{2}$"}, "additionalProperties": translation},
            "updatedAt": moment,
            "inventoryUpdatedAt": {**moment, "description": "Used when updatedAt is not sent"},
        },
    }


def _record_schema() -> dict[str, Any]:
    text = {"type": ["string", "null"]}
    return {"type": "object", "description": "The product as the catalog now holds it",
            "required": ["externalId", "translations", "attributes", "updatedAt"],
            "properties": {
                "externalId": {"type": "string"}, "vendorSku": text, "barcode": {**text, "description": "GTIN-14"},
                "mpn": text, "brand": text, "inventoryQuantity": {"type": ["integer", "null"]},
                "availability": {"type": ["string", "null"], "enum": ["in stock", "out of stock", None]},
                "price": text, "currency": text, "costPrice": text, "compareAtPrice": text,
                "translations": {"type": "object", "additionalProperties": {
                    "type": "object", "properties": {"name": text, "description": text}}},
                "attributes": {"type": "object"}, "updatedAt": text}}


def _signature_headers() -> list[dict[str, Any]]:
    return [
        {"name": TIMESTAMP_HEADER, "in": "header", "required": True,
         "description": "When the delivery was signed, Unix seconds", "schema": {"type": "string",
                                                                                 "pattern": "^[0-9]{1,12}$"}},
        {"name": EVENT_ID_HEADER, "in": "header", "required": True,
         "description": "The sender's id of this delivery; a re-send keeps it",
         "schema": {"type": "string", "pattern": "^[!-~]{1,200}$"}},
        {"name": SIGNATURE_HEADER, "in": "header", "required": True,
         "description": "sha256=<HMAC-SHA256 of timestamp, event id and body>, see the signing section",
         "schema": {"type": "string", "pattern": "^sha256=([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$"}},
    ]


_PATH = [{"name": "store", "in": "path", "required": True, "description": "The store's code",
          "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"}},
         {"name": "feed", "in": "path", "required": True, "description": "The name of the store's push feed",
          "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$"}}]


def _refusals(limits: PushLimits) -> dict[str, Any]:
    return {
        "400": _error("The body is not UTF-8 JSON, is nested too deeply, or holds a text no field can store: a "
                      "NUL character (\\u0000) or half a surrogate pair (`invalid_json`)"),
        "401": _error("Missing or malformed signature headers, a timestamp outside the replay window, a "
                      "signature that does not match, or a feed without a secret yet (`unauthorized`, "
                      "`no_secret`)"),
        "403": _error("The feed is disabled (`feed_disabled`)"),
        "404": _error("The store has no push feed of this name (`unknown_feed`)"),
        "409": _error("The event id was already used for a different delivery (`event_id_reused`)"),
        "413": _error(f"The body is over {limits.max_body_bytes} bytes (`body_too_large`)", "BodyTooLarge"),
        "422": _error("The items are invalid: every problem is listed (`invalid_items`), or a batch of more "
                      f"than {limits.max_batch_items} items (`too_many_items`)", "InvalidItems"),
        "429": _error(f"More than {limits.requests_per_window} requests in {limits.window_seconds} s from this "
                      "client (`rate_limited`), or the feed's daily SKU update quota is used up "
                      "(`daily_limit_reached`, until midnight UTC); Retry-After says when to send again",
                      "TooManyRequests", headers=_RETRY_AFTER),
        "503": _error("The feed's signing secret cannot be read right now (`secret_unavailable`): retry later"),
    }


def _components(limits: PushLimits) -> dict[str, Any]:
    count = {"type": "integer", "minimum": 0}
    problem = {"type": "object", "required": ["index", "field", "message"],
               "properties": {"index": {"type": "integer", "description": "The item's position, from 0"},
                              "field": {"type": "string"}, "message": {"type": "string"}}}
    return {"schemas": {
        "Item": _item_schema(),
        "Record": _record_schema(),
        "ItemAnswer": {"type": "object", "required": ["feed", "eventId", "stale", "record"], "properties": {
            "feed": {"type": "string"}, "eventId": {"type": "string"},
            "stale": {"type": "boolean", "description": "true when the stored record is newer than this item, "
                                                       "which was then not applied: retrying will not help"},
            "record": _ref("Record")}},
        "BatchAnswer": {"type": "object", "required": ["feed", "eventId", "inboxId", "accepted"], "properties": {
            "feed": {"type": "string"}, "eventId": {"type": "string"},
            "inboxId": {"type": "integer", "description": "The batch in the feed's inbox; a sensor applies it"},
            "accepted": {"type": "integer", "description": "How many items the batch holds"}}},
        "Batch": {"description": f"1 to {limits.max_batch_items} items: an array, or an object with `items`",
                  "oneOf": [{"type": "array", "items": _ref("Item"), "minItems": 1,
                             "maxItems": limits.max_batch_items},
                            {"type": "object", "required": ["items"], "properties": {
                                "items": {"type": "array", "items": _ref("Item"), "minItems": 1,
                                          "maxItems": limits.max_batch_items}}}]},
        "Error": _error_shape("A refusal"),
        "BodyTooLarge": _error_shape("A body over the size limit", {"limit": count}, ("limit",)),
        "InvalidItems": _error_shape("Invalid items, or too many", {
            "problems": {"type": "array", "items": problem}, "limit": count, "received": count}),
        "TooManyRequests": _error_shape("Too many requests, or the daily quota used up", {
            "retry_after": count, "limit": count, "used": count, "requested": count}, ("retry_after",)),
        "Health": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
    }}


@cache
def openapi_document(limits: PushLimits = PushLimits()) -> dict[str, Any]:  # noqa: B008 (frozen, hashable)
    """The document for an intake with these limits (the defaults unless a deployment changes them)."""
    refusals = _refusals(limits)
    return {
        "openapi": "3.1.0",
        "info": {"title": "marketsync push intake", "version": "1.0.0",
                 "description": "Suppliers push their inventory to a store's feed over HTTP: one item at once "
                                "(applied in the request) or a batch (applied shortly after).\n\n" + _SIGNING},
        "paths": {
            "/stores/{store}/inventory-feeds/{feed}/items": {"put": {
                "operationId": "putItem", "summary": "Create or update one item, applied in the request",
                "parameters": [*_PATH, *_signature_headers()],
                "requestBody": {"required": True, **_json(_ref("Item"))},
                "responses": {
                    "200": {"description": "Applied (or `stale`: the stored record is newer); the record as "
                                           "now held", **_json(_ref("ItemAnswer")), "headers": _DUPLICATE},
                    **refusals}}},
            "/stores/{store}/inventory-feeds/{feed}/items:batch": {"post": {
                "operationId": "postBatch", "summary": "Accept a batch of items, applied by a sensor shortly after",
                "parameters": [*_PATH, *_signature_headers()],
                "requestBody": {"required": True, **_json(_ref("Batch"))},
                "responses": {
                    "202": {"description": "Accepted into the feed's inbox", **_json(_ref("BatchAnswer")),
                            "headers": _DUPLICATE},
                    **refusals}}},
            "/healthz": {"get": {"operationId": "health", "summary": "The intake answers",
                                 "responses": {"200": {"description": "Up", **_json(_ref("Health"))}}}},
            OPENAPI_PATH: {"get": {"operationId": "openapi", "summary": "This document",
                                   "responses": {"200": {"description": "The OpenAPI 3.1 document",
                                                         **_json({"type": "object"})}}}},
        },
        "components": _components(limits),
    }
