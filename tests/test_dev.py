"""`marketsync dev`: a SIGTERM or Ctrl-C stops every process it started, even one that ignores the signal
(as the Dagster daemon does while its threads wind down); the demo's world serves every simulator the
demo store's accounts point at, and hands the Dagster processes the clients' settings."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

REPO = Path(__file__).resolve().parents[1]

# A stand-in for `dagster dev`: a leader that exits on SIGTERM and a child that ignores it (the daemon).
_GROUP = textwrap.dedent("""
    import os, signal, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(600)"])
    with open(sys.argv[1], "w") as out:
        out.write(f"{os.getpid()} {child.pid}")
    time.sleep(600)
""")

_SUPERVISOR = textwrap.dedent("""
    import sys
    from marketsync.pipelines.demo import run_until_stopped
    sys.exit(run_until_stopped([sys.executable, "-c", sys.argv[1], sys.argv[2]], env=dict(__import__("os").environ),
                               grace=1.0))
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is an ended process whose parent has not collected it yet.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_every_process_dev_started(tmp_path, signum):
    pids_file = tmp_path / "pids"
    supervisor = subprocess.Popen([sys.executable, "-c", _SUPERVISOR, _GROUP, str(pids_file)], cwd=REPO)
    for _ in range(300):
        if pids_file.exists() and pids_file.read_text():
            break
        time.sleep(0.1)
    leader, stubborn = map(int, pids_file.read_text().split())
    supervisor.send_signal(signum)
    supervisor.wait(timeout=60)
    for _ in range(100):
        if not _alive(stubborn):
            break
        time.sleep(0.1)
    assert not _alive(leader)
    assert not _alive(stubborn), "the process that ignores SIGTERM outlived `marketsync dev`"


def _free_port_range(size: int) -> int:
    """The first of `size` consecutive loopback ports that are free now."""
    import random
    import socket

    # Below the kernel's ephemeral range, so no outgoing connection takes one of them meanwhile.
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(50):
        base = random.randrange(10000, low - size)
        sockets = []
        try:
            for port in range(base, base + size):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free port range")


def test_dev_world_serves_every_account_the_demo_stored(run_cli, warehouse, monkeypatch):
    """After the demo, `make dev`'s world answers at every URL the demo store's accounts and catalog
    sources hold (the same fixed ports), the channels accept the fresh credentials, and the Dagster
    processes get the client settings: the inbound check launched from the UI works with them."""
    from marketsync.pipelines import demo_world
    from marketsync.pipelines.cli.runtime import Runtime
    from marketsync.pipelines.definitions import build_resources
    from marketsync.pipelines.demo import DEMO_STORE
    from marketsync.pipelines.run_in_process import run_assets, run_inbound_check

    base = _free_port_range(len(demo_world.SERVICES))
    code, out, err = run_cli("demo", "--port", str(base))
    assert code == 0, err + out[-2000:]
    with warehouse.begin() as conn:
        stored = conn.execute(text(
            """SELECT endpoint FROM ops.accounts a JOIN ops.stores s USING (store_id)
               WHERE s.code = :c AND a.endpoint IS NOT NULL  -- the storefront pushes to us: no endpoint
               UNION ALL SELECT location FROM ops.catalog_sources c JOIN ops.stores s USING (store_id)
               WHERE s.code = :c AND location IS NOT NULL
               UNION ALL SELECT value FROM ops.catalog_sources c JOIN ops.stores s USING (store_id),
                    jsonb_each_text(c.settings -> 'urls') WHERE s.code = :c"""), {"c": DEMO_STORE}).scalars().all()
    with demo_world.dev_world(Runtime(), DEMO_STORE, base) as world:
        urls, env = world["urls"], world["env"]
        served = {httpx.URL(u).port for u in urls.values()}
        assert served == set(range(base, base + len(demo_world.SERVICES)))
        assert len(stored) >= 8 and {httpx.URL(u).port for u in stored} <= served
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        resources = build_resources()
        checked = run_inbound_check(DEMO_STORE, resources=resources)
        assert checked["inbound_control_check.matched"] > 0
        from marketsync.assets.amazon.orders import amazon_accounts, amazon_assets
        from marketsync.assets.ebay.orders import ebay_accounts, ebay_assets
        from marketsync.assets.jtl_ffn.assets import jtl_ffn_accounts, jtl_ffn_assets

        for assets, partitions in ((amazon_assets, amazon_accounts), (ebay_assets, ebay_accounts),
                                   (jtl_ffn_assets, jtl_ffn_accounts)):
            run_assets(assets, partitions, DEMO_STORE, resources=resources, what=partitions.name)
