"""Google Sheets: the real gspread client, through GoogleSheetsResource, against the Sheets v4
simulator over loopback (metadata, trimmed values, one-request batch writes, Google's errors,
retries, the per-token quota), and a replay of gspread's recorded API traffic against the simulator."""
import json
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import gspread
import httpx
import pytest

from marketsync.resources.google_sheets import GoogleSheetsError, GoogleSheetsResource
from marketsync.sandbox.google_sheets.a1 import Block, RangeError, parse_range, quote_sheet
from marketsync.sandbox.google_sheets.app import create_app
from marketsync.sandbox.google_sheets.demo import DEMO_HEADER, DEMO_WORKSHEET, seed_demo
from marketsync.sandbox.google_sheets.state import GoogleSheetsState
from marketsync.sandbox.http import serve_in_thread

TOKEN = "ya29.Canary-Sheets-Token/Value+xyz"
SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs" / "google_sheets"
GET = "spreadsheets.values.get"
BATCH = "spreadsheets.values.batchUpdate"


@pytest.fixture
def sheets():
    """A Google Sheets simulator on loopback: (state, base URL)."""
    state = GoogleSheetsState()
    with serve_in_thread(create_app(state)) as server:
        yield state, server.base_url


def _resource(base_url: str, **overrides) -> GoogleSheetsResource:
    settings = {"base_url": base_url, "bearer_token": TOKEN, "timeout_seconds": 5, "attempts": 4,
                "retry_base_seconds": 0.01, "max_retry_wait_seconds": 0.05, "max_retry_total_seconds": 5}
    return GoogleSheetsResource(**{**settings, **overrides})


# ------------------------------------------------------------------------------------------- reads
def test_open_by_key_reads_the_spreadsheet_metadata(sheets):
    state, base_url = sheets
    spreadsheet_id = seed_demo(state)
    client = _resource(base_url).client()
    spreadsheet = client.open_by_key(spreadsheet_id)
    assert spreadsheet.id == spreadsheet_id and spreadsheet.title == "Inbound Control (demo)"
    assert [w.title for w in spreadsheet.worksheets()] == [DEMO_WORKSHEET, "Notes"]
    worksheet = spreadsheet.worksheet(DEMO_WORKSHEET)
    assert (worksheet.id, worksheet.row_count, worksheet.col_count, worksheet.frozen_row_count) == (0, 1000, 26, 1)
    assert state.count("spreadsheets.get") == 3 and state.writes == 0
    # gspread's own URLs are untouched: requests are moved by the session's transport adapter.
    assert gspread.urls.SPREADSHEETS_API_V4_BASE_URL == "https://sheets.googleapis.com/v4/spreadsheets"


def test_values_are_trimmed_as_the_api_trims_them(sheets):
    state, base_url = sheets
    spreadsheet_id = state.add_spreadsheet("Trim", [["A1", "B1", "", "D1"], [1, "b2", 1.45, None], [],
                                                    ["A4", 0.4, "", 4], ["", None], []])
    spreadsheet = _resource(base_url).client().open_by_key(spreadsheet_id)
    answer = spreadsheet.values_get("'Sheet1'")
    assert answer == {"range": "Sheet1!A1:Z1000", "majorDimension": "ROWS",
                      "values": [["A1", "B1", "", "D1"], ["1", "b2", "1.45"], [], ["A4", "0.4", "", "4"]]}
    assert spreadsheet.values_get("Sheet1!E1:F3") == {"range": "Sheet1!E1:F3", "majorDimension": "ROWS"}
    columns = spreadsheet.values_get("Sheet1!A1:B4", params={"majorDimension": "COLUMNS"})
    assert columns["values"] == [["A1", "1", "", "A4"], ["B1", "b2", "", "0.4"]]
    unformatted = spreadsheet.values_get("A2:C2", params={"valueRenderOption": "UNFORMATTED_VALUE"})
    assert unformatted == {"range": "Sheet1!A2:C2", "majorDimension": "ROWS", "values": [[1, "b2", 1.45]]}
    worksheet = _resource(base_url).open_worksheet(spreadsheet_id, "Sheet1")
    assert worksheet.rows() == [["A1", "B1", "", "D1"], ["1", "b2", "1.45", ""], ["", "", "", ""],
                                ["A4", "0.4", "", "4"]]
    assert worksheet.gspread.get_values("A1:B2") == [["A1", "B1"], ["1", "b2"]]
    empty = state.add_spreadsheet("Empty")
    assert _resource(base_url).open_worksheet(empty, "Sheet1").rows() == []


