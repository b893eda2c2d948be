"""What a mapping may say about the values beyond the catalog's columns (images, weights, availability
words, negative stock, options) and about rows (which are no product, which continue another), and
whether it says it well: one sentence per problem, worded for the merchant."""
from __future__ import annotations

from typing import Any

from marketsync.assets.feeds.mapping.extras import (
    AVAILABILITY_WORDS,
    NEGATIVE_STOCK_POLICIES,
    UNKNOWN,
    WEIGHT_UNITS,
)
from marketsync.assets.feeds.mapping.refs import is_field, is_ref

# What varies from one variant of a product to the next: a continuation row never inherits these.
VARIANT_FIELDS = ("external_id", "gtin", "sku", "mpn", "price", "sale_price", "quantity", "availability")
# What a continuation row may inherit from the row it continues (mapping keys; also "attributes.NAME"
# and "column:NAME", a column of the feed by its name).
INHERITABLE = ("title", "description", "brand", "product_type", "platform", "currency", "regions", "languages",
               "attributes", "images", "weight", "option_pairs")
COLLECTABLE = ("images",)


def extra_problems(mapping: dict) -> list[str]:
    problems = []
    images = mapping.get("images")
    if images is not None and not (is_field(images) or (isinstance(images, list) and images
                                                         and all(is_field(i) for i in images))):
        problems.append("'images' must name a source field or list the fields images are read from")
    for key in ("image_separator", "preset"):
        if key in mapping and not (isinstance(mapping[key], str) and mapping[key]):
            problems.append(f"'{key}' must be a non-empty string")
    if "weight_unit" in mapping and mapping["weight_unit"] not in WEIGHT_UNITS:
        problems.append("'weight_unit' must be one of g, kg, lb, oz")
    if mapping.get("negative_stock", "clamp") not in NEGATIVE_STOCK_POLICIES:
        problems.append("'negative_stock' must be 'clamp' (load as 0 and note it) or 'quarantine'")
    problems += _availability_problems(mapping.get("availability_quantity"))
    words = mapping.get("availability_words")
    if words is not None and not (isinstance(words, dict) and all(
            isinstance(k, str) and k and v in AVAILABILITY_WORDS for k, v in words.items())):
        problems.append(f"'availability_words' must map the feed's words to {', '.join(AVAILABILITY_WORDS)}")
    optional = mapping.get("optional")
    if optional is not None and not (isinstance(optional, list) and all(isinstance(o, str) for o in optional)):
        problems.append("'optional' must list the fields a file may lack, like [\"sale_price\", \"title.de\"]")
    elif optional and "external_id" in optional:
        problems.append("'optional' cannot name external_id: every record needs it")
    pairs = mapping.get("option_pairs")
    if pairs is not None and not (isinstance(pairs, list) and all(
            isinstance(p, list) and len(p) == 2 and all(is_ref(r) for r in p) for p in pairs)):
        problems.append("'option_pairs' must list [name field, value field] pairs")
    return problems


def _availability_problems(table: Any) -> list[str]:
    if table is None:
        return []
    if not isinstance(table, dict):
        return ["'availability_quantity' must map availability words to a quantity or \"unknown\""]
    problems = [f"'availability_quantity' knows no word '{word}' (known: {', '.join(AVAILABILITY_WORDS)})"
                for word in table if word not in AVAILABILITY_WORDS]
    problems += [f"'availability_quantity.{word}' must be a whole number of at least 0 or \"unknown\""
                 for word, value in table.items()
                 if value != UNKNOWN and not (type(value) is int and value >= 0)]
    return problems


def row_problems(mapping: dict) -> list[str]:
    return _skip_problems(mapping.get("skip")) + _group_problems(mapping.get("group"))


def _skip_problems(skip: Any) -> list[str]:
    if skip is None:
        return []
    rule = ("each 'skip' rule is {\"field\": column, \"in\": [values]} or {\"field\": column, \"not_empty\": true}")
    if not isinstance(skip, list):
        return [rule]
    for item in skip:
        if not (isinstance(item, dict) and is_ref(item.get("field")) and set(item) in ({"field", "in"},
                                                                                      {"field", "not_empty"})):
            return [rule]
        if "in" in item and not (isinstance(item["in"], list) and all(isinstance(v, str) for v in item["in"])):
            return [rule]
        if "not_empty" in item and item["not_empty"] is not True:
            return [rule]
    return []


def _group_problems(group: Any) -> list[str]:
    if group is None:
        return []
    if not isinstance(group, dict):
        return ["'group' must be an object: {\"by\": column, \"inherit\": [...]} or {\"parent\": column, "
                "\"parent_keys\": {column: prefix}, \"inherit\": [...]}"]
    problems = []
    known = {"by", "parent", "parent_keys", "inherit", "collect"}
    if set(group) - known:
        problems.append(f"'group' knows no key {', '.join(sorted(set(group) - known))} "
                        f"(known: {', '.join(sorted(known))})")
    if ("by" in group) == ("parent" in group):
        problems.append("'group' needs exactly one of 'by' (rows with the same value continue the first) or "
                        "'parent' (a row names the row it continues)")
    for key in ("by", "parent"):
        if key in group and not is_ref(group[key]):
            problems.append(f"'group.{key}' must name a column")
    if "parent" in group:
        keys = group.get("parent_keys")
        if not (isinstance(keys, dict) and keys and all(is_field(k) and isinstance(v, str) for k, v in keys.items())):
            problems.append("'group.parent_keys' must map the columns a parent is named by to their prefix, like "
                            "{\"SKU\": \"\", \"ID\": \"id:\"}")
    elif "parent_keys" in group:
        problems.append("'group.parent_keys' goes with 'group.parent'")
    problems += _inherit_problems(group.get("inherit"))
    collect = group.get("collect", [])
    if not (isinstance(collect, list) and all(c in COLLECTABLE for c in collect)):
        problems.append(f"'group.collect' may list {', '.join(COLLECTABLE)}")
    elif collect and "by" not in group:
        problems.append("'group.collect' gathers a 'by' group's rows (with 'parent' the rows are not together)")
    return problems


def _inherit_problems(inherit: Any) -> list[str]:
    if inherit is None:
        return []
    if not isinstance(inherit, list) or not all(isinstance(i, str) and i for i in inherit):
        return ["'group.inherit' must list what a continuation row takes from the row it continues"]
    problems = []
    for name in inherit:
        base = name.split(".", 1)[0]
        if name in VARIANT_FIELDS or base in VARIANT_FIELDS:
            problems.append(f"'group.inherit' names '{name}', which differs from one variant to the next: a "
                            f"continuation row never inherits {', '.join(VARIANT_FIELDS)}")
        elif not (base in INHERITABLE or (name.startswith("column:") and len(name) > 7)):
            problems.append(f"'group.inherit' names '{name}' (may name: {', '.join(INHERITABLE)}, "
                            "attributes.NAME or column:NAME)")
    return problems
