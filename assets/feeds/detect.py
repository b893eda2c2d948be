"""What a supplier's file is, from its first bytes: its encoding, line endings, format, delimiter or XML
root, its columns or elements, and which preset (see `assets.feeds.presets`) reads it.

A merchant adding a supplier's shop export should not have to know that Shopify writes "Variant SKU"
(or "SKU" since its new template) or that PrestaShop separates with semicolons. `detect(head)` looks at
the start of the file (up to `HEAD_BYTES`) and scores every preset against it; `feeds detect` shows the
answer and `feeds add` without --preset or --mapping uses its best preset.

How a preset is scored, for a delimited file (CSV, TSV): the file's header columns that the preset's
signature knows (a documented column name, or a column matching one of its `column_patterns`) over all
the file's columns, times the share of the preset's required columns the file has:

    confidence = known / columns  x  required present / required

so a file must both look like the format (most of its columns are the format's) and carry what the
mapping cannot do without. For an XML file the same formula runs over the element names of its first
records, for the preset's form (RSS, Atom) whose root element the file has; a file whose root matches
no form of the preset scores 0. `best` is the preset with the highest confidence when that is at least
`THRESHOLD`; otherwise there is none, and `message` names the closest preset and what differs.

Pure: no database, no Dagster, no network; each function does one thing.
"""
import codecs
import csv
import io
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from marketsync.assets.feeds import xml_safety
from marketsync.assets.feeds.presets import PRESETS, preset_forms
from marketsync.resources.errors import MarketsyncError

HEAD_BYTES = 1 << 20          # how much of a file detection reads
THRESHOLD = 0.6               # the least confidence that makes a preset the file's `best`
DELIMITERS = ",;\t|"          # what a delimited file may be separated by
_SNIFF_CHARS = 64 * 1024      # csv.Sniffer's sample: enough rows, and fast
_XML_RECORDS = 50             # records whose elements are looked at
_SHOWN = 8                    # unknown columns named in a message

_REFUSED_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"),
)


@dataclass
class PresetScore:
    """How well one preset fits the file: the signature names the file has (`present`), the required
    ones it lacks (`missing_required`), the file's names the preset does not know (`unplaced`), the
    confidence (0..1), and for XML the form (rss, atom) the file is in."""

    preset: str
    confidence: float
    present: list[str] = field(default_factory=list)
    missing_required: list[str] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)
    form: str | None = None


@dataclass
class Detection:
    """What detection found: see the module docstring. `names` are the header's columns (CSV, TSV) or
    the record elements' names (XML); `scores` are best first."""

    encoding: str
    has_bom: bool
    line_endings: str
    format: str
    delimiter: str | None = None
    root: str | None = None
    namespaces: dict[str, str] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    scores: list[PresetScore] = field(default_factory=list)
    best: str | None = None
    best_form: str | None = None
    confidence: float = 0.0
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- the whole answer

def detect(head: bytes) -> Detection:
    """Everything detection says about a file whose first bytes are `head` (a longer head is cut to
    HEAD_BYTES). MarketsyncError for a file marketsync cannot read at all (UTF-16, empty)."""
    head = head[:HEAD_BYTES]
    encoding, has_bom = sniff_encoding(head)
    text = decode_head(head, encoding)
    if not text.strip():
        raise MarketsyncError("the file is empty")
    fmt = sniff_format(text)
    found = Detection(encoding=encoding, has_bom=has_bom, line_endings=line_endings(text), format=fmt)
    if fmt in ("csv", "tsv"):
        found.delimiter = sniff_delimiter(text)
        found.format = "tsv" if found.delimiter == "\t" else "csv"
        found.names = header_columns(text, found.delimiter)
        found.scores = rank([score_columns(p, found.names) for p in _presets_of("csv", "tsv")])
    elif fmt == "xml":
        root, namespaces, paths = xml_outline(head)
        found.root, found.namespaces = root, namespaces
        found.scores = rank([score_xml(p, root, paths) for p in _presets_of("xml")])
        found.names = _xml_names(found.scores, paths)
    choose(found)
    return found


def choose(found: Detection) -> None:
    """Set `best`, `best_form`, `confidence` and `message` from the ranked scores."""
    if not found.scores:
        found.message = f"no preset reads {found.format.upper()} files; give the feed a mapping (--mapping)"
        return
    top = found.scores[0]
    found.confidence = top.confidence
    if top.confidence >= THRESHOLD:
        found.best, found.best_form = top.preset, top.form
        found.message = f"{top.preset} (confidence {top.confidence:.2f})"
        return
    found.message = closest_message(top)


