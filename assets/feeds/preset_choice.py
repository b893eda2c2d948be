"""Which preset reads a supplier's file, and the mapping a source of it starts from: `choose_preset`
turns what detection found in the file's head (`assets.feeds.detect`) and, optionally, the preset the
merchant named into the source's mapping, format and encoding. `feeds add`, `feeds detect` and the demo
all go through here, so a preset is applied the same way wherever a feed is added."""
from dataclasses import dataclass
from typing import Any

from marketsync.assets.feeds.detect import Detection
from marketsync.assets.feeds.presets import get_preset, preset_forms, preset_mapping, preset_ref
from marketsync.resources.errors import MarketsyncError

_DELIMITED = ("csv", "tsv")


@dataclass
class PresetChoice:
    """The preset a file is read with (`ref`: "NAME@VERSION"), whether detection chose it, its confidence,
    the file's columns (or record elements) it does not place, and what a source of that file stores:
    its mapping (the file's delimiter and XML form), format and encoding."""

    ref: str
    detected: bool
    confidence: float
    unplaced: list[str]
    mapping: dict[str, Any]
    format: str
    encoding: str


def choose_preset(found: Detection, preset_name: str | None = None, currency: str | None = None) -> PresetChoice:
    """The named preset, or the one detection found; MarketsyncError when none reads the file, naming the
    closest preset and what differs, or when the named one reads another kind of file. `currency` is
    the prices' currency where the file does not say it (shop exports seldom do): the mapping's default."""
    if preset_name:
        preset = get_preset(preset_name)
    elif found.best is None:
        raise MarketsyncError(f"cannot tell which preset reads the file: {found.message}")
    else:
        preset = get_preset(found.best)
    _check_family(preset, found)
    form = found.best_form if found.best == preset["name"] else _form_of(preset, found)
    delimited = preset["format"] in _DELIMITED
    mapping = preset_mapping(preset, form, found.delimiter if delimited else None)
    if currency:
        mapping["defaults"] = {**(mapping.get("defaults") or {}), "currency": currency}
    score = next((s for s in found.scores if s.preset == preset["name"]), None)
    return PresetChoice(ref=preset_ref(preset), detected=not preset_name,
                        confidence=score.confidence if score else 0.0, unplaced=score.unplaced if score else [],
                        mapping=mapping,
                        format=_format_of(preset, found), encoding=_encoding_of(found))


def _check_family(preset: dict, found: Detection) -> None:
    """A preset reads one kind of file: delimited text or XML."""
    if (preset["format"] in _DELIMITED) != (found.format in _DELIMITED) or (
            preset["format"] not in _DELIMITED and preset["format"] != found.format):
        raise MarketsyncError(f"the file is {found.format.upper()}, but preset {preset['name']} reads "
                              f"{preset['format'].upper()} files")


def _format_of(preset: dict, found: Detection) -> str:
    # A delimited preset reads what the file is: a Google TSV saved with commas is still read.
    return found.format if preset["format"] in _DELIMITED else preset["format"]


def _form_of(preset: dict, found: Detection) -> str | None:
    """The XML form of `preset` whose root the detected file has (None for delimited presets)."""
    forms = [f for f in preset_forms(preset) if f["root"] == found.root]
    if preset_forms(preset) and not forms:
        raise MarketsyncError(f"the file's root element is {found.root}, which no form of preset {preset['name']} "
                              f"reads (its roots: {', '.join(f['root'] for f in preset_forms(preset))})")
    return forms[0]["name"] if forms else None


def _encoding_of(found: Detection) -> str:
    # A UTF-8 file is read as utf-8 whether or not it has a BOM (the reader drops a BOM).
    return "cp1252" if found.encoding == "cp1252" else "utf-8"
