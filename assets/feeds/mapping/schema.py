"""What a mapping may say and whether it says it well: its keys, `mapping_problems` (every problem, one
sentence each, worded for the merchant) and `validate_mapping`, and the fields a valid mapping reads."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lxml import etree

from marketsync.assets.feeds.mapping.parsers import Rejected, _convert_default
from marketsync.assets.feeds.mapping.refs import is_ref as _is_ref
from marketsync.assets.feeds.mapping.refs import ref_options
from marketsync.assets.feeds.mapping.rows_schema import extra_problems, row_problems
from marketsync.assets.feeds.mapping.xpath import XML_NAMESPACE
from marketsync.resources.errors import MarketsyncError

FORMATS = ("csv", "tsv", "xml", "json")

# Canonical columns a mapping may feed, by how their values are read.
TEXT_COLUMNS = ("sku", "mpn", "brand", "availability", "platform")
SCALAR_COLUMNS = ("external_id", "gtin", "sku", "mpn", "brand", "price", "currency", "availability", "quantity",
                  "product_type", "platform", "regions", "languages", "source_updated_at")
# Fields read into the attributes beside the columns (see extras): one source field each.
EXTRA_FIELDS = ("sale_price", "weight")
TRANSLATED = ("title", "description")
OPTION_KEYS = ("defaults", "decimal_comma", "gtin_type", "list_separator", "attributes", "required", "preset",
               "optional", "images", "image_separator", "weight_unit", "availability_quantity", "availability_words",
               "negative_stock",
               "option_pairs")
# Keys about rows rather than fields (CSV and TSV): which rows are no product, which continue another.
ROW_KEYS = ("skip", "group")
READER_KEYS = ("delimiter", "quotechar", "quoting", "record", "namespaces", "json_lines")
KNOWN_KEYS = SCALAR_COLUMNS + EXTRA_FIELDS + TRANSLATED + OPTION_KEYS + ROW_KEYS + READER_KEYS
_LANGUAGE = re.compile(r"^[a-z]{2}$")


def validate_mapping(mapping: Any, fmt: str | None = None) -> dict[str, Any]:
    """Check a mapping and return it; MarketsyncError listing every problem found otherwise."""
    problems = mapping_problems(mapping, fmt)
    if problems:
        raise MarketsyncError("the feed mapping is not valid: " + "; ".join(problems))
    return mapping


def mapping_problems(mapping: Any, fmt: str | None = None) -> list[str]:
    """Everything wrong with a mapping, one sentence each (empty when it is valid)."""
    if not isinstance(mapping, dict):
        return ["a mapping is a JSON object naming the source field of each catalog column"]
    problems = _unknown_key_problems(mapping)
    if fmt is not None and fmt not in FORMATS:
        problems.append(f"unknown format '{fmt}' (known: {', '.join(FORMATS)})")
    for check in _CHECKS:
        problems += check(mapping)
    # The format's own checks read the fields, so they run only on a mapping that is otherwise sound.
    if fmt in ("xml", "json") and (mapping.get("group") is not None or mapping.get("skip") is not None):
        problems.append("'group' and 'skip' read the columns of CSV and TSV feeds (XML and JSON feeds nest a "
                        "product's variants instead)")
    if fmt == "xml" and not problems:
        problems += _xml_problems(mapping)
    if fmt == "json" and not problems:
        problems += _json_problems(mapping)
    return problems


def _unknown_key_problems(mapping: dict) -> list[str]:
    unknown = sorted(set(mapping) - set(KNOWN_KEYS))
    if unknown:
        return [f"unknown keys {', '.join(unknown)} (known: {', '.join(KNOWN_KEYS)})"]
    return []


def _external_id_problems(mapping: dict) -> list[str]:
    if not _is_ref(mapping.get("external_id")):
        return ["'external_id' is required: the field holding the supplier's id of the product"]
    return []


def _scalar_problems(mapping: dict) -> list[str]:
    return [f"'{column}' must name a source field (a non-empty string), or list the fields to read the first "
            "of" for column in SCALAR_COLUMNS + EXTRA_FIELDS if column in mapping and not _is_ref(mapping[column])]


def _translation_problems(mapping: dict) -> list[str]:
    problems = []
    for column in TRANSLATED:
        value = mapping.get(column)
        if value is None:
            continue
        if not isinstance(value, dict) or not value:
            problems.append(f"'{column}' must map languages to source fields, like {{\"en\": \"{column}_en\"}}")
            continue
        for language, ref in value.items():
            if not isinstance(language, str) or not _LANGUAGE.match(language):
                problems.append(f"'{column}' language '{language}' must be a two-letter lowercase code (en, de, fr)")
            if not _is_ref(ref):
                problems.append(f"'{column}.{language}' must name a source field")
    return problems


def _attribute_problems(mapping: dict) -> list[str]:
    attributes = mapping.get("attributes")
    if attributes is None:
        return []
    if isinstance(attributes, list):
        if not all(_is_ref(a) for a in attributes):
            return ["'attributes' must list source fields (non-empty strings)"]
        return []
    if isinstance(attributes, dict):
        if not all(isinstance(k, str) and k and _is_ref(v) for k, v in attributes.items()):
            return ["'attributes' must map attribute names to source fields"]
        return []
    return ["'attributes' must be a list of source fields or an object of name: field"]


def _default_problems(mapping: dict) -> list[str]:
    defaults = mapping.get("defaults")
    if defaults is None:
        return []
    if not isinstance(defaults, dict):
        return ["'defaults' must be an object of column: value"]
    problems = []
    for column, value in defaults.items():
        if column not in SCALAR_COLUMNS or column in ("external_id", "gtin"):
            problems.append(f"'defaults' cannot set '{column}' (allowed: "
                            f"{', '.join(c for c in SCALAR_COLUMNS if c not in ('external_id', 'gtin'))})")
            continue
        try:
            _convert_default(column, value, mapping)
        except (Rejected, TypeError, ValueError) as exc:
            problems.append(f"default for '{column}' is not valid: {exc}")
    return problems


def _required_problems(mapping: dict) -> list[str]:
    required = mapping.get("required")
    if required is None:
        return []
    if not isinstance(required, list) or not all(isinstance(c, str) for c in required):
        return ["'required' must list catalog columns, like [\"sku\", \"quantity\"]"]
    problems = [f"'required' names '{c}', which is not a catalog column (known: {', '.join(SCALAR_COLUMNS)})"
                for c in required if c not in SCALAR_COLUMNS]
    problems += [f"'required' names '{c}', which the mapping does not map to a source field"
                 for c in required if c in SCALAR_COLUMNS and not _is_ref(mapping.get(c))]
    return problems


def _option_problems(mapping: dict) -> list[str]:
    problems = [f"'{key}' must be true or false" for key in ("decimal_comma", "json_lines")
                if key in mapping and not isinstance(mapping[key], bool)]
    problems += [f"'{key}' must be a string" for key in ("gtin_type", "list_separator")
                 if key in mapping and not isinstance(mapping[key], str)]
    if "record" in mapping and not (isinstance(mapping["record"], str) or _is_ref(mapping["record"])):
        problems.append("'record' must be a string, or a list of record paths")
    if mapping.get("list_separator") == "":
        problems.append("'list_separator' must not be empty")
    return problems


def _csv_problems(mapping: dict) -> list[str]:
    problems = [f"'{key}' must be a single character" for key in ("delimiter", "quotechar")
                if key in mapping and not _is_single_character(mapping[key])]
    if "quoting" in mapping and mapping["quoting"] not in ("minimal", "none"):
        problems.append("'quoting' must be 'minimal' or 'none'")
    return problems


def _is_single_character(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 1 and value not in "\r\n"


def _namespace_problems(mapping: dict) -> list[str]:
    namespaces = mapping.get("namespaces")
    if namespaces is not None and not (isinstance(namespaces, dict) and all(
            isinstance(k, str) and k and isinstance(v, str) and v for k, v in namespaces.items())):
        return ["'namespaces' must map prefixes to namespace URIs"]
    return []


# The checks of every mapping, whatever its format, in the order their problems are listed.
_CHECKS: tuple[Callable[[dict], list[str]], ...] = (
    _external_id_problems,
    _scalar_problems,
    _translation_problems,
    _attribute_problems,
    _default_problems,
    _required_problems,
    _option_problems,
    _csv_problems,
    _namespace_problems,
    extra_problems,
    row_problems,
)


def _xml_problems(mapping: dict) -> list[str]:
    problems = []
    if not _is_ref(mapping.get("record")):
        problems.append("an XML mapping needs 'record': the record element, like 'products/product' (or a list "
                        "of such paths: the records are the elements any of them names)")
    namespaces = _xml_namespaces(mapping)
    for name, ref in _refs(mapping):
        for option in ref_options(ref):
            try:
                etree.XPath(option, namespaces=namespaces)
            except (etree.XPathSyntaxError, etree.XPathError, ValueError) as exc:
                problems.append(f"'{name}' is not a valid XPath expression ('{option}': {exc})")
    return problems


def _json_problems(mapping: dict) -> list[str]:
    return [f"JSON path '{option}' has an empty step" for _name, ref in _refs(mapping)
            for option in ref_options(ref) if any(not step for step in option.split("."))]


# ---------------------------------------------------------------- what a valid mapping reads

def _refs(mapping: dict) -> list[tuple[str, str | list[str]]]:
    """(what, source reference) for every field the mapping reads, in a fixed order. A reference is a
    field or a list of alternatives (see `ref_options`); each image field and option column is its own."""
    refs = [(column, mapping[column]) for column in SCALAR_COLUMNS + EXTRA_FIELDS if column in mapping]
    for column in TRANSLATED:
        refs += [(f"{column}.{lang}", ref) for lang, ref in (mapping.get(column) or {}).items()]
    refs += [(f"attributes.{name}", ref) for name, ref in _attributes(mapping)]
    refs += [(f"images.{i}", ref) for i, ref in enumerate(image_refs(mapping))]
    for i, (name, value) in enumerate(mapping.get("option_pairs") or ()):
        refs += [(f"options.{i}.name", name), (f"options.{i}.value", value)]
    return refs


def image_refs(mapping: dict) -> list[str]:
    """The fields images are read from: every one listed (not alternatives)."""
    images = mapping.get("images")
    if images is None:
        return []
    return [images] if isinstance(images, str) else list(images)


def _attributes(mapping: dict) -> list[tuple[str, str]]:
    attributes = mapping.get("attributes") or []
    if isinstance(attributes, dict):
        return list(attributes.items())
    # A listed field keeps its own name: a column name, a JSON key, or an XPath's last step.
    return [(_attribute_name(ref), ref) for ref in attributes]


def _attribute_name(ref: str | list[str]) -> str:
    ref = ref_options(ref)[0]
    last = re.split(r"[/.]", ref.strip())[-1]
    last = re.sub(r"\[.*\]$", "", last).lstrip("@")
    return last.split(":")[-1] or ref


def _xml_namespaces(mapping: dict) -> dict[str, str]:
    return {"xml": XML_NAMESPACE, **(mapping.get("namespaces") or {})}