def closest_message(top: PresetScore) -> str:
    """Why no preset was chosen, worded for the merchant: the closest one and what differs."""
    parts = [f"no preset matches this file well enough (best: {top.preset}, confidence {top.confidence:.2f}, "
             f"needs {THRESHOLD:.2f})"]
    if top.missing_required:
        parts.append(f"it lacks {', '.join(top.missing_required)}, which {top.preset} requires")
    if top.unplaced:
        shown = ", ".join(top.unplaced[:_SHOWN]) + (", ..." if len(top.unplaced) > _SHOWN else "")
        parts.append(f"{len(top.unplaced)} of its names are unknown to {top.preset}: {shown}")
    parts.append("give a preset (--preset) or a mapping (--mapping)")
    return "; ".join(parts)


def rank(scores: list[PresetScore]) -> list[PresetScore]:
    """Best first; a tie goes to the preset with more names present, then by name (stable answers)."""
    return sorted(scores, key=lambda s: (-s.confidence, -len(s.present), s.preset))


def _presets_of(*formats: str) -> list[dict[str, Any]]:
    return [p for _, p in sorted(PRESETS.items()) if p["format"] in formats]


# ---------------------------------------------------------------- bytes and text

def sniff_encoding(head: bytes) -> tuple[str, bool]:
    """(encoding, has a BOM): utf-8-sig for a UTF-8 BOM, utf-8 when the bytes decode as UTF-8, else
    cp1252 (what spreadsheets on Windows write). A UTF-16 or UTF-32 file is refused: marketsync reads
    8-bit text, and the supplier's tool can always save UTF-8."""
    for bom, name in _REFUSED_BOMS:
        if head.startswith(bom):
            raise MarketsyncError(f"the file is {name} (it starts with a {name} byte-order mark); save or export it "
                                  "as UTF-8 and try again")
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", True
    try:
        # The head may end inside a character: an incremental decode without `final` keeps that open.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252", False
    return "utf-8", False


def decode_head(head: bytes, encoding: str) -> str:
    """The head as text, without a BOM; a character cut at the end of the head is dropped."""
    codec = "cp1252" if encoding == "cp1252" else "utf-8-sig"
    return codecs.getincrementaldecoder(codec)(errors="replace").decode(head, final=False)


def line_endings(text: str) -> str:
    """"CRLF" or "LF" (the more frequent of the two), "CR" for old Mac files, "none" for a single line."""
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    if not (crlf or lf or cr):
        return "none"
    counts = {"CRLF": crlf, "LF": lf, "CR": cr}
    return max(counts, key=lambda name: (counts[name], name == "CRLF"))


def sniff_format(text: str) -> str:
    """xml, json or csv (delimited text, told apart from TSV once its delimiter is known)."""
    start = text.lstrip()[:1]
    if start == "<":
        return "xml"
    if start in "{[":
        return "json"
    return "csv"


# ---------------------------------------------------------------- delimited text

def sniff_delimiter(text: str) -> str:
    """The delimiter: csv.Sniffer's choice among , ; tab | when the header line agrees (it splits the
    header at least as often as any other candidate), else the candidate that splits the header line
    most often. The header decides because a sample's HTML (entities end in ';') can mislead the
    Sniffer, while a header line has no such text."""
    counts = _header_counts(_first_line(text))
    sniffed = _sniffed(text[:_SNIFF_CHARS])
    most = max(counts.values())
    if sniffed is not None and counts.get(sniffed, 0) == most and most > 0:
        return sniffed
    if most > 0:
        return max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return sniffed or ","


def _sniffed(sample: str) -> str | None:
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return None


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


def _header_counts(line: str) -> dict[str, int]:
    """How often each candidate delimiter occurs in the header line outside double quotes."""
    outside = re.sub(r'"[^"]*"', "", line)
    return {d: outside.count(d) for d in DELIMITERS}


def header_columns(text: str, delimiter: str) -> list[str]:
    """The header row's column names, trimmed (a header may quote a name and span lines)."""
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        if row:
            return [name.strip() for name in row]
    return []


def score_columns(preset: dict[str, Any], columns: list[str]) -> PresetScore:
    """A delimited preset against a header: see the module docstring for the formula."""
    signature = preset["signature"]
    known = set(signature.get("columns", []))
    patterns = [re.compile(p) for p in signature.get("column_patterns", [])]
    present = [c for c in columns if c in known or any(p.search(c) for p in patterns)]
    unplaced = [c for c in columns if c and c not in present]
    return _score(preset["name"], signature.get("required", []), set(columns), present, unplaced,
                  len([c for c in columns if c]))