def test_ten_thousand_rows_are_read_in_one_request(sheets):
    state, base_url = sheets
    rows = [["Merchant SKU", "Expected units", "Inbound reference", "Status"]]
    rows += [[f"SKU-{i:05d}", i % 50, f"INB-{i // 100:03d}", "" if i % 3 else "received"] for i in range(1, 10_000)]
    spreadsheet_id = state.add_spreadsheet("Big", rows, worksheet="Inbound Control")
    worksheet = _resource(base_url).open_worksheet(spreadsheet_id, "Inbound Control")
    state.reset_counters()
    started = time.perf_counter()
    values = worksheet.rows()
    assert time.perf_counter() - started < 3
    assert len(values) == 10_000 and values[0] == rows[0]
    assert values[9_999] == ["SKU-09999", str(9_999 % 50), "INB-099", "received"]
    assert values[1] == ["SKU-00001", "1", "INB-000", ""]
    assert state.count(GET) == 1 and state.reads == 1


# ------------------------------------------------------------------------------------------- writes
def test_write_cells_sends_every_cell_in_one_batch_update(sheets):
    state, base_url = sheets
    spreadsheet_id = seed_demo(state)
    worksheet = _resource(base_url).open_worksheet(spreadsheet_id, DEMO_WORKSHEET)
    state.reset_counters()
    answer = worksheet.write_cells([("F2", "received"), ("F3:F4", [["partial"], ["=1+1"]]), ("G2", [["007", 3, True]])])
    assert state.count(BATCH) == 1 and state.writes == 1 and state.reads == 0
    assert answer["totalUpdatedCells"] == 6 and answer["totalUpdatedRows"] == 3 and answer["totalUpdatedColumns"] == 4
    assert [r["updatedRange"] for r in answer["responses"]] == [
        "'Inbound Control'!F2", "'Inbound Control'!F3:F4", "'Inbound Control'!G2:I2"]
    values = state.values(spreadsheet_id, DEMO_WORKSHEET)
    assert values[0] == DEMO_HEADER
    assert values[1][5:] == ["received", "007", "3", "TRUE"]  # RAW: "007" stays text
    assert values[2][5] == "partial" and values[3][5] == "=1+1"  # RAW: never a formula
    assert worksheet.write_cells([]) == {}
    assert state.writes == 1  # nothing written for an empty list
    with pytest.raises(ValueError, match="inside worksheet"):
        worksheet.write_cells([("Notes!A1", "x")])
    assert state.writes == 1


def test_update_put_and_user_entered_values(sheets):
    state, base_url = sheets
    spreadsheet_id = state.add_spreadsheet("Put")
    worksheet = _resource(base_url).open_worksheet(spreadsheet_id, "Sheet1")
    answer = worksheet.gspread.update([["12", "'12", "TRUE"], ["1.5", "x"]], "A1:C2",
                                      value_input_option="USER_ENTERED")
    assert answer == {"spreadsheetId": spreadsheet_id, "updatedRange": "Sheet1!A1:C2", "updatedRows": 2,
                      "updatedColumns": 3, "updatedCells": 5}
    assert state.count("spreadsheets.values.update") == 1
    raw = worksheet.gspread.get("A1:C2", value_render_option="UNFORMATTED_VALUE")
    assert [list(r) for r in raw] == [[12, "12", True], [1.5, "x"]]
    # More values than the range holds: refused, nothing written.
    with pytest.raises(GoogleSheetsError, match=r"HTTP 400 INVALID_ARGUMENT.*tried writing to row \[3\]") as refused:
        worksheet.gspread.update([["a"], ["b"], ["c"]], "A1:A2")
    assert refused.value.kind == "rejected"
    assert state.values(spreadsheet_id)[0][0] == "12"


def test_a_bad_range_in_a_batch_writes_nothing(sheets):
    state, base_url = sheets
    spreadsheet_id = state.add_spreadsheet("Atomic", [["a", "b"]])
    worksheet = _resource(base_url).open_worksheet(spreadsheet_id, "Sheet1")
    with pytest.raises(GoogleSheetsError, match="Unable to parse range") as refused:
        worksheet.write_cells([("A1", "changed"), ("A1:?", "bad")])
    assert refused.value.kind == "rejected" and "\n" not in str(refused.value)
    with pytest.raises(GoogleSheetsError, match="exceeds grid limits"):
        worksheet.write_cells([("A1", "changed"), ("A1001", "beyond the grid")])
    assert state.values(spreadsheet_id) == [["a", "b"]]
    assert state.count(BATCH) == 2 and state.succeeded[BATCH] == 0


