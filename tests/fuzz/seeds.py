"""Write the channel harnesses' seed corpora from the simulators' own answers (tests/fuzz/corpus/<channel>/):
`python -m tests.fuzz.seeds`. The files are kept in the repository, so this runs only when a simulator's
answers change shape; the feed, GTIN/price and push intake seeds are written by hand.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from marketsync.sandbox.amazon.data import Catalogue as AmazonCatalogue
from marketsync.sandbox.amazon.data import OrderBook as AmazonOrders
from marketsync.sandbox.codeswholesale.data import generate_products
from marketsync.sandbox.ebay.data import Catalogue as EbayCatalogue
from marketsync.sandbox.ebay.data import OrderBook as EbayOrders
from marketsync.sandbox.jtl_ffn.state import JtlFfnState
from marketsync.sandbox.letzshop.data import generate_shipments
from tests.fuzz.common import CORPUS

EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z


def _write(harness: str, name: str, answer: Any) -> None:
    folder = CORPUS / harness
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(answer, separators=(",", ":"), default=str), encoding="utf-8")


def letzshop() -> None:
    shipments = generate_shipments(7, 3)
    _write("letzshop", "page", {"shipments": {"nodes": shipments[:2],
                                              "pageInfo": {"hasNextPage": True, "endCursor": "Mg"}}})
    _write("letzshop", "last-page", {"shipments": {"nodes": shipments[2:], "pageInfo": {"hasNextPage": False}}})
    _write("letzshop", "no-nodes", {"shipments": {"nodes": None, "pageInfo": {"hasNextPage": False}}})


def amazon() -> None:
    orders = AmazonOrders(7, 4, EPOCH, AmazonCatalogue(7, 20))
    _write("amazon", "page", {"orders": [orders.document(i) for i in range(2)],
                              "pagination": {"nextToken": "t2"}, "lastUpdatedBefore": "2026-01-01T00:00:00Z"})
    _write("amazon", "last-page", {"orders": [orders.document(i) for i in range(2, 4)]})


def ebay() -> None:
    orders = EbayOrders(7, 4, EbayCatalogue(7, 20), EPOCH * 1000)
    _write("ebay", "page", {"orders": [orders.order(i) for i in range(2)], "total": 4, "next": "?offset=2"})
    _write("ebay", "last-page", {"orders": [orders.order(i) for i in range(2, 4)], "total": 4})


def codeswholesale() -> None:
    products = generate_products(7, 6)
    _write("codeswholesale", "page", {"items": products[:3]})
    _write("codeswholesale", "page-2", {"items": products[3:]})


def jtl_ffn() -> None:
    state = JtlFfnState(seed=7, size=6)
    products, _ = state.list_page("products", 3, 0, None)
    stocks, _ = state.list_page("stocks", 3, 0, None)
    inbound, _notices = state.catalogue.inbound(1, 3)
    notices = next((found for number in range(1, 20) for found in [state.catalogue.outbound(number, 20)[1]]
                    if found), [])
    _write("jtl_ffn", "products", {"products": products})
    _write("jtl_ffn", "stocks", {"stocks": stocks})
    _write("jtl_ffn", "inbounds", {"inbounds": [inbound]})
    _write("jtl_ffn", "notices", {"notices": notices or [{
        "outboundShippingNotificationId": "N-1", "outboundId": "O-1", "outboundStatus": "Shipped",
        "packages": [{"shippingDate": "2026-01-01T10:00:00Z", "trackingUrl": "https://track.example/1",
                      "identifier": [{"identifierType": "TrackingId", "name": "DHL", "value": "0034"}]}],
        "items": [{"jfsku": "ABC12", "quantity": 2}], "modificationInfo": {"createdAt": "2026-01-01T10:00:00Z"}}]})


def inbound_sheet() -> None:
    _write("inbound_sheet", "sheet", {"rows": [["SKU", "Expected", "Inbound", "Status"],
                                               ["SKU-1", "10", "", "MATCH: expected 10, received 10"],
                                               ["SKU-2", "2,5", "", ""], ["SKU-1", "1.000", "IN-1", ""],
                                               ["SKU-9", "ten", "", ""], ["", "", "", "old"], ["SKU-1", "4", "IN-9"]],
                                      "header_row": 1, "columns": ["sku", "EXPECTED", "Status", "inbound"]})
    _write("inbound_sheet", "letters", {"rows": [["a", "b", "c"], ["SKU-2", "1 000", ""], ["SKU-1", "-3"]],
                                        "header_row": 1, "columns": ["A", "B", "C"], "compare_with": "stock"})


def main() -> None:
    for write in (letzshop, amazon, ebay, codeswholesale, jtl_ffn, inbound_sheet):
        write()
    for folder in sorted(Path(CORPUS).iterdir()):
        print(folder.name, sum(f.stat().st_size for f in folder.iterdir()), "bytes")


if __name__ == "__main__":
    main()
