"""What each reader role reads: the analyst roles no buyer's personal data (buyers as a pseudonymous key,
addresses as country and postcode area), the support roles everything analysts read and the personal data
too; none of them raw or ops. Granted through `marketsync analyst grant [--role support] [--store S] ROLE`.

Roles belong to the whole server, so every role made here has a name of this run and is dropped at the end."""
from __future__ import annotations

import hashlib
import hmac
import json
import re

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from store_rows import rows_as, seed_store

READERS = ("analyst", "store_analyst", "support", "store_support")
ANALYSTS = ("analyst", "store_analyst")

# Column names that usually hold who a buyer is or where they live, wherever they stand; and the columns of
# such a name that do not (a product's or a store's name, a country, an area, a carrier).
PERSONAL_NAME = re.compile(r"(email|e_mail|(^|_)name$|first_name|last_name|phone|street|zip|postcode|city"
                           r"|company|tracking_number|tracking_url|birth|vat_id|tax_id)")
NOT_PERSONAL = {"core.fulfillment_products.name", "core.visible_stores.name", "core.visible_catalog_sources.name",
                "core.order_addresses.country_name", "core.order_addresses.postcode_area",
                "analytics.orders.ship_postcode_area"}


def readable(conn, role: str) -> dict[str, set[str]]:
    """Every column `role` may SELECT in the schemas it may use, by relation (schema.relation)."""
    rows = conn.execute(text(
        """SELECT n.nspname || '.' || c.relname AS relation, a.attname AS column_name
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
             AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
             AND has_schema_privilege(:role, n.oid, 'USAGE')
             AND has_column_privilege(:role, c.oid, a.attnum, 'SELECT')"""), {"role": role}).all()
    columns: dict[str, set[str]] = {}
    for relation, column in rows:
        columns.setdefault(relation, set()).add(column)
    return columns


def comments(conn) -> dict[str, str]:
    """Every column's comment in core, analytics and support, by schema.relation.column."""
    return dict(conn.execute(text(
        """SELECT n.nspname || '.' || c.relname || '.' || a.attname, col_description(c.oid, a.attnum)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           WHERE n.nspname IN ('core', 'analytics', 'support') AND c.relkind IN ('r', 'p', 'v', 'm', 'f')""")
    ).tuples().all())


def flat(columns: dict[str, set[str]]) -> set[str]:
    return {f"{relation}.{column}" for relation, names in columns.items() for column in names}


def test_every_column_each_reader_reads_and_no_personal_data_for_analysts(warehouse):
    with warehouse.begin() as conn:
        reads = {role: flat(readable(conn, role)) for role in READERS}
        described = comments(conn)
    listing = "\n".join(f"{role}: {len(cols)} columns\n  " + "\n  ".join(sorted(cols)) for role, cols in reads.items())
    personal = {column for column, comment in described.items() if (comment or "").startswith("Personal data")}
    assert personal, "no column is marked 'Personal data' in its comment"
    for role in READERS:
        schemas = {column.split(".")[0] for column in reads[role]}
        assert schemas <= {"core", "analytics", "support"}, (role, schemas)
    for role in ANALYSTS:
        assert not reads[role] & personal, f"{role} reads personal data: {sorted(reads[role] & personal)}\n{listing}"
        named = {c for c in reads[role] if PERSONAL_NAME.search(c.rsplit(".", 1)[1]) and c not in NOT_PERSONAL}
        assert not named, f"{role} reads columns whose names say personal data: {sorted(named)}\n{listing}"
        assert not any(column.startswith("support.") for column in reads[role]), role
    assert reads["analyst"] == reads["store_analyst"] and reads["support"] == reads["store_support"]
    # Support reads what analysts read and the personal data; analysts read everything else of core and
    # analytics (a column hidden from them by mistake is a failure too).
    every = {c for c in described if not c.startswith("support.")}
    assert reads["analyst"] == every - personal, sorted(every - personal - reads["analyst"])
    assert reads["support"] == set(described), sorted(set(described) - reads["support"])


def test_a_column_an_analyst_cannot_read_is_marked_personal_data(warehouse):
    """The grants (sql/analyst_role.sql) and the data dictionary say the same about personal data."""
    with warehouse.begin() as conn:
        reads = flat(readable(conn, "analyst"))
        described = comments(conn)
    hidden = {c for c in described if not c.startswith("support.") and c not in reads}
    unmarked = {c for c in hidden if not (described[c] or "").startswith("Personal data")}
    assert hidden and not unmarked, sorted(unmarked)


