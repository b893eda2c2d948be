"""Run every benchmark and print its figures: `make bench` or `python -m benchmarks [name ...]`."""
import sys

from benchmarks import (
    analytics,
    channels,
    cli,
    digital,
    feeds,
    fleet,
    fulfillment,
    letzshop_import,
    operations,
    prices,
    privacy,
    sensors,
    stock,
    storefront,
)

BENCHMARKS = {"letzshop_import": letzshop_import.main, "feeds": feeds.main, "fulfillment": fulfillment.main,
              "stock": stock.main, "channels": channels.main, "cli": cli.main,
              "sensors": sensors.main, "digital": digital.main, "operations": operations.main,
              "privacy": privacy.main, "storefront": storefront.main, "prices": prices.main,
              "fleet": fleet.main, "analytics": analytics.main}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    for name in names:
        BENCHMARKS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
