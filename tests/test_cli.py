"""The `marketsync` CLI: listings in JSON, one-line errors with a non-zero exit, the order workflow."""
import json

import pytest
from sqlalchemy import text


def test_account_add_and_list_json(run_cli, warehouse):
    code, out, err = run_cli("account", "add", "acme", "letzshop", "--endpoint", "http://127.0.0.1:1/graphql",
                             "--set", "sync_interval_minutes=30", "--set", "carrier_label_prefixes.dhl=https://dhl.example/")
    assert code == 0, err
    code, out, _ = run_cli("account", "list", "--json")
    accounts = json.loads(out)
    assert accounts[0]["store"] == "acme" and accounts[0]["sync_interval_minutes"] == 30
    assert accounts[0]["settings"]["carrier_label_prefixes"] == {
        "greco": "https://dispatchweb.fr/Tracky/Home/", "dhl": "https://dhl.example/"}


def test_errors_are_one_line_with_non_zero_exit(run_cli, warehouse):
    for args, message in [
        (("account", "add", "acme", "letzshop", "--set", "sync_interval_minutes=2"), "from 5 to 1440"),
        (("account", "add", "Bad Store", "letzshop"), "store code"),
        (("orders", "show", "R000"), "no order 'R000'"),
        (("credentials", "set", "nobody", "letzshop"), "no letzshop account for store 'nobody'"),
        (("exceptions", "resolve", "999", "--product", "x"), ""),
    ]:
        code, _out, err = run_cli(*args, stdin='{"api_key": "x"}')
        assert code != 0, args
        assert err.startswith("error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err and message in err


def test_credentials_come_from_stdin_and_print_masked(run_cli, warehouse):
    run_cli("account", "add", "acme", "letzshop")
    code, out, err = run_cli("credentials", "set", "acme", "letzshop", stdin='{"api_key": "letzSuperSecret42"}')
    assert code == 0, err
    assert "letz****" in out and "SuperSecret" not in out
    code, out, _ = run_cli("credentials", "set", "acme", "letzshop", stdin="not json")
    assert code == 1


def test_order_workflow_through_the_cli(run_cli, shop, tmp_path):
    from marketsync.sandbox.letzshop.data import write_catalog_csv

    write_catalog_csv(tmp_path / "c.csv", 7, 30)
    assert run_cli("products", "import", "shop", str(tmp_path / "c.csv"))[0] == 0
    code, out, err = run_cli("test-connection", "shop", "letzshop")
    assert code == 0 and out.startswith("ok: shop/letzshop answered in"), err
    code, out, err = run_cli("sync", "orders", "shop", "letzshop", "--json")
    assert code == 0, err
    assert json.loads(out)["letzshop_orders.orders_created"] == 30
    stats = json.loads(run_cli("exceptions", "stats", "--store", "shop", "--json")[1])
    assert stats["open"] > 0
    with shop.warehouse.begin() as conn:
        clean, blocked = conn.execute(text(
            """SELECT min(order_number) FILTER (WHERE open_exceptions = 0),
                      min(order_number) FILTER (WHERE open_exceptions > 0) FROM analytics.orders""")).one()
    code, _, err = run_cli("orders", "confirm", blocked)
    assert code == 1 and "cannot be confirmed" in err
    assert run_cli("orders", "confirm", clean)[0] == 0
    code, out, _ = run_cli("outbound", "run")
    assert code == 0 and "1 sent" in out
    code, out, err = run_cli("orders", "ship", clean, "--json")
    assert code == 0, err
    assert json.loads(out)["tracking_url"].startswith("https://dispatchweb.fr/Tracky/Home/H")
    assert run_cli("orders", "label", clean)[1].strip() == json.loads(out)["tracking_url"]
    code, out, _ = run_cli("outbound", "run")
    assert "1 sent" in out
    shown = json.loads(run_cli("orders", "show", clean, "--json")[1])
    assert shown["sync_status"] == "shipped"
    logs = json.loads(run_cli("logs", "--json")[1])
    assert {"import_orders", "outbound"} <= {row["operation"] for row in logs}


@pytest.mark.parametrize("args", [["orders", "list"], ["orders", "show", "1"], ["exceptions", "list"],
                                  ["exceptions", "stats"], ["logs"], ["outbound", "list"], ["account", "list"],
                                  ["feeds", "list"], ["catalog", "runs"], ["storefront", "openapi"],
                                  ["prices", "explain", "demo", "SKU-1"], ["prices", "rules", "demo", "letzshop"],
                                  ["feeds", "presets"]])
def test_read_only_commands_never_load_dagster(cli_env, warehouse, args):
    """What keeps a listing fast (`python -m benchmarks cli` times it): neither Dagster nor the code
    location is imported by a command that only reads the warehouse."""
    import subprocess
    import sys

    probe = ("import sys; from marketsync.pipelines.cli import main; code = main(sys.argv[1:]); "
             "print('dagster loaded' if 'dagster' in sys.modules else 'no dagster', code)")
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1].startswith("no dagster"), done.stdout + done.stderr


@pytest.mark.unit
def test_every_command_group_is_registered(capsys):
    """Each command group (or top-level command) lives in a module of its own under pipelines/cli/, and
    pipelines/cli/__init__.py adds it to the root group: `marketsync --help` lists every one of them."""
    from marketsync.pipelines.cli import main

    assert main(["--help"]) == 0
    listed = capsys.readouterr().out.split("\nCommands:\n", 1)[1]
    assert {line.split()[0] for line in listed.splitlines() if line.strip()} == {
        "account", "catalog", "credentials", "db", "demo", "dev", "exceptions", "feeds", "logs", "orders",
        "outbound", "products", "serve", "sheets", "stock", "sync", "test-connection", "digital", "alerts", "reconcile",
        "tokens", "privacy", "analyst", "storefront", "prices", "workers"}