def test_analysts_are_refused_personal_columns_and_the_key(warehouse, roles):
    with warehouse.begin() as conn:
        seed_store(conn, "a")
    for statement in ("SELECT customer_email FROM core.orders", "SELECT * FROM core.order_addresses",
                      "SELECT tracking_number FROM core.fulfillment_shipments",
                      "SELECT * FROM support.order_contacts", "SELECT * FROM ops.buyer_pseudonym_keys",
                      "SELECT ops.buyer_key(1, 'buyer@a')"):
        with warehouse.begin() as conn:
            conn.execute(text("SET LOCAL ROLE analyst"))
            with pytest.raises(DBAPIError, match="permission denied"):
                conn.execute(text(statement))
    with warehouse.begin() as conn:
        conn.execute(text("SET LOCAL ROLE analyst"))
        row = conn.execute(text("SELECT buyer_key, ship_country, units FROM analytics.orders")).one()
        assert re.fullmatch(r"[0-9a-f]{32}", row.buyer_key) and row.ship_country == "LU" and row.units == 2


def _pads(conn, store_id: int) -> tuple[bytes, bytes]:
    return conn.execute(text("SELECT inner_pad, outer_pad FROM ops.buyer_pseudonym_keys WHERE store_id = :s"),
                        {"s": store_id}).one()


def test_buyer_key_is_an_hmac_per_store_stable_for_a_buyer(warehouse):
    with warehouse.begin() as conn:
        seed_store(conn, "a")
        seed_store(conn, "b")
        ids = dict(conn.execute(text("SELECT code, store_id FROM ops.stores")).tuples().all())
        account_a = conn.execute(text("SELECT account_id FROM ops.accounts WHERE store_id = :s"),
                                 {"s": ids["a"]}).scalar_one()
        for number, email in (("2", "  Buyer@A "), ("3", None)):
            conn.execute(text(
                """INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id,
                                           order_number, channel_state, source_payload_sha, customer_email)
                   VALUES (:s, :a, 'letzshop', 'o' || :n, 's' || :n, 'R' || :n, 'confirmed', 'x', :e)"""),
                {"s": ids["a"], "a": account_a, "n": number, "e": email})
        keys = dict(conn.execute(text("SELECT order_number, buyer_key FROM core.orders")).tuples().all())
        inner, outer = _pads(conn, ids["a"])
        # A hand-written key does not stay.
        conn.execute(text("UPDATE core.orders SET buyer_key = repeat('0', 32) WHERE order_number = 'R-a'"))
        rewritten = conn.execute(text("SELECT buyer_key FROM core.orders WHERE order_number = 'R-a'")).scalar_one()

    # The same buyer (case and spaces aside) has one key in a store, another in another store; none without
    # an address.
    assert keys["R-a"] == keys["R2"] != keys["R-b"] and keys["R3"] is None and rewritten == keys["R-a"]
    # It is HMAC-SHA256 with the store's key (recovered from the pads), truncated to 16 bytes.
    key = bytes(b ^ 0x36 for b in inner)
    assert bytes(b ^ 0x5C for b in outer) == key and key[32:] == bytes(32)
    assert keys["R-a"] == hmac.new(key[:32], b"buyer@a", hashlib.sha256).hexdigest()[:32]


def test_erasing_a_buyer_drops_the_key_and_the_postcode_area(warehouse):
    from marketsync.assets.privacy.erasure import erase_buyer

    with warehouse.begin() as conn:
        seed_store(conn, "a")
        conn.execute(text("UPDATE core.order_addresses SET zip_code = 'L-1234'"))
        assert conn.execute(text("SELECT postcode_area FROM core.order_addresses")).scalars().all() == ["12", "12"]
        erase_buyer(conn, "a", "buyer@a", "test")
        order = conn.execute(text("SELECT buyer_key, customer_email FROM core.orders")).one()
        areas = conn.execute(text("SELECT postcode_area FROM core.order_addresses")).scalars().all()
    assert order == (None, None) and areas == [None, None]


