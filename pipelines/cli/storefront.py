"""`marketsync storefront ...`: the store's own shop as a channel: its API key, and its API's document."""
from __future__ import annotations

import json

import click

from marketsync.pipelines.cli.runtime import Runtime, pass_runtime


@click.group()
def storefront() -> None:
    """The store's own web shop: it pushes its orders to `marketsync serve` (POST /stores/STORE/orders)."""


@storefront.command("key")
@click.argument("store")
@click.option("--retire-previous", is_flag=True,
              help="End a rotation: only the current key is accepted from now on (within 30 s).")
@pass_runtime
def storefront_key(rt: Runtime, store: str, retire_previous: bool) -> None:
    """Make STORE's shop a new API key (shown only now; the previous one keeps working until
    --retire-previous). The store needs a storefront account: `marketsync account add STORE storefront`."""
    from marketsync.assets.accounts import get_account
    from marketsync.assets.storefront.api_keys import retire_previous_api_key, rotate_api_key

    with rt.warehouse.begin() as conn:
        account = get_account(conn, store, "storefront")
        if retire_previous:
            done = retire_previous_api_key(conn, rt.vault, account)
            click.echo("previous key retired" if done else "there was no previous key")
            return
        key = rotate_api_key(conn, rt.vault, account)
    click.echo(f"new API key for {store}'s shop, shown only now (send it as `Authorization: Bearer <key>`; "
               f"a previous key still works until `--retire-previous`):\n{key}")


@storefront.command("openapi")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write it here (default: print it).")
def storefront_openapi(out: str | None) -> None:
    """The storefront order API's OpenAPI document (also served at /openapi/storefront.json)."""
    from marketsync.pipelines.storefront_api.openapi import openapi_document

    text = json.dumps(openapi_document(), indent=2)
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        click.echo(f"written to {out}")
    else:
        click.echo(text)
