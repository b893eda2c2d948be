"""The storefront order API's OpenAPI 3.1 document, generated from the models the API validates with
(assets/storefront/document.py), so the document and the behaviour cannot drift apart;
tests/test_storefront_openapi.py checks the live app's answers against it."""
from __future__ import annotations

from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema

from marketsync.assets.storefront.document import ErrorAnswer, OrderAnswer, StatusChange, StorefrontOrder

_REF = "#/components/schemas/{model}"


def _json(schema: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, **_json("ErrorAnswer")}


_REPLAYED = {"Idempotent-Replayed": {"description": "true when this is the stored answer of an earlier request "
                                                   "with the same Idempotency-Key",
                                     "schema": {"type": "string", "enum": ["true"]}}}
_STORE = {"name": "store", "in": "path", "required": True, "description": "The store's code",
          "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"}}
_NUMBER = {"name": "order_number", "in": "path", "required": True, "description": "The shop's order number",
           "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"}}


def _key(required: bool) -> dict[str, Any]:
    return {"name": "Idempotency-Key", "in": "header", "required": required,
            "description": "The shop's id for this request (a UUID): a retry with the same key and body is "
                           "answered as the first request was, never applied twice",
            "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"}}


_COMMON = {"401": _error("No API key, or not this store's"), "403": _error("The store's storefront account is "
                                                                             "disabled"),
           "503": _error("Overloaded, or the database did not answer in time: retry under the same key")}


@cache
def openapi_document() -> dict[str, Any]:
    _, schemas = models_json_schema(
        [(StorefrontOrder, "validation"), (StatusChange, "validation"), (OrderAnswer, "serialization"),
         (ErrorAnswer, "serialization")], ref_template=_REF)
    order_answer = {**_json("OrderAnswer"), "headers": _REPLAYED}
    return {
        "openapi": "3.1.0",
        "info": {"title": "marketsync storefront order API", "version": "1.0.0",
                 "description": "The store's own shop pushes its orders and their status changes to marketsync."},
        "security": [{"storeApiKey": []}],
        "paths": {
            "/stores/{store}/orders": {"post": {
                "operationId": "createOrder", "summary": "Receive an order placed in the shop",
                "parameters": [_STORE, _key(required=True)],
                "requestBody": {"required": True, **_json("StorefrontOrder")},
                "responses": {
                    "201": {"description": "Received: the order as marketsync now holds it", **order_answer},
                    "200": {"description": "This very order was received before (under another key)",
                            **order_answer},
                    "400": _error("No Idempotency-Key, or an invalid one"),
                    "409": _error("The key was used for another body, or the order number exists with other "
                                  "content"),
                    "413": _error("The body is over 1 MB"), "415": _error("The body is not application/json"),
                    "422": _error("The order is invalid: every bad field is named"), **_COMMON}}},
            "/stores/{store}/orders/{order_number}": {
                "get": {"operationId": "getOrder", "summary": "The order as marketsync holds it",
                        "parameters": [_STORE, _NUMBER],
                        "responses": {"200": {"description": "The order", **_json("OrderAnswer")},
                                      "404": _error("No such order from this store's shop"), **_COMMON}},
                "patch": {"operationId": "changeOrderStatus", "summary": "Change the order's status",
                          "parameters": [_STORE, _NUMBER, _key(required=False)],
                          "requestBody": {"required": True, **_json("StatusChange")},
                          "responses": {
                              "200": {"description": "Changed (or it already had that status)", **order_answer},
                              "400": _error("An invalid Idempotency-Key"),
                              "404": _error("No such order from this store's shop"),
                              "409": _error("A change the order's status does not allow, or the key was used for "
                                            "another body"),
                              "413": _error("The body is over 1 MB"), "415": _error("The body is not "
                                                                                   "application/json"),
                              "422": _error("The change is invalid: every bad field is named"), **_COMMON}}},
        },
        "components": {
            "schemas": schemas["$defs"],
            "securitySchemes": {"storeApiKey": {"type": "http", "scheme": "bearer",
                                                "description": "The store's API key (storefront key STORE)"}},
        },
    }
