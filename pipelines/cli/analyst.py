"""`marketsync analyst ...`: store analyst roles, which read the rows of their stores only.

    analyst grant --store S ROLE    ROLE reads store S's rows in core and analytics (made NOLOGIN if new)
    analyst revoke --store S ROLE   ... and no longer does
    analyst list                    every store grant of this database: role, store, when, by whom

A store role is a member of `store_analyst` (SELECT on core and analytics, like `analyst`; sql/analyst_role.sql)
and reads the stores granted to it in this database (ops.store_roles): row-level security on the core tables
and core.visible_stores in every analytics view (migration 0015). Roles belong to the whole server, grants to
one database. The `analyst` role and the owner of the tables read every store; granting them a store is
refused, as it would change nothing.
"""
from __future__ import annotations

import re

import click
from sqlalchemy import Connection, text

from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

GRANT_COLUMNS = ["role", "store", "granted_at", "granted_by", "role_exists"]
STORE_GROUP = "store_analyst"
# Postgres takes any name quoted; these are enough for a team's group or a person's login, and need no
# escaping in a statement.
_ROLE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,62}")


@click.group()
def analyst() -> None:
    """Store analyst roles: which Postgres role reads which store's rows in core and analytics."""


@analyst.command("grant")
@click.option("--store", "store", required=True, help="The store whose rows ROLE may read.")
@click.argument("role")
@pass_runtime
def analyst_grant(rt: Runtime, store: str, role: str) -> None:
    """ROLE reads store STORE's rows in core and analytics. A new ROLE is made NOLOGIN (a group: grant it to
    logins with `GRANT ROLE TO alice`); an existing role, login or not, is used as it is."""
    from marketsync.assets.stores import store_id_for

    _check_role_name(role)
    with rt.warehouse.begin() as conn:
        store_id = store_id_for(conn, store)
        created = False
        if not _role_exists(conn, role):
            _run_as_admin(conn, f'CREATE ROLE "{role}" NOLOGIN')
            created = True
        elif conn.execute(text("SELECT core.sees_every_store(:r)"), {"r": role}).scalar_one():
            raise MarketsyncError(f"role '{role}' reads every store already (it has the privileges of analyst "
                                  "or of the owner of the tables)")
        _run_as_admin(conn, f'GRANT {STORE_GROUP} TO "{role}"')
        added = conn.execute(text("INSERT INTO ops.store_roles (role_name, store_id) VALUES (:r, :s) ON CONFLICT "
                                  "DO NOTHING RETURNING true"), {"r": role, "s": store_id}).scalar()
        stores = _granted_stores(conn, role)
    made = " (made, NOLOGIN: grant it to logins)" if created else ""
    news = "now reads" if added else "already read"
    click.echo(f"role '{role}'{made} {news} store {store}; it reads: {', '.join(stores)}")


@analyst.command("revoke")
@click.option("--store", "store", required=True, help="The store ROLE may no longer read.")
@click.argument("role")
@pass_runtime
def analyst_revoke(rt: Runtime, store: str, role: str) -> None:
    """ROLE no longer reads store STORE's rows (from its next query on). The role itself stays, and so does
    its membership of store_analyst: other databases of the server may grant it stores; with no store
    granted here it reads none of this database's stores."""
    from marketsync.assets.stores import store_id_for

    with rt.warehouse.begin() as conn:
        store_id = store_id_for(conn, store)
        removed = conn.execute(text("DELETE FROM ops.store_roles WHERE role_name = :r AND store_id = :s "
                                    "RETURNING true"), {"r": role, "s": store_id}).scalar()
        stores = _granted_stores(conn, role)
    if not removed:
        raise MarketsyncError(f"role '{role}' was not granted store {store}")
    click.echo(f"role '{role}' no longer reads store {store}; it reads: {', '.join(stores) or 'no store'}")


@analyst.command("list")
@json_option
@pass_runtime
def analyst_list(rt: Runtime, as_json: bool) -> None:
    """Every store grant of this database: the role, the store, when and by whom; role_exists is false for a
    role dropped since (revoke its grants: a new role of that name would read the stores)."""
    with rt.warehouse.begin() as conn:
        rows = [dict(row) for row in conn.execute(query_beside(__file__, "store_grants.sql")).mappings()]
    emit(rows, as_json, GRANT_COLUMNS)


def _check_role_name(role: str) -> None:
    if not _ROLE_NAME.fullmatch(role):
        raise MarketsyncError(f"role name '{role}' must be 1 to 63 letters, digits, '_', '.', '@' or '-'")
    if role.startswith("pg_") or role in ("public", "analyst", STORE_GROUP):
        raise MarketsyncError(f"role '{role}' cannot be a store role")


def _role_exists(conn: Connection, role: str) -> bool:
    return conn.execute(text("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = :r)"), {"r": role}).scalar_one()


def _granted_stores(conn: Connection, role: str) -> list[str]:
    return list(conn.execute(text("SELECT s.code FROM ops.store_roles g JOIN ops.stores s USING (store_id) "
                                  "WHERE g.role_name = :r ORDER BY s.code"), {"r": role}).scalars())


def _run_as_admin(conn: Connection, statement: str) -> None:
    """CREATE ROLE and GRANT of a role need CREATEROLE (or ADMIN on store_analyst): say so in words. The
    role name is one _check_role_name accepted, quoted."""
    from sqlalchemy.exc import ProgrammingError

    try:
        with conn.begin_nested():
            conn.execute(text(statement))
    except ProgrammingError as exc:
        raise MarketsyncError(f"{statement.split(' ', 2)[0].lower()} refused by the database: "
                              f"{str(exc.orig).splitlines()[0]} (the database user needs CREATEROLE, or ADMIN "
                              f"on {STORE_GROUP})") from None
