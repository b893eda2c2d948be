"""The Letzshop simulator's inventory file intake over real HTTP: PUT a stock CSV, get a per-row report.

The intake is the project's model of Letzshop's CSV stock import (no public specification of it
exists); these tests pin the contract marketsync's stock delivery is written against.
"""
import threading
from types import SimpleNamespace

import httpx
import pytest

from marketsync.sandbox.http import serve_in_thread
from marketsync.sandbox.letzshop import LetzshopState, create_app
from marketsync.sandbox.letzshop.data import catalog_csv_rows

KEY = "sandbox-test-key"
SEED, SIZE = 7, 30  # the shape of conftest's letzshop_sim


@pytest.fixture(scope="module")
def server():
    """One simulator for the module (as conftest's letzshop_sim, without a server per test)."""
    state = LetzshopState(SEED, SIZE, api_keys=(KEY,))
    with serve_in_thread(create_app(state)) as running:
        yield state, running.base_url


@pytest.fixture
def sim(server):
    state, base = server
    state.reset()  # stock, uploads, keys served, inventory and generic faults, counters
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as client:
        yield SimpleNamespace(state=state, client=client, base=base)


def put(sim, body, name="stock.csv", **headers) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return sim.client.put(f"/inventory/{name}", content=content, headers=headers)


def by_id(report: dict) -> dict:
    return {r["id"]: r for r in report["results"]}


def test_a_file_applies_and_reports_each_row_with_its_physical_line(sim):
    body = ("\ufeffavailability,quantity,id\r\n"            # 1: BOM, column order free, extra column
            "in stock,5,SKU-A\r\n"                          # 2
            "\r\n"                                          # 3: blank, skipped
            "\"note\r\nspanning lines\",0,\"SKU-B\"\r\n"    # 4-5: quoted field with an embedded newline
            "in stock,12,SKU-C")                            # 6: no final newline
    response = put(sim, body, name="letzshop-stock.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "file": "letzshop-stock.csv", "rows": 3, "updated": 3, "rejected": 0,
        "results": [
            {"line": 2, "id": "SKU-A", "status": "updated", "quantity": 5, "message": None},
            {"line": 4, "id": "SKU-B", "status": "updated", "quantity": 0, "message": None},
            {"line": 6, "id": "SKU-C", "status": "updated", "quantity": 12, "message": None},
        ]}
    state = sim.state
    assert state.inventory_snapshot() == {"SKU-A": 5, "SKU-B": 0, "SKU-C": 12}
    assert state.inventory_stock("SKU-B") == 0 and state.inventory_stock("nope") is None
    [upload] = state.inventory_uploads
    assert upload._asdict() == {"filename": "letzshop-stock.csv", "rows": 3, "updated": 3, "rejected": 0,
                                "dropped": 0, "idempotency_key": None, "replay": False}

    # Quantities are absolute: a second file sets, it does not add.
    assert put(sim, "id,quantity\nSKU-A,2\n").json()["updated"] == 1
    assert state.inventory_stock("SKU-A") == 2

    admin = httpx.get(f"{sim.base}/_sandbox/inventory", params={"sku": ["SKU-A", "nope"]}).json()
    assert admin["stock"] == {"SKU-A": 2, "nope": None} and len(admin["uploads"]) == 2
    assert state.stats()["statuses"] == {"200": 2}


def test_escaped_cells_are_read_without_the_leading_quote(sim):
    body = ("id,quantity\n"
            "'-SKU1,1\n"
            "'=SUM(A1),2\n"
            "'+SKU3,3\n"
            "'@SKU4,4\n"
            "'\tSKU5,5\n"
            "'plain,6\n"           # a quote before anything else is part of the SKU
            "SKU7,'-7\n")          # an escaped quantity is read too: -7 is rejected
    report = put(sim, body).json()
    results = by_id(report)
    assert [r["id"] for r in report["results"]] == ["-SKU1", "=SUM(A1)", "+SKU3", "@SKU4", "\tSKU5",
                                                    "'plain", "SKU7"]
    assert results["-SKU1"]["status"] == "updated" and sim.state.inventory_stock("-SKU1") == 1
    assert results["'plain"]["quantity"] == 6
    assert results["SKU7"]["status"] == "rejected" and "'-7'" in results["SKU7"]["message"]
    assert (report["updated"], report["rejected"]) == (6, 1)