# ------------------------------------------------------------------------------------------- errors
def test_missing_and_private_spreadsheets_are_clear_errors(sheets):
    state, base_url = sheets
    resource = _resource(base_url)
    with pytest.raises(GoogleSheetsError) as missing:
        resource.open_worksheet("1NoSuchSpreadsheet", "Sheet1")
    assert missing.value.kind == "not_found" and not missing.value.transient
    assert "'1NoSuchSpreadsheet'" in str(missing.value) and "HTTP 404 NOT_FOUND" in str(missing.value)
    private = state.add_spreadsheet("Private", [["x"]], private=True)
    with pytest.raises(GoogleSheetsError) as denied:
        resource.open_worksheet(private, "Sheet1")
    assert denied.value.kind == "forbidden" and "HTTP 403 PERMISSION_DENIED" in str(denied.value)
    spreadsheet_id = seed_demo(state)
    with pytest.raises(GoogleSheetsError) as no_tab:
        resource.open_worksheet(spreadsheet_id, "inbound control")
    assert no_tab.value.kind == "not_found" and "'Inbound Control', 'Notes'" in str(no_tab.value)
    for error in (missing.value, denied.value, no_tab.value):
        assert "\n" not in str(error) and TOKEN not in str(error) and "Canary" not in str(error)
    assert state.statuses[404] == 1 and state.statuses[403] == 1  # neither is retried


def test_tokens_are_required_and_checked(sheets):
    state, base_url = sheets
    spreadsheet_id = state.add_spreadsheet("Auth")
    with httpx.Client(base_url=base_url) as http:
        anonymous = http.get(f"/v4/spreadsheets/{spreadsheet_id}")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["status"] == "UNAUTHENTICATED"
    assert _resource(base_url).test_connection(spreadsheet_id).worksheets == ("Sheet1",)
    state.tokens = {"only-this-one"}
    with pytest.raises(GoogleSheetsError) as refused:
        _resource(base_url).test_connection()
    assert refused.value.kind == "auth" and TOKEN not in str(refused.value) and "\n" not in str(refused.value)
    assert _resource(base_url, bearer_token="only-this-one").test_connection().spreadsheet_title is None
    with pytest.raises(GoogleSheetsError, match="needs service_account_json or bearer_token"):
        GoogleSheetsResource(base_url=base_url).client()
    with pytest.raises(GoogleSheetsError, match="not JSON") as bad_json:
        GoogleSheetsResource(base_url=base_url, service_account_json="{" + TOKEN).client()
    assert TOKEN not in str(bad_json.value)


def test_service_account_key_gets_a_token_from_its_token_uri(sheets):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    state, base_url = sheets

    def key_pair():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        return private, public

    private, public = key_pair()
    email = "marketsync@sandbox-project.iam.gserviceaccount.com"
    state.service_accounts = {email: public}
    state.tokens = set()  # only tokens issued by /token are accepted
    info = {"type": "service_account", "project_id": "sandbox-project", "private_key_id": "k1",
            "private_key": private, "client_email": email, "client_id": "1", "token_uri": f"{base_url}/token"}
    spreadsheet_id = state.add_spreadsheet("Keyed", [["ok"]])
    resource = _resource(base_url, bearer_token=None, service_account_json=json.dumps(info))
    assert resource.open_worksheet(spreadsheet_id, "Sheet1").rows() == [["ok"]]
    assert state.count("oauth2.token") == 1 and len(state.issued_tokens) == 1
    state.set_private(spreadsheet_id)
    with pytest.raises(GoogleSheetsError, match=f"share it with the service account {email}"):
        resource.open_worksheet(spreadsheet_id, "Sheet1")
    wrong_key, _ = key_pair()
    forged = _resource(base_url, bearer_token=None, service_account_json=json.dumps({**info, "private_key": wrong_key}))
    with pytest.raises(GoogleSheetsError) as refused:
        forged.test_connection()
    message = str(refused.value)
    assert refused.value.kind == "auth" and "invalid_grant" in message and "\n" not in message
    assert "PRIVATE KEY" not in message and wrong_key[40:80] not in message


