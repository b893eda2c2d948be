"""The data dictionary: every table, view and column an analyst reads in core and analytics carries a
comment (migrations and the repeatable view files write them), and the README's data dictionary is the
generator's output from those comments, so the two cannot drift."""
from pathlib import Path

from sqlalchemy import Connection, text

from marketsync.pipelines.data_dictionary import SCHEMAS, data_dictionary, readme_section

README = Path(__file__).resolve().parents[1] / "README.md"
# The roles whose readable relations and columns must be described. A role that does not exist in this
# database yet (support arrives with the personal-data roles of issue 21) is skipped.
ROLES_TO_DESCRIBE = ("analyst", "store_analyst", "support")

_UNDESCRIBED_COLUMNS = text("""
    SELECT n.nspname || '.' || c.relname || '.' || a.attname
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE n.nspname = ANY(:schemas) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND has_schema_privilege(:role, n.oid, 'USAGE')
      AND has_column_privilege(:role, c.oid, a.attnum, 'SELECT')
      AND coalesce(btrim(col_description(c.oid, a.attnum)), '') = ''
""")
_UNDESCRIBED_RELATIONS = text("""
    SELECT n.nspname || '.' || c.relname
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY(:schemas) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND has_schema_privilege(:role, n.oid, 'USAGE')
      AND (has_table_privilege(:role, c.oid, 'SELECT') OR has_any_column_privilege(:role, c.oid, 'SELECT'))
      AND coalesce(btrim(obj_description(c.oid, 'pg_class')), '') = ''
""")


def undescribed(conn: Connection, roles=ROLES_TO_DESCRIBE) -> dict[str, list[str]]:
    """Per existing role of `roles`: each table, view and column of core and analytics it can read
    (SELECT on it, or on any of its columns) that has no comment, sorted. Roles that do not exist are left out."""
    existing = set(conn.execute(text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:r)"),
                                {"r": list(roles)}).scalars())
    missing = {}
    for role in (r for r in roles if r in existing):
        params = {"role": role, "schemas": list(SCHEMAS)}
        missing[role] = sorted([*conn.execute(_UNDESCRIBED_RELATIONS, params).scalars(),
                                *conn.execute(_UNDESCRIBED_COLUMNS, params).scalars()])
    return missing


def test_every_readable_table_view_and_column_has_a_comment(warehouse):
    with warehouse.begin() as conn:
        missing = undescribed(conn)
    assert "analyst" in missing, "the analyst role should exist after the upgrade"
    readers: dict[str, list[str]] = {}
    for role, names in missing.items():
        for name in names:
            readers.setdefault(name, []).append(role)
    assert not readers, ("without a comment, though readable (add its COMMENT ON in the migration or view file "
                         "that makes it, then `make dictionary`):\n" +
                         "\n".join(f"  {name} (read by {', '.join(roles)})" for name, roles in sorted(readers.items())))


def test_a_column_without_a_comment_is_found(warehouse):
    """The check above can fail: a comment removed (in a transaction rolled back) is listed, as is a new
    undescribed view; a role that does not exist is skipped."""
    with warehouse.engine.connect() as conn:
        conn.execute(text("COMMENT ON COLUMN core.orders.total IS NULL"))
        conn.execute(text("COMMENT ON TABLE core.order_items IS ''"))
        conn.execute(text("CREATE VIEW analytics.undescribed_view AS SELECT 1 AS one"))
        conn.execute(text("GRANT SELECT ON analytics.undescribed_view TO analyst"))
        missing = undescribed(conn, roles=("analyst", "no_such_role_h21"))
        conn.rollback()
    assert list(missing) == ["analyst"]
    assert {"analytics.undescribed_view", "analytics.undescribed_view.one", "core.order_items",
            "core.orders.total"} <= set(missing["analyst"])


def test_the_readme_data_dictionary_is_the_databases(warehouse):
    with warehouse.begin() as conn:
        generated = data_dictionary(conn)
    assert readme_section(README.read_text()) == generated, (
        "README.md's data dictionary differs from the comments in the database: run `make dictionary`")


def test_the_cli_prints_the_data_dictionary(warehouse, run_cli):
    with warehouse.begin() as conn:
        generated = data_dictionary(conn)
    code, out, err = run_cli("db", "dictionary")
    assert code == 0, err
    assert out == generated
    assert "#### `core.orders` (table)" in out and "#### `analytics.orders` (view)" in out
