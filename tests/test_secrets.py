"""No secret anywhere: a canary API key with characters URL-encoding changes goes through every path
(set, test-connection, sync, confirm, outbound, a revoked-key failure) and is then searched for, raw,
URL-encoded and base64-encoded, in captured output, logs, the sync log, the Dagster event log and every
text column of the database."""
import logging
import secrets

from canary import assert_in_no_column, secret_forms
from sqlalchemy import text

from marketsync.resources.vault import CredentialVault, Secrets, mask


def _text_columns(conn):
    return conn.execute(text(
        """SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns
           WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
             AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea')""")).all()


def test_canary_key_never_appears(run_cli, shop, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    canary = f"letz+canary/{secrets.token_hex(6)}=&%?#~:;key"
    shop.state.add_key(canary)
    from marketsync.sandbox.letzshop.data import write_catalog_csv

    write_catalog_csv(tmp_path / "c.csv", 7, 30)
    outputs = []

    def cli(*args, stdin=None):
        code, out, err = run_cli(*args, stdin=stdin)
        outputs.append(out + err)
        return code, out, err

    import json

    assert cli("credentials", "set", "shop", "letzshop", stdin=json.dumps({"api_key": canary}))[0] == 0
    assert cli("credentials", "show", "shop", "letzshop")[0] == 0
    assert cli("test-connection", "shop", "letzshop")[0] == 0
    cli("products", "import", "shop", str(tmp_path / "c.csv"))
    assert cli("sync", "orders", "shop", "letzshop")[0] == 0
    with shop.warehouse.begin() as conn:
        clean = conn.execute(text(
            "SELECT min(order_number) FROM analytics.orders WHERE open_exceptions = 0")).scalar_one()
    cli("orders", "confirm", clean)
    shop.state.revoke_key(canary)
    assert cli("test-connection", "shop", "letzshop")[0] == 1
    assert cli("sync", "orders", "shop", "letzshop")[0] == 1
    cli("outbound", "run")
    assert any("refused the API key" in o for o in outputs)

    forms = secret_forms(canary)
    captured = "\n".join(outputs) + "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    for form in forms:
        assert form not in captured

    with shop.warehouse.engine.connect() as conn:
        columns = _text_columns(conn)
        assert any(c.table_name == "event_logs" for c in columns), "the Dagster event log should be in this database"
        assert_in_no_column(conn, forms, columns, "the secret")


def test_secrets_print_masked_and_tokens_rotate(warehouse, secret_key):
    assert mask("letzshop-api-key-123") == "letz****"
    assert mask("short") == "****"
    assert "letzshop-api" not in repr(Secrets({"api_key": "letzshop-api-key-123"}))

    from cryptography.fernet import Fernet

    from marketsync.assets.accounts import upsert_account

    old = CredentialVault(secret_keys=secret_key)
    with warehouse.begin() as conn:
        for store in ("a", "b", "c"):
            account = upsert_account(conn, store, "letzshop")
            old.store(conn, account.account_id, {"api_key": f"key-of-{store}-0123456789"})
    new_key = Fernet.generate_key().decode()
    rotating = CredentialVault(secret_keys=f"{new_key},{secret_key}")
    assert rotating.rotate(warehouse.engine, batch_size=2) == 3
    assert rotating.rotate(warehouse.engine) == 0  # re-run after completion: nothing left
    only_new = CredentialVault(secret_keys=new_key)
    with warehouse.begin() as conn:
        ids = conn.execute(text("SELECT account_id FROM ops.credentials ORDER BY 1")).scalars().all()
        assert [only_new.load(conn, i).reveal("api_key") for i in ids] == [
            "key-of-a-0123456789", "key-of-b-0123456789", "key-of-c-0123456789"]


def test_interrupted_rotation_resumes(warehouse, secret_key):
    from cryptography.fernet import Fernet

    from marketsync.assets.accounts import upsert_account

    old = CredentialVault(secret_keys=secret_key)
    with warehouse.begin() as conn:
        for store in ("a", "b", "c", "d"):
            old.store(conn, upsert_account(conn, store, "letzshop").account_id, {"api_key": f"k-{store}"})
    new_key = Fernet.generate_key().decode()
    rotating = CredentialVault(secret_keys=f"{new_key},{secret_key}")
    # Interrupt after the first batch: the first batch's rows stay rotated.
    calls = {"n": 0}
    real_begin = warehouse.engine.begin

    class Interrupted(Exception):
        pass

    def flaky_begin():
        calls["n"] += 1
        if calls["n"] == 2:
            raise Interrupted()
        return real_begin()

    engine = type("E", (), {"begin": staticmethod(flaky_begin)})()
    try:
        rotating.rotate(engine, batch_size=2)
    except Interrupted:
        pass
    with warehouse.begin() as conn:
        done = conn.execute(text("SELECT count(*) FROM ops.credentials WHERE key_id = :k"),
                            {"k": rotating.primary_key_id}).scalar_one()
    assert done == 2
    assert rotating.rotate(warehouse.engine) == 2