def test_bad_rows_are_rejected_and_the_rest_applied(sim):
    sim.state.receive_inventory_file("seed.csv", b"id,quantity\nNEG,9\n")
    body = ("id,quantity\n"
            "GOOD1,3\n"       # 2
            ",4\n"            # 3 empty id
            "NEG,-1\n"        # 4 negative
            "TEXT,many\n"     # 5
            "FRAC,1.5\n"      # 6
            "NONE,\n"         # 7 missing quantity
            "SHORT\n"         # 8 no quantity cell at all
            ",,\n"            # 9 blank record: skipped, no row
            "GOOD2, 7 \n")    # 10 blanks around a quantity are fine
    report = put(sim, body).json()
    assert (report["rows"], report["updated"], report["rejected"]) == (8, 2, 6)
    lines = {r["line"]: r for r in report["results"]}
    assert sorted(lines) == [2, 3, 4, 5, 6, 7, 8, 10]
    assert lines[3]["message"] == "empty id" and lines[3]["id"] == ""
    assert lines[7]["message"] == lines[8]["message"] == "missing quantity"
    for line in (4, 5, 6):
        assert lines[line]["status"] == "rejected" and lines[line]["quantity"] is None
        assert "non-negative integer" in lines[line]["message"]
    assert lines[10] == {"line": 10, "id": "GOOD2", "status": "updated", "quantity": 7, "message": None}
    assert sim.state.inventory_snapshot() == {"NEG": 9, "GOOD1": 3, "GOOD2": 7}  # NEG kept its stock


@pytest.mark.parametrize("body, expected", [
    ("sku,quantity\nA,1\n", "'id' and 'quantity'"),
    ("id,qty\nA,1\n", "'id' and 'quantity'"),
    ("A,1\nB,2\n", "'id' and 'quantity'"),
    ("", "empty file"),
    ("id,id,quantity\nA,A,1\n", "'id' 2 times"),
    ("id,quantity\n\"A\"x,1\n", "malformed CSV at line 2"),
    (b"id,quantity\nA\xff,1\n", "not UTF-8"),
])
def test_an_unreadable_file_is_400_and_applies_nothing(sim, body, expected):
    response = put(sim, body)
    assert response.status_code == 400
    assert expected in response.json()["error"]
    assert sim.state.inventory_snapshot() == {} and sim.state.inventory_uploads == []


def test_the_file_name_must_be_a_csv(sim):
    response = put(sim, "id,quantity\nA,1\n", name="stock.txt")
    assert response.status_code == 400 and ".csv" in response.json()["error"]
    assert sim.state.inventory_snapshot() == {}


def test_a_duplicate_id_rejects_the_later_row(sim):
    report = put(sim, "id,quantity\nA,1\nB,2\nA,3\n").json()
    assert report["results"][2] == {"line": 4, "id": "A", "status": "rejected", "quantity": None,
                                    "message": "duplicate id: first on line 2"}
    assert sim.state.inventory_stock("A") == 1


def test_drops_and_rejects_by_sku_and_every_nth_row(sim):
    state = sim.state
    state.set_inventory_faults(drop_skus={"D"}, reject_skus={"L"})
    body = "id,quantity\n" + "".join(f"{sku},{n}\n" for n, sku in enumerate(["A", "D", "L", "B"], 1))
    report = put(sim, body).json()
    assert [(r["id"], r["status"], r["message"]) for r in report["results"]] == [
        ("A", "updated", None), ("L", "rejected", "listing locked"), ("B", "updated", None)]
    assert report["rows"] == 3 and report["results"][1]["quantity"] == 3
    assert state.inventory_snapshot() == {"A": 1, "B": 4}
    assert state.inventory_uploads[-1].dropped == 1

    # The same through the admin routes: every 3rd data row dropped, every 2nd rejected, sku faults off.
    admin = f"{sim.base}/_sandbox/inventory/faults"
    assert httpx.delete(admin).json()["drop_skus"] == []
    armed = httpx.post(admin, json={"drop_every": 3, "reject_every": 2}).json()
    assert armed == {"drop_skus": [], "reject_skus": [], "drop_every": 3, "reject_every": 2,
                     "strict_listings": False}
    body = "id,quantity\n" + "".join(f"R{n},{n}\n" for n in range(1, 9))
    report = put(sim, body).json()
    statuses = {r["id"]: r["status"] for r in report["results"]}
    assert statuses == {"R1": "updated", "R2": "rejected", "R4": "rejected", "R5": "updated",
                        "R7": "updated", "R8": "rejected"}  # R3, R6 dropped; deterministic
    assert put(sim, body).json() == report
    assert state.inventory_uploads[-1].dropped == 2
    assert httpx.post(admin, json={"drop_every": -1}).status_code == 400
    assert httpx.post(admin, json={"drop_skus": "ABC"}).status_code == 400


