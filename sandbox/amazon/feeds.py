"""Processing a JSON_LISTINGS_FEED document into a processing report, as the Feeds API does once a
feed leaves IN_PROGRESS.

The document follows the "Selling Partner Listings Feed (v2)" schema (a `header` with `sellerId` and
`version` "2.0", optionally `issueLocale` and `report`; 1 to 25,000 `messages`, each with
`messageId`, `sku` and `operationType` UPDATE, PARTIAL_UPDATE, PATCH or DELETE and the fields each
operation needs). The report follows the "Listings Feed Processing Report (v2)" schema: `header`
(`sellerId`, `version`, `feedId`, and `report` when the feed asked for one), `issues` (each with the
`messageId` and `sku` it is about, `code`, `severity`, `message`, `attributeName`), `summary`
(`errors`, `warnings`, `messagesProcessed`, `messagesAccepted`, `messagesInvalid`, and
`itemSummary` with `items`) and, when the feed's header asks for `report.includedData`, `items`
(the listings as getListingsItem shows them after the feed).

A message is INVALID when it has at least one issue of severity ERROR and is then not applied; every
other message is ACCEPTED and applied in message order. The schema has no per-message status field:
a client tells the two apart by the ERROR issues carrying the message's `messageId`.

A document that is not UTF-8 JSON, misses the header or the messages, has another `version`, names
another seller or holds more messages than allowed makes the feed FATAL; its report then holds one
issue without `messageId` saying why, and nothing is applied.
"""

import gc
from collections.abc import Callable
from contextlib import contextmanager

import orjson

from .listings import FEED_OPERATIONS, Listings, Problem

FEED_TYPE = "JSON_LISTINGS_FEED"
MAX_MESSAGES = 25_000  # the schema's maxItems for `messages`
REPORT_DATA = ("summaries", "attributes", "issues", "offers", "fulfillmentAvailability", "procurement",
               "relationships", "productTypes")
_REQUIREMENTS = ("LISTING", "LISTING_PRODUCT_ONLY", "LISTING_OFFER_ONLY")
_INT_MAX = 2147483647
_BOM = b"\xef\xbb\xbf"


class Fatal(Exception):
    """The whole document is unusable: the feed ends FATAL with this message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def fatal_report(seller_id: str, feed_id: str, code: str, message: str) -> dict:
    return {"header": {"sellerId": seller_id, "version": "2.0", "feedId": feed_id},
            "issues": [{"code": code, "severity": "ERROR", "message": message}],
            "summary": {"errors": 1, "warnings": 0, "messagesProcessed": 0, "messagesAccepted": 0,
                        "messagesInvalid": 0}}


def _document(data: bytes | None, seller_id: str, max_messages: int | None) -> tuple[dict, list]:
    if data is None:
        raise Fatal("DOCUMENT_MISSING", "The feed document was never uploaded")
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise Fatal("INVALID_DOCUMENT", f"The feed document is not valid UTF-8 JSON: {error}") from None
    if not isinstance(document, dict):
        raise Fatal("INVALID_DOCUMENT", "The feed document must be a JSON object with header and messages")
    header, messages = document.get("header"), document.get("messages")
    if not isinstance(header, dict):
        raise Fatal("INVALID_HEADER", "The feed document has no header object")
    if header.get("version") != "2.0":
        raise Fatal("INVALID_HEADER", f"header.version must be \"2.0\", not {header.get('version')!r}")
    if not isinstance(header.get("sellerId"), str):
        raise Fatal("INVALID_HEADER", "header.sellerId is required")
    if header["sellerId"] != seller_id:
        raise Fatal("INVALID_HEADER", f"header.sellerId {header['sellerId']!r} is not the submitting selling partner")
    report = header.get("report")
    if report is not None:
        included = report.get("includedData") if isinstance(report, dict) else None
        if not isinstance(included, list) or not included or any(name not in REPORT_DATA for name in included) \
                or report.get("apiVersion") != "2021-08-01":
            raise Fatal("INVALID_HEADER", "header.report needs includedData (of "
                        + ", ".join(REPORT_DATA) + ") and apiVersion \"2021-08-01\"")
    if not isinstance(messages, list) or not messages:
        raise Fatal("INVALID_DOCUMENT", "The feed document must hold at least one message")
    if max_messages is not None and len(messages) > max_messages:
        raise Fatal("TOO_MANY_MESSAGES",
                    f"The feed holds {len(messages)} messages; at most {max_messages} are allowed per feed")
    return header, messages


_NOT_ALLOWED = {"UPDATE": frozenset({"patches"}), "PARTIAL_UPDATE": frozenset({"requirements", "patches"}),
                "PATCH": frozenset({"requirements", "attributes"}),
                "DELETE": frozenset({"requirements", "attributes", "productType", "patches"})}


def _message_problems(message: dict, operation, listings: Listings, rejected: dict[str, str]) -> list[Problem]:
    sku = message["sku"]
    not_allowed = _NOT_ALLOWED.get(operation) if type(operation) is str else None
    if not_allowed is None:
        return [("INVALID_MESSAGE", "operationType must be one of " + ", ".join(FEED_OPERATIONS), None,
                 "INVALID_ATTRIBUTE")]
    extra = not_allowed & message.keys()
    if extra:
        return [("INVALID_MESSAGE", f"{operation} messages take no {', '.join(sorted(extra))}", None,
                 "INVALID_ATTRIBUTE")]
    if operation != "DELETE":
        product_type = message.get("productType")
        if type(product_type) is not str or not product_type:
            return [("INVALID_MESSAGE", f"{operation} messages need a productType", None, "MISSING_ATTRIBUTE")]
        if "requirements" in message and message["requirements"] not in _REQUIREMENTS:
            return [("INVALID_MESSAGE", "requirements must be one of " + ", ".join(_REQUIREMENTS), None,
                     "INVALID_ATTRIBUTE")]
    if rejected and sku in rejected:
        return [("SANDBOX_REJECTED", rejected[sku], None, "INVALID_ATTRIBUTE")]
    if operation != "UPDATE" and not listings.exists(sku):
        return [("SKU_NOT_FOUND", f"No listing has the SKU '{sku}'", None, "INVALID_ATTRIBUTE")]
    if operation == "PATCH":
        return listings.patch_problems(sku, message.get("patches"), must_exist=False)
    if operation == "DELETE":
        return []
    return listings.attribute_problems(message.get("attributes"))


@contextmanager
def _without_cyclic_gc():
    """A feed of 100,000 messages is a few million small objects, none of them in a cycle: the cyclic
    collector would walk them again and again while they are made (several times the work itself)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def process_listings_feed(data: bytes | None, *, listings: Listings, seller_id: str, feed_id: str,
                          rejected: dict[str, str], now: int, max_messages: int | None = MAX_MESSAGES,
                          item_view: Callable[[str, list[str]], dict | None] | None = None) -> tuple[str, dict]:
    """Validate and apply a JSON_LISTINGS_FEED document: ("DONE", report) or ("FATAL", report).
    `rejected` maps SKUs the test wants refused to the message of their issue; `item_view(sku,
    includedData)` renders a listing for the report's `items`."""
    with _without_cyclic_gc():
        return _process(data, listings, seller_id, feed_id, rejected, now, max_messages, item_view)