# ------------------------------------------------------------------------------------------- retries
def test_429_is_retried_and_then_succeeds(sheets):
    state, base_url = sheets
    spreadsheet_id = state.add_spreadsheet("Retry", [["a", "b"]])
    resource = _resource(base_url, max_retry_wait_seconds=1)  # backoff stays short: base 0.01 s
    worksheet = resource.open_worksheet(spreadsheet_id, "Sheet1")
    state.reset_counters()
    state.add_fault("http_429", count=2)
    assert worksheet.rows() == [["a", "b"]]
    assert state.faults_fired["http_429"] == 2 and state.count(GET) == 3
    assert resource.client().http_client.retries == 2
    state.add_fault("http_503", retry_after=0.3, target="write")
    state.add_fault("http_500", target="write")
    started = time.perf_counter()
    worksheet.write_cells([("B1", "B"), ("C1", "C")])
    assert time.perf_counter() - started >= 0.3  # Retry-After honoured
    assert state.count(BATCH) == 3 and state.succeeded[BATCH] == 1
    assert state.values(spreadsheet_id) == [["a", "B", "C"]]


def test_retries_are_bounded_and_end_in_one_line(sheets):
    state, base_url = sheets
    spreadsheet_id = state.add_spreadsheet("Down", [["a"]])
    worksheet = _resource(base_url, attempts=3).open_worksheet(spreadsheet_id, "Sheet1")
    state.reset_counters()
    state.add_fault("http_500", count=100)
    with pytest.raises(GoogleSheetsError) as failed:
        worksheet.rows()
    assert failed.value.kind == "server" and failed.value.transient and state.count(GET) == 3
    assert "HTTP 500 INTERNAL" in str(failed.value) and "\n" not in str(failed.value)
    state.clear_faults()
    state.add_fault("http_429", count=100, retry_after=0.4)
    bounded = _resource(base_url, attempts=50, max_retry_wait_seconds=1, max_retry_total_seconds=1)
    started = time.perf_counter()
    with pytest.raises(GoogleSheetsError) as limited:
        bounded.test_connection(spreadsheet_id)
    assert limited.value.kind == "rate_limited" and time.perf_counter() - started < 1.5