def test_strict_listings_reject_unknown_skus(sim):
    listed = catalog_csv_rows(SEED, SIZE)[0]["sku"]  # a variant of the fixture's scenario
    sim.state.set_inventory_faults(strict_listings=True)
    body = f"id,quantity\n{listed},4\nNOT-LISTED,5\nADDED,6\n"
    report = put(sim, body).json()
    assert [(r["id"], r["status"]) for r in report["results"]] == [
        (listed, "updated"), ("NOT-LISTED", "rejected"), ("ADDED", "rejected")]
    assert "unknown" in report["results"][1]["message"]

    added = httpx.post(f"{sim.base}/_sandbox/inventory/listings", json={"skus": ["ADDED"]}).json()
    assert added == {"added": 1, "listings_added": 1}
    sim.state.add_listings(["NOT-LISTED"])
    assert put(sim, body).json()["updated"] == 3
    sim.state.set_inventory_faults(strict_listings=False)
    assert put(sim, "id,quantity\nANYTHING,1\n").json()["updated"] == 1


def test_an_idempotency_key_replays_the_report_and_refuses_another_file(sim):
    state = sim.state
    body = "id,quantity\nA,1\nB,x\n"
    first = put(sim, body, **{"Idempotency-Key": "k1"})
    state.receive_inventory_file("other.csv", b"id,quantity\nA,50\n")  # stock moves on meanwhile
    again = put(sim, body, **{"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 200 and again.content == first.content
    assert state.inventory_stock("A") == 50  # the replay applied nothing
    assert [(u.idempotency_key, u.replay) for u in state.inventory_uploads] == [
        ("k1", False), (None, False), ("k1", True)]
    assert state.inventory_uploads[2].rows == 2 and state.stats()["inventory"]["replays"] == 1

    conflict = put(sim, "id,quantity\nA,2\n", **{"Idempotency-Key": "k1"})
    assert conflict.status_code == 409 and "k1" in conflict.json()["error"]
    assert state.inventory_stock("A") == 50 and len(state.inventory_uploads) == 3

    # Concurrent deliveries of one key apply once.
    body = "id,quantity\n" + "".join(f"C{n},{n}\n" for n in range(2000))
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(put(sim, body, **{"Idempotency-Key": "k2"})))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {a.status_code for a in answers} == {200} and len({a.content for a in answers}) == 1
    assert sorted(u.replay for u in state.inventory_uploads if u.idempotency_key == "k2") == [
        False, True, True, True]


def test_a_bad_key_is_401_and_applies_nothing(sim):
    body = b"id,quantity\nA,1\n"
    assert httpx.put(f"{sim.base}/inventory/s.csv", content=body).status_code == 401
    wrong = httpx.put(f"{sim.base}/inventory/s.csv", content=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "Bearer" in wrong.headers["www-authenticate"]
    sim.state.revoke_key(KEY)
    assert put(sim, body).status_code == 401
    assert sim.state.inventory_snapshot() == {} and sim.state.stats()["statuses"] == {"401": 3}


def test_generic_faults_hit_the_intake_too(sim):
    state = sim.state
    httpx.post(f"{sim.base}/_sandbox/faults", json={"kind": "http_500", "operation": "inventory"})
    state.add_fault("http_429", retry_after=2, operation="inventory")
    state.add_fault("apply_then_drop", operation="inventory", then="502")
    body = "id,quantity\nA,3\n"
    assert put(sim, body).status_code == 500
    throttled = put(sim, body)
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "2"
    lost = put(sim, body, **{"Idempotency-Key": "k"})
    assert lost.status_code == 502 and state.inventory_stock("A") == 3  # applied, answer lost
    retried = put(sim, body, **{"Idempotency-Key": "k"})
    assert retried.status_code == 200 and retried.json()["updated"] == 1
    assert [u.replay for u in state.inventory_uploads] == [False, True]
    assert state.stats()["faults_fired"] == {"http_500": 1, "http_429": 1, "apply_then_drop": 1}


def test_a_100k_row_file_is_processed_whole(sim):
    rows = "".join(f"SKU-{n:06d},{n % 97},in stock\n" for n in range(100_000))
    body = ("id,quantity,availability\n" + rows).encode()
    response = put(sim, body, name="full.csv")
    report = response.json()
    assert (report["rows"], report["updated"], report["rejected"]) == (100_000, 100_000, 0)
    assert report["results"][-1] == {"line": 100_001, "id": "SKU-099999", "status": "updated",
                                     "quantity": 99_999 % 97, "message": None}
    assert len(sim.state.inventory_snapshot()) == 100_000
