"""`marketsync analyst ...`: which Postgres role reads what in core, analytics and support.

    analyst grant [--role analyst|support] [--store S] ROLE    ROLE reads (store S's rows, else every store)
    analyst revoke [--role analyst|support] [--store S] ROLE   ... and no longer does
    analyst list                                              every grant of this database

Two kinds of reader (sql/analyst_role.sql): `analyst` reads core and analytics without buyers' personal
data (buyers appear as a pseudonymous key, addresses as country and postcode area); `support` reads the
same with personal data, and the support views. Without --store, ROLE becomes a member of that group and
reads every store; with --store, a member of `store_analyst` or `store_support`, reading the rows of the
stores granted to it in this database (ops.store_roles): row-level security on the core tables and
core.visible_stores in every view (migration 0015). A role reads its stores as one kind: privileges on
columns belong to the role, not to a store, so a store role of the other kind is refused. Roles belong to
the whole server, grants to one database.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import click
from sqlalchemy import Connection, text

from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

GRANT_COLUMNS = ["role", "access", "store", "granted_at", "granted_by", "role_exists"]


@dataclass(frozen=True)
class Access:
    """One kind of reader: the group reading every store and the group reading granted stores."""
    name: str
    every_store: str
    per_store: str
    reads: str


ACCESS = {
    "analyst": Access("analyst", "analyst", "store_analyst", "without buyers' personal data"),
    "support": Access("support", "support", "store_support", "with buyers' personal data"),
}
GROUPS = {group for access in ACCESS.values() for group in (access.every_store, access.per_store)}
# Postgres takes any name quoted; these are enough for a team's group or a person's login, and need no
# escaping in a statement.
_ROLE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,62}")

access_option = click.option("--role", "access", type=click.Choice(sorted(ACCESS)), default="analyst",
                             show_default=True,
                             help="analyst: no personal data; support: buyers' names, e-mails and addresses too.")
store_option = click.option("--store", "store", default=None,
                            help="Only this store's rows (default: every store).")


@click.group()
def analyst() -> None:
    """Reader roles: which Postgres role reads which stores, with or without buyers' personal data."""


@analyst.command("grant")
@access_option
@store_option
@click.argument("role")
@pass_runtime
def analyst_grant(rt: Runtime, access: str, store: str | None, role: str) -> None:
    """ROLE reads every store's rows (or STORE's, with --store) in core and analytics, as an analyst or as
    support. A new ROLE is made NOLOGIN (a group: grant it to logins with `GRANT ROLE TO alice`); an
    existing role, login or not, is used as it is."""
    kind = ACCESS[access]
    _check_role_name(role)
    with rt.warehouse.begin() as conn:
        created = False
        if not _role_exists(conn, role):
            _run_as_admin(conn, f'CREATE ROLE "{role}" NOLOGIN')
            created = True
        made = " (made, NOLOGIN: grant it to logins)" if created else ""
        if store is None:
            granted = _granted_stores(conn, role)
            if granted:
                raise MarketsyncError(f"role '{role}' reads stores {', '.join(granted)} as a store role: revoke "
                                      "them first (`analyst revoke --store S ROLE`), or use another role")
            news = "already read" if _member_of(conn, role, kind.every_store) else "now reads"
            _run_as_admin(conn, f'GRANT {kind.every_store} TO "{role}"')
            click.echo(f"role '{role}'{made} {news} every store, {kind.reads}")
            return
        from marketsync.assets.stores import store_id_for

        store_id = store_id_for(conn, store)
        if not created:
            _refuse_store_grant(conn, role, kind)
        _run_as_admin(conn, f'GRANT {kind.per_store} TO "{role}"')
        added = conn.execute(text("INSERT INTO ops.store_roles (role_name, store_id) VALUES (:r, :s) ON CONFLICT "
                                  "DO NOTHING RETURNING true"), {"r": role, "s": store_id}).scalar()
        stores = _granted_stores(conn, role)
    news = "now reads" if added else "already read"
    click.echo(f"role '{role}'{made} {news} store {store}, {kind.reads}; it reads: {', '.join(stores)}")