def test_quota_answers_429_past_the_reads_allowed_per_window(sheets):
    state, base_url = sheets
    spreadsheet_id = state.add_spreadsheet("Quota", [["a"]])
    state.read_quota, state.write_quota, state.quota_window = 3, 2, 60.0
    url = f"/v4/spreadsheets/{spreadsheet_id}/values/Sheet1"
    with httpx.Client(base_url=base_url, headers={"Authorization": "Bearer reader"}) as http:
        assert [http.get(url).status_code for _ in range(4)] == [200, 200, 200, 429]
        refused = http.get(url).json()["error"]
        other_user = http.get(url, headers={"Authorization": "Bearer someone-else"})
        write = http.put(url, params={"valueInputOption": "RAW"}, json={"values": [["b"]]})
    assert (refused["code"], refused["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert "Read requests" in refused["message"]
    assert other_user.status_code == 200  # the window is per token
    assert write.status_code == 200  # writes have their own quota
    assert state.quota_refusals["read"] == 2
    with pytest.raises(GoogleSheetsError) as exhausted:
        _resource(base_url, bearer_token="reader", attempts=1).test_connection(spreadsheet_id)
    assert exhausted.value.kind == "rate_limited" and "HTTP 429 RESOURCE_EXHAUSTED" in str(exhausted.value)
    # A sliding window: once the oldest reads leave it, the client's backoff gets through.
    state.read_quota, state.quota_window = 2, 0.3
    resource = _resource(base_url, bearer_token="fresh", attempts=8, retry_base_seconds=0.05,
                         max_retry_wait_seconds=0.2)
    worksheet = resource.open_worksheet(spreadsheet_id, "Sheet1")  # two reads: the window is full
    assert worksheet.rows() == [["b"]]
    assert resource.client().http_client.retries >= 1


# ------------------------------------------------------------------------------------------- simulator
def test_a1_ranges():
    titles = ["Sheet1", "Inbound Control", "It's"]
    assert parse_range("'Inbound Control'!A1:F200", titles).block == Block(0, 0, 199, 5)
    assert parse_range("Inbound Control", titles).sheet == "Inbound Control"
    assert parse_range("'It''s'!B2", titles).sheet == "It's"
    assert parse_range("A2:C", titles).block == Block(1, 0, None, 2)
    assert parse_range("Sheet1!B:A", titles).block == Block(0, 0, None, 1)
    assert parse_range("3:5", titles).block == Block(2, 0, 4, None)
    assert parse_range("$B$2:A1", titles).block == Block(0, 0, 1, 1)
    for bad in ("Nope!A1", "'Inbound Control'!'Inbound Control'!A1", "A1:?", "'Open!A1", "A", ""):
        with pytest.raises(RangeError):
            parse_range(bad, titles)
    assert [quote_sheet(t) for t in ("Sheet1", "Inbound Control", "A1", "It's")] == [
        "Sheet1", "'Inbound Control'", "'A1'", "'It''s'"]


def test_admin_routes_seed_inspect_and_arm_faults(sheets):
    _state, base_url = sheets
    with httpx.Client(base_url=base_url) as http:
        created = http.post("/_sandbox/spreadsheets", json={"title": "Via HTTP", "worksheet": "Tab",
                                                             "rows": [["x", None, "y"]]}).json()
        armed = http.post("/_sandbox/faults", json={"kind": "http_503", "count": 2}).json()["faults_armed"]
        assert armed[0]["count"] == 2
        dumped = http.get(f"/_sandbox/spreadsheets/{created['spreadsheetId']}", params={"worksheet": "Tab"}).json()
        stats = http.get("/_sandbox/stats").json()
        assert http.delete("/_sandbox/faults").json() == {"faults_armed": []}
        assert http.post("/_sandbox/faults", json={"kind": "http_418"}).status_code == 400
    assert dumped == {"values": [["x", "", "y"]]}
    assert stats["spreadsheets"] == 1 and stats["reads"] == 0


# ------------------------------------------------------------------------------------------- conformance
def _replace_ids(text: str, ids: dict[str, str]) -> str:
    for recorded, ours in ids.items():
        text = text.replace(recorded, ours)
    return text


def _same_shape(recorded, ours, where: str) -> None:
    """Same keys at every level of objects, same list lengths (values may differ)."""
    if isinstance(recorded, dict):
        assert isinstance(ours, dict) and set(ours) == set(recorded), (where, sorted(ours), sorted(recorded))
        for key in recorded:
            _same_shape(recorded[key], ours[key], f"{where}.{key}")
    elif isinstance(recorded, list):
        assert isinstance(ours, list) and len(ours) == len(recorded), where
        for i, (a, b) in enumerate(zip(recorded, ours, strict=True)):
            _same_shape(a, b, f"{where}[{i}]")


@pytest.mark.integration
def test_recorded_gspread_traffic_replays_against_the_simulator():
    """gspread 6's recorded requests, sent to the simulator: same statuses, same answers (values,
    trimming, ranges, update counts exactly; metadata, Drive and error bodies by shape)."""
    cassettes = sorted((SPECS / "gspread_cassettes").glob("*.json"))
    if not cassettes:
        pytest.skip("public Google Sheets facts (../shared/specs/google_sheets) are not present")
    state = GoogleSheetsState(read_quota=10_000, write_quota=10_000)
    replayed = 0
    with serve_in_thread(create_app(state)) as server, httpx.Client(base_url=server.base_url) as http:
        for cassette in cassettes:
            ids: dict[str, str] = {}
            for interaction in json.loads(cassette.read_text())["interactions"]:
                request, recorded = interaction["request"], interaction["response"]
                uri = urlsplit(_replace_ids(request["uri"], ids))
                target = uri.path + (f"?{uri.query}" if uri.query else "")
                where = f"{cassette.name}: {request['method']} {target}"
                status = recorded["status"]["code"]
                raw_body = recorded["body"]["string"]
                expected = json.loads(_replace_ids(raw_body, ids)) if raw_body.strip() else None
                opened = re.match(r"/v4/spreadsheets/([^/:?]+)", uri.path)
                if status == 403 and opened and opened.group(1) not in state.spreadsheets:
                    # The recording account could not open this one: the simulator's private flag.
                    state.add_spreadsheet("someone else's", spreadsheet_id=opened.group(1), private=True)
                body = request.get("body")
                answer = http.request(request["method"], target, content=body.encode() if body else None,
                                      headers={"Authorization": "Bearer replay", "Content-Type": "application/json"})
                assert answer.status_code == status, (where, answer.text[:300])
                replayed += 1
                if expected is None:
                    assert not answer.content.strip(), where
                    continue
                ours = answer.json()
                if request["method"] == "POST" and uri.path == "/drive/v3/files":
                    ids[expected["id"]] = ours["id"]
                    expected["id"] = ours["id"]
                if "error" in expected or uri.path.startswith("/drive/"):
                    _same_shape(expected, ours, where)
                    if "error" in expected:
                        assert {k: ours["error"][k] for k in ("code", "status")} == \
                            {k: expected["error"][k] for k in ("code", "status")}, where
                elif "properties" in expected:  # spreadsheets.get: metadata by shape, sheets exactly
                    _same_shape(expected, ours, where)
                    assert ours["sheets"] == expected["sheets"], where
                    assert ours["spreadsheetUrl"] == expected["spreadsheetUrl"], where
                    assert ours["properties"]["title"] == expected["properties"]["title"], where
                else:
                    assert ours == expected, where
    assert replayed >= 60
