"""`marketsync demo` and `marketsync dev`: the demo against the sandbox simulators, and the Dagster UI in its world."""
from __future__ import annotations

from importlib.util import find_spec

import click

from marketsync.pipelines.cli.runtime import Runtime, pass_runtime
from marketsync.resources.errors import MarketsyncError


def require_simulators() -> None:
    """The demo and `dev` run on the simulators, a distribution of their own that production never needs."""
    if find_spec("marketsync.sandbox") is None:
        raise MarketsyncError("the demo runs on the sandbox simulators, which are not installed: "
                              "pip install marketsync-sandbox (the sandbox/ folder of the repository)")


@click.command("demo")
@click.option("--seed", default=42, show_default=True)
@click.option("--size", default=40, show_default=True, help="Shipments in the simulated Letzshop.")
@click.option("--port", default=None, type=int,
              help="First of the simulators' ten loopback ports: Letzshop on it, its product feed, CodesWholesale, "
                   "supplier feeds (HTTP, FTP), Amazon, eBay, JTL-FFN, Google Sheets and the push intake on the "
                   "ports after it (default MARKETSYNC_SANDBOX_PORT or 8765; 0 = any free ports). `marketsync dev` "
                   "serves MARKETSYNC_SANDBOX_PORT's ports: to move both, set that variable instead.")
@pass_runtime
def demo(rt: Runtime, seed: int, size: int, port: int | None) -> None:
    """Run the main job end to end against the sandbox simulators."""
    require_simulators()
    from marketsync.pipelines.demo import run_demo

    run_demo(rt, seed=seed, size=size, port=port)


@click.command("dev")
@click.option("--port", default=3000, show_default=True, help="Port of the Dagster UI.")
@pass_runtime
def dev(rt: Runtime, port: int) -> None:
    """The Dagster UI (and daemon) on the same setup as the demo, with the simulator running."""
    require_simulators()
    from marketsync.pipelines.demo import run_dev

    run_dev(rt, port=port)