@pytest.mark.parametrize(("country", "postcode", "area"), [
    ("LU", "L-1234", "12"), ("DE", "10115", "10"), ("DE", "D-10115", "10"), ("FR", "75 001", "75"),
    ("NL", "1012 AB", "10"), ("BE", "1000", "10"), ("GB", "SW1A 1AA", "SW"), ("GB", "m1 1ae", "M"),
    ("IE", "D02 X285", "D02"), ("CA", "K1A 0B1", "K"), ("MT", "VLT 1117", None), ("LU", "", None),
    ("LU", None, None), ("LU", "1", None)])
def test_postcode_area(warehouse, country, postcode, area):
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT core.postcode_area(:c, :p)"), {"c": country, "p": postcode}).scalar() == area


def test_support_reads_personal_data_of_its_stores_and_analysts_do_not(warehouse, run_cli, roles):
    with warehouse.begin() as conn:
        seed_store(conn, "a")
        seed_store(conn, "b")
    desk, desk_a, team_a = roles("desk"), roles("desk_a"), roles("team_a")
    code, out, err = run_cli("analyst", "grant", "--role", "support", desk)
    assert code == 0 and f"role '{desk}' (made, NOLOGIN: grant it to logins) now reads every store, with buyers' " \
                          "personal data" in out, err
    code, out, err = run_cli("analyst", "grant", "--role", "support", "--store", "a", desk_a)
    assert code == 0 and "now reads store a, with buyers' personal data; it reads: a" in out, err
    assert run_cli("analyst", "grant", "--store", "a", team_a)[0] == 0

    with warehouse.begin() as conn:
        contacts = "SELECT customer_email FROM support.order_contacts"
        for role, emails in ((desk, {"buyer@a", "buyer@b"}), (desk_a, {"buyer@a"})):
            conn.execute(text(f'SET LOCAL ROLE "{role}"'))
            assert set(conn.execute(text(contacts)).scalars()) == emails, role
            assert set(conn.execute(text("SELECT customer_email FROM core.orders")).scalars()) == emails, role
            assert conn.execute(text("SELECT count(*) FROM core.order_addresses WHERE city IS NOT NULL")
                                ).scalar() == 2 * len(emails), role
            conn.execute(text("RESET ROLE"))
        assert rows_as(conn, team_a, "core.orders").total() == 1
        conn.execute(text(f'SET LOCAL ROLE "{team_a}"'))
        with pytest.raises(DBAPIError, match="permission denied"):
            conn.execute(text(contacts))

    listed = {(g["role"], g["access"], g["store"]) for g in json.loads(run_cli("analyst", "list", "--json")[1])}
    assert {(desk, "support", "*"), (desk_a, "support", "a"), (team_a, "analyst", "a")} <= listed


def test_a_role_reads_its_stores_one_way(warehouse, run_cli, roles):
    with warehouse.begin() as conn:
        seed_store(conn, "a")
        seed_store(conn, "b")
    team, desk = roles("team"), roles("desk")
    assert run_cli("analyst", "grant", "--store", "a", team)[0] == 0
    code, _, err = run_cli("analyst", "grant", "--role", "support", "--store", "b", team)
    assert code == 1 and "reads its stores as analyst" in err
    code, _, err = run_cli("analyst", "grant", "--role", "support", team)
    assert code == 1 and "reads stores a as a store role: revoke them first" in err
    for refused in ("support", "store_support", "analyst"):
        code, _, err = run_cli("analyst", "grant", "--role", "support", refused)
        assert code == 1 and "cannot be granted" in err, refused

    assert run_cli("analyst", "grant", "--role", "support", desk)[0] == 0
    code, out, _ = run_cli("analyst", "grant", "--role", "support", desk)
    assert code == 0 and "already read every store" in out
    code, _, err = run_cli("analyst", "grant", "--store", "a", desk)
    assert code == 1 and "reads every store already" in err
    code, out, err = run_cli("analyst", "revoke", "--role", "support", desk)
    assert code == 0 and "no longer reads every store as support" in out, err
    with warehouse.begin() as conn:
        conn.execute(text(f'SET LOCAL ROLE "{desk}"'))
        with pytest.raises(DBAPIError, match="permission denied"):
            conn.execute(text("SELECT customer_email FROM core.orders"))
    code, _, err = run_cli("analyst", "revoke", "--role", "support", desk)
    assert code == 1 and "was not granted every store as support" in err
