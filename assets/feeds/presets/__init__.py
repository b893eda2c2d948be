"""Feed presets: ready mappings for the exports of the shop systems suppliers run themselves.

A merchant's supplier often hands over its own shop's product export (Shopify, WooCommerce, PrestaShop,
Magento, a Google Merchant Center feed) rather than a feed written for us. Each such format has a preset:
one JSON file in this folder, written from the format's public documentation, holding

- `name`, `version` (raised when the preset changes what it reads), `format` (csv, tsv, xml), `title`;
- `documentation`: the public pages its column and element names come from;
- `signature`: what detection (`assets.feeds.detect`) looks for: for CSV/TSV every column name the
  format is documented to have (`columns`, old and new names alike), `column_patterns` for columns a
  store adds itself (metafields, attributes), and `required` (a list; an entry that is a list is met by
  any one of its names); for XML the `forms` (root element and record path of each), `namespaces`,
  `elements` and `required`;
- `mapping`: an ordinary feed mapping (see `assets.feeds.mapping`) carrying `"preset": "NAME@VERSION"`;
  a source added from a preset stores a copy, which the merchant changes like any other mapping;
  the mapping's `optional` lists the fields a file of the format may or may not have (a Google TSV
  without sale_price, a PrestaShop import file of a few columns): they are read where the header has them;
- optionally `delimiter` and `encoding`: the format's defaults.
"""
import copy
import json
from pathlib import Path
from typing import Any

from marketsync.resources.errors import MarketsyncError

_FOLDER = Path(__file__).parent


def _load() -> dict[str, dict[str, Any]]:
    """Every preset file of this folder, by preset name (six small files: read once, at import)."""
    presets = {}
    for path in sorted(_FOLDER.glob("*.json")):
        preset = json.loads(path.read_text(encoding="utf-8"))
        presets[preset["name"]] = preset
    return presets


PRESETS: dict[str, dict[str, Any]] = _load()


def get_preset(name: str) -> dict[str, Any]:
    """The preset called `name` ("shopify-products", or "shopify-products@1" naming its version too)."""
    base, _, version = (name or "").strip().partition("@")
    preset = PRESETS.get(base)
    if preset is None:
        raise MarketsyncError(f"unknown preset '{name}' (known: {', '.join(sorted(PRESETS))}; "
                              "`marketsync feeds presets` lists them)")
    if version and version != str(preset["version"]):
        raise MarketsyncError(f"preset '{base}' is at version {preset['version']}, not {version}")
    return preset


def list_presets() -> list[dict[str, Any]]:
    """Every preset's name, version, format and title, by name."""
    return [{"name": p["name"], "version": p["version"], "format": p["format"], "title": p["title"]}
            for _, p in sorted(PRESETS.items())]


def preset_ref(preset: dict[str, Any]) -> str:
    """How a source records the preset its mapping came from: "NAME@VERSION"."""
    return f"{preset['name']}@{preset['version']}"


def preset_forms(preset: dict[str, Any]) -> list[dict[str, Any]]:
    """The XML forms of a preset (root element and record path of each); empty for CSV and TSV."""
    return list(preset.get("signature", {}).get("forms") or [])


def preset_mapping(preset: dict[str, Any], form: str | None = None, delimiter: str | None = None) -> dict[str, Any]:
    """A copy of the preset's mapping for one source: the record path of `form` (an XML preset read in
    another form than its first, e.g. Atom rather than RSS) and the `delimiter` the file was found to use.
    The fields a file of the format may lack are in the mapping's own `optional` list."""
    mapping = copy.deepcopy(preset["mapping"])
    if form is not None:
        chosen = [f for f in preset_forms(preset) if f["name"] == form]
        if not chosen:
            raise MarketsyncError(f"preset '{preset['name']}' has no form '{form}' "
                                  f"(its forms: {', '.join(f['name'] for f in preset_forms(preset)) or 'none'})")
        mapping["record"] = chosen[0]["record"]
    if delimiter is not None and preset["format"] in ("csv", "tsv"):
        mapping["delimiter"] = delimiter
    return mapping