def _process(data, listings, seller_id, feed_id, rejected, now, max_messages, item_view) -> tuple[str, dict]:
    try:
        header, messages = _document(data, seller_id, max_messages)
    except Fatal as fatal:
        return "FATAL", fatal_report(seller_id, feed_id, fatal.code, fatal.message)

    issues: list[dict] = []
    accepted: list[dict] = []
    seen: set[int] = set()
    invalid = 0
    for message in messages:
        if type(message) is not dict:
            issues.append({"code": "INVALID_MESSAGE", "severity": "ERROR", "message": "A message must be an object"})
            invalid += 1
            continue
        message_id, sku = message.get("messageId"), message.get("sku")
        valid_id = type(message_id) is int and 1 <= message_id <= _INT_MAX
        if not valid_id or message_id in seen or type(sku) is not str or not sku:
            issue = {"code": "INVALID_MESSAGE", "severity": "ERROR",
                     "message": ("messageId must be a whole number from 1 to 2147483647" if not valid_id else
                                 f"messageId {message_id} is used twice" if message_id in seen else
                                 "sku must be a non-empty string")}
            if valid_id and message_id not in seen:
                issue["messageId"] = message_id
            if type(sku) is str and sku:
                issue["sku"] = sku
            issues.append(issue)
            invalid += 1
            if valid_id:
                seen.add(message_id)
            continue
        seen.add(message_id)
        problems = _message_problems(message, message.get("operationType"), listings, rejected)
        if problems:
            invalid += 1
            for code, text, attribute, _ in problems:
                issue = {"messageId": message_id, "sku": sku, "code": code, "severity": "ERROR", "message": text}
                if attribute:
                    issue["attributeName"] = attribute
                issues.append(issue)
        else:
            accepted.append(message)

    for message in accepted:
        sku, operation = message["sku"], message["operationType"]
        if operation == "PATCH":
            listings.apply_patches(sku, message["patches"], now)
        elif operation == "PARTIAL_UPDATE":
            listings.replace_attributes(sku, message["attributes"], now)
        elif operation == "UPDATE":
            listings.put(sku, message["productType"], message["attributes"], now)
        else:
            listings.delete(sku, now)

    report_header = {"sellerId": seller_id, "version": "2.0", "feedId": feed_id}
    summary = {"errors": sum(1 for issue in issues if issue["severity"] == "ERROR"),
               "warnings": sum(1 for issue in issues if issue["severity"] == "WARNING"),
               "messagesProcessed": len(messages), "messagesAccepted": len(accepted), "messagesInvalid": invalid}
    report = {"header": report_header, "issues": issues, "summary": summary}
    if isinstance(header.get("report"), dict):
        report_header["report"] = header["report"]
        included = header["report"]["includedData"]
        items = []
        for sku in dict.fromkeys(message["sku"] for message in accepted):
            item = item_view(sku, included) if item_view is not None else None
            if item is not None:
                items.append(item)
        report["items"] = items
        summary["itemSummary"] = {"items": len(items), "errors": 0, "warnings": 0}
    return "DONE", report