def _score(name: str, required: list, have: set[str], present: list[str], unplaced: list[str],
           total: int, form: str | None = None) -> PresetScore:
    missing = [_shown_requirement(r) for r in required if not _met(r, have)]
    coverage = len(present) / total if total else 0.0
    required_share = (len(required) - len(missing)) / len(required) if required else 1.0
    return PresetScore(name, round(coverage * required_share, 3), present, missing, unplaced, form)


def _met(requirement: str | list[str], have: set[str]) -> bool:
    options = requirement if isinstance(requirement, list) else [requirement]
    return any(option in have for option in options)


def _shown_requirement(requirement: str | list[str]) -> str:
    return " or ".join(f"'{o}'" for o in requirement) if isinstance(requirement, list) else f"'{requirement}'"


# ---------------------------------------------------------------- XML

def xml_outline(head: bytes) -> tuple[str, dict[str, str], list[tuple[str, ...]]]:
    """(root tag, the namespaces declared, the tag path of every element read) of an XML head, parsed
    by the hardened parser; a head cut mid-document is read up to the cut. Tags are in Clark notation
    ({uri}local); a path starts at the root."""
    root: str | None = None
    namespaces: dict[str, str] = {}
    paths: list[tuple[str, ...]] = []
    try:
        for _event, element in xml_safety.iterparse(io.BytesIO(head), events=("start",)):
            path = _path(element)
            if root is None:
                root = path[0]
            namespaces.update({k or "": v for k, v in (element.nsmap or {}).items()})
            paths.append(path)
    except xml_safety.XmlRefused as exc:
        if root is None or "entities" in str(exc):
            raise
    if root is None:
        raise MarketsyncError("the file starts like XML but has no element")
    return root, namespaces, paths


def _path(element) -> tuple[str, ...]:
    tags = []
    node = element
    while node is not None:
        tags.append(node.tag if isinstance(node.tag, str) else "")
        node = node.getparent()
    return tuple(reversed(tags))


def score_xml(preset: dict[str, Any], root: str, paths: list[tuple[str, ...]]) -> PresetScore:
    """An XML preset against the file's outline: the form whose root the file has, scored on the
    element names of its first records (see the module docstring)."""
    signature = preset["signature"]
    prefixes = signature.get("namespaces", {})
    form = next((f for f in preset_forms(preset) if f["root"] == root), None)
    if form is None:
        return PresetScore(preset["name"], 0.0, [], [_shown_requirement(r) for r in signature.get("required", [])],
                           [], None)
    names = record_element_names(paths, _steps(root, form["record"], prefixes), prefixes)
    known = set(signature.get("elements", []))
    present = [n for n in names if n in known]
    unplaced = [n for n in names if n not in known]
    return _score(preset["name"], signature.get("required", []), set(names), present, unplaced, len(names),
                  form["name"])


def _steps(root: str, record: str, prefixes: dict[str, str]) -> tuple[str, ...]:
    """The Clark tags from the root to the record element: a record path is relative to the root."""
    steps = []
    for step in record.strip("/").split("/"):
        prefix, _, local = step.rpartition(":")
        steps.append(f"{{{prefixes[prefix]}}}{local}" if prefix else local)
    return (root, *steps)


def record_element_names(paths: list[tuple[str, ...]], record: tuple[str, ...],
                         prefixes: dict[str, str]) -> list[str]:
    """The distinct names of the child elements of the first records at `record`, in the order met,
    written with the preset's prefixes (g:price); a namespace the preset does not know stays {uri}."""
    names: list[str] = []
    depth = len(record)
    records = 0
    for path in paths:  # in document order: a record's start comes before its children's
        if path == record:
            records += 1
            if records > _XML_RECORDS:
                break
        elif len(path) == depth + 1 and path[:depth] == record:
            name = _prefixed(path[-1], prefixes)
            if name not in names:
                names.append(name)
    return names


def _prefixed(tag: str, prefixes: dict[str, str]) -> str:
    if not tag.startswith("{"):
        return tag
    uri, local = tag[1:].split("}", 1)
    for prefix, known in prefixes.items():
        if known == uri:
            return f"{prefix}:{local}"
    return tag


def _xml_names(scores: list[PresetScore], paths: list[tuple[str, ...]]) -> list[str]:
    """The element names shown for an XML file: its best form's record elements, else every element."""
    if scores and scores[0].form is not None:
        return scores[0].present + scores[0].unplaced
    return list(dict.fromkeys(path[-1] for path in paths))[:100]