@analyst.command("revoke")
@access_option
@store_option
@click.argument("role")
@pass_runtime
def analyst_revoke(rt: Runtime, access: str, store: str | None, role: str) -> None:
    """ROLE no longer reads STORE's rows (with --store), or no longer every store as an analyst or as
    support (without), from its next query on. The role itself stays, and so does a store role's membership
    of its group: other databases of the server may grant it stores; with no store granted here it reads
    none of this database's stores."""
    kind = ACCESS[access]
    with rt.warehouse.begin() as conn:
        if store is None:
            if not _member_of(conn, role, kind.every_store, directly=True):
                raise MarketsyncError(f"role '{role}' was not granted every store as {kind.name}")
            _run_as_admin(conn, f'REVOKE {kind.every_store} FROM "{role}"')
            click.echo(f"role '{role}' no longer reads every store as {kind.name}")
            return
        from marketsync.assets.stores import store_id_for

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
    """Every grant of this database: the role, how it reads (analyst or support), the store ('*' for every
    store), when and by whom (for store grants); role_exists is false for a role dropped since (revoke its
    grants: a new role of that name would read the stores)."""
    with rt.warehouse.begin() as conn:
        rows = [dict(row) for row in conn.execute(query_beside(__file__, "reader_grants.sql")).mappings()]
    emit(rows, as_json, GRANT_COLUMNS)


def _check_role_name(role: str) -> None:
    if not _ROLE_NAME.fullmatch(role):
        raise MarketsyncError(f"role name '{role}' must be 1 to 63 letters, digits, '_', '.', '@' or '-'")
    if role.startswith("pg_") or role == "public" or role in GROUPS:
        raise MarketsyncError(f"role '{role}' cannot be granted: it is one of Postgres's or marketsync's own")


def _refuse_store_grant(conn: Connection, role: str, kind: Access) -> None:
    """A store grant that would change nothing, or mix the two kinds of reader on one role."""
    if conn.execute(text("SELECT core.sees_every_store(:r)"), {"r": role}).scalar_one():
        raise MarketsyncError(f"role '{role}' reads every store already (it has the privileges of analyst, "
                              "of support or of the owner of the tables)")
    for other in ACCESS.values():
        if other is not kind and _member_of(conn, role, other.per_store):
            raise MarketsyncError(
                f"role '{role}' reads its stores as {other.name}: a role reads all its stores one way, "
                f"since what it reads of a table is the role's, not the store's (use another role for {kind.name})")


def _role_exists(conn: Connection, role: str) -> bool:
    return conn.execute(text("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = :r)"), {"r": role}).scalar_one()


def _member_of(conn: Connection, role: str, group: str, *, directly: bool = False) -> bool:
    """Whether ROLE has GROUP's privileges (directly: is granted GROUP itself)."""
    if directly:
        return conn.execute(query_beside(__file__, "direct_member.sql"), {"r": role, "g": group}).scalar_one()
    return conn.execute(text("SELECT pg_has_role(:r, :g, 'USAGE')"), {"r": role, "g": group}).scalar_one()


def _granted_stores(conn: Connection, role: str) -> list[str]:
    return list(conn.execute(text("SELECT s.code FROM ops.store_roles g JOIN ops.stores s USING (store_id) "
                                  "WHERE g.role_name = :r ORDER BY s.code"), {"r": role}).scalars())


def _run_as_admin(conn: Connection, statement: str) -> None:
    """CREATE ROLE and GRANT of a role need CREATEROLE (or ADMIN on the group): say so in words. The role
    name is one _check_role_name accepted, quoted."""
    from sqlalchemy.exc import ProgrammingError

    try:
        with conn.begin_nested():
            conn.execute(text(statement))
    except ProgrammingError as exc:
        raise MarketsyncError(f"{statement.split(' ', 2)[0].lower()} refused by the database: "
                              f"{str(exc.orig).splitlines()[0]} (the database user needs CREATEROLE, or ADMIN "
                              f"on the reader groups)") from None
