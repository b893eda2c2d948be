"""Every user-reachable command run with hostile arguments: local files (/proc/self/environ, the issue's own
example, and /etc/passwd), internal addresses (cloud metadata, the Postgres port, loopback spelled as IPv6),
other schemes, a password in a URL, malformed secrets on stdin, and feeds whose header and rows hold the
vault's key. Each is refused or quarantined in words; afterwards neither the vault key nor a stored
credential canary appears in any CLI output, log, Dagster event, ops.quarantine row or other text column."""
import json
import logging
import secrets
from urllib.parse import quote

from canary import assert_in_no_column, secret_forms
from sqlalchemy import text

from marketsync.resources.url_policy import LOCAL_DIRS_SETTING, SETTING
from marketsync.sandbox.feeds.http_server import create_app
from marketsync.sandbox.http import serve_in_thread

MAPPING = {"external_id": "sku", "sku": "sku", "title": {"en": "title"}, "price": "price", "quantity": "qty",
           "defaults": {"currency": "EUR"}}
HOSTILE_URLS = [
    "file:///proc/self/environ", "file:///etc/passwd", "/proc/self/environ", "../../../../etc/passwd",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/", "http://127.0.0.1:5432/",
    "http://[::ffff:127.0.0.1]:5432/", "http://[::1]:6379/", "gopher://127.0.0.1:6379/_FLUSHALL",
    "data:text/csv,sku%0AA", "jar:http://example.com/x.jar!/feed.csv", "http://0.0.0.0:8080/feed.csv",
    "ftp://100.64.0.1/feed.csv", "http://[fd00:ec2::254]/latest/",
]


def _text_columns(conn):
    return conn.execute(text(
        """SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns
           WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
             AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea')""")).all()


def test_hostile_arguments_leak_no_secret(run_cli, shop, tmp_path, caplog, monkeypatch, secret_key):
    caplog.set_level(logging.DEBUG)
    monkeypatch.delenv(SETTING)  # the default policy: nothing private, no local folder
    monkeypatch.delenv(LOCAL_DIRS_SETTING)
    canary = f"cred+canary/{secrets.token_hex(6)}=&%?#~:;key"
    outputs: list[str] = []

    def cli(*args, stdin=None):
        code, out, err = run_cli(*args, stdin=stdin)
        outputs.append(out + err)
        return code, out + err

    (tmp_path / "mapping.json").write_text(json.dumps(MAPPING))
    assert cli("credentials", "set", "shop", "letzshop", stdin=json.dumps({"api_key": canary}))[0] == 0
    # Malformed secrets on stdin: refused without being repeated.
    for broken in ('{"api_key": "' + canary, f"api_key={canary}", json.dumps([canary])):
        code, said = cli("credentials", "set", "shop", "letzshop", stdin=broken)
        assert code != 0

    for number, url in enumerate(HOSTILE_URLS):
        code, said = cli("feeds", "add", "shop", f"hostile{number}", "--url", url, "--format", "csv",
                         "--mapping", str(tmp_path / "mapping.json"))
        assert code == 1 and ("only http, https, ftp, ftps URLs" in said or SETTING in said
                              or LOCAL_DIRS_SETTING in said), (url, said)
        assert "root:" not in said and "PATH=" not in said  # nothing read from the target
        code, said = cli("feeds", "detect", url)
        assert code == 1, (url, said)
    for password, refusal in ((canary, "cannot be read"), (quote(canary, safe=""), "cloud metadata")):
        code, said = cli("feeds", "add", "shop", "pw", "--url", f"http://user:{password}@169.254.169.254/feed.csv",
                         "--format", "csv", "--mapping", str(tmp_path / "mapping.json"))
        assert code == 1 and refusal in said, said
    for endpoint in ("http://169.254.169.254/graphql", "http://127.0.0.1:5432/", "file:///etc/passwd"):
        code, said = cli("account", "add", "shop", "letzshop", "--endpoint", endpoint)
        assert code == 1 and (SETTING in said or "only http, https URLs" in said), said
    code, said = cli("account", "add", "shop", "email", "--endpoint", "smtp://[::1]:25")
    assert code == 1 and "loopback" in said
    code, said = cli("stock", "settings", "shop", "letzshop", "--adapter", "letzshop_csv",
                     "--location", "file:///proc/self/")
    assert code == 1 and LOCAL_DIRS_SETTING in said

    # A feed whose header and rows hold the vault's key (what reading /proc/self/environ would give):
    # the error names the header by scrubbed excerpts; quarantined rows are scrubbed too.
    files = tmp_path / "files"
    files.mkdir()
    (files / "environ.csv").write_text(f"MARKETSYNC_SECRET_KEYS={secret_key},HOME=/root\nx,y\n")
    (files / "rows.csv").write_text(f"sku,title,price,qty\nA,Good,1.00,1\nB,Bad,{secret_key},1\n"
                                    f"C,Also bad,2.00,{secret_key}\n")
    monkeypatch.setenv(SETTING, "127.0.0.1/32")  # the test's own feed server, and nothing else
    with serve_in_thread(create_app(files)) as server:
        assert cli("feeds", "add", "shop", "environ", "--url", f"{server.base_url}/files/environ.csv",
                   "--format", "csv", "--mapping", str(tmp_path / "mapping.json"))[0] == 0
        code, said = cli("feeds", "preview", "shop", "environ")
        assert code == 1 and "the feed has no column" in said and "MARKETSYNC_SECRET_KEYS=***" in said
        assert cli("feeds", "add", "shop", "rows", "--url", f"{server.base_url}/files/rows.csv",
                   "--format", "csv", "--mapping", str(tmp_path / "mapping.json"), "--set", "max_bad_share=1")[0] == 0
        code, said = cli("feeds", "run", "shop", "rows", "--json")
        assert code == 0, said
    with shop.warehouse.begin() as conn:
        reasons = conn.execute(text("SELECT reason FROM ops.quarantine ORDER BY line_number")).scalars().all()
    assert reasons == ["price '***' is not a number", "quantity '***' is not a whole number"]

    captured = "\n".join(outputs) + "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    for what, forms in (("the vault key", secret_forms(secret_key)), ("the credential canary", secret_forms(canary))):
        for form in forms:
            assert form not in captured, f"{what} in the output or logs"
        with shop.warehouse.engine.connect() as conn:
            columns = _text_columns(conn)
            assert any(c.table_name == "event_logs" for c in columns)
            assert_in_no_column(conn, forms, columns, what)
