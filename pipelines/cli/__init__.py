"""The `marketsync` command line. Every failure prints one line and exits non-zero; --debug shows more."""
from __future__ import annotations

import sys

import click

from marketsync.pipelines.cli import (
    accounts,
    alerts,
    analyst,
    catalog,
    connection,
    credentials,
    db,
    demo,
    digital,
    exceptions,
    feeds,
    logs,
    orders,
    outbound,
    prices,
    privacy,
    products,
    reconcile,
    serve,
    sheets,
    stock,
    storefront,
    sync,
    tokens,
    workers,
)
from marketsync.pipelines.cli.root import cli
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.scrubbing import process_scrubber

# One module per command group (or top-level command); `marketsync --help` lists them by name.
for command in (db.db, accounts.account, credentials.credentials, connection.test_connection, sync.sync,
                products.products, exceptions.exceptions, orders.orders, outbound.outbound, logs.logs, demo.demo,
                demo.dev, serve.serve, catalog.catalog, feeds.feeds, sheets.sheets, stock.stock, prices.prices,
                digital.digital, alerts.alerts, reconcile.reconcile, tokens.tokens, privacy.privacy,
                analyst.analyst, storefront.storefront, workers.workers):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if debug:
        _show_dagster_output(True)
    try:
        cli.main(args=argv, prog_name="marketsync", standalone_mode=False)
        return 0
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except MarketsyncError as exc:
        click.echo(f"error: {process_scrubber().scrub(str(exc))}", err=True)
        return 1
    except Exception as exc:
        if debug:
            raise
        said = process_scrubber().scrub(str(exc).splitlines()[0] if str(exc) else "")
        click.echo(f"error: {type(exc).__name__}: {said}", err=True)
        return 1
    finally:
        if debug:
            _show_dagster_output(False)


def _show_dagster_output(debug: bool) -> None:
    """--debug: Dagster's console log and a failed step's traceback (loads Dagster, which a plain
    listing otherwise never does)."""
    from marketsync.pipelines.run_in_process import show_dagster_output

    show_dagster_output(debug)


if __name__ == "__main__":
    sys.exit(main())
