"""Rows that are not products on their own, in the CSV exports shops write: a product's later rows that
leave its product-level cells empty (Shopify repeats only the Handle on a variant's row), variations that
name their parent (WooCommerce's Parent column), rows that only add an image, and rows that are no
product at all (a WooCommerce variable parent, a Magento store-view override).

`RowRules` wraps a CSV reader and hands the mapping complete rows: a continuation row gets the cells the
mapping's `group.inherit` names from the row it continues, where its own are empty, and never a
variant-level one (the schema refuses those: SKU, barcode, price, quantity...). Rows the mapping's `skip`
matches, and a group's rows that carry nothing of a variant (Shopify's image-only rows), are not handed on
and are counted in `skipped`. With `group.collect: ["images"]` every row of a group gets the images of all
its rows, in a column of its own at the end of the header (`GROUP_IMAGES`), which the compiled mapping
reads instead of the image columns.

Memory stays bounded whatever the feed: a `by` group is held only until its key changes (at most
MAX_GROUP_ROWS rows; a longer run is handed on in pieces, each still inheriting from the first row),
and a `parent` feed remembers the inherited cells of its last MAX_PARENTS possible parents.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from marketsync.assets.feeds.mapping.extras import image_urls
from marketsync.assets.feeds.mapping.refs import ref_options
from marketsync.assets.feeds.mapping.rows_schema import VARIANT_FIELDS
from marketsync.assets.feeds.mapping.schema import SCALAR_COLUMNS, TRANSLATED, _attributes, image_refs
from marketsync.assets.feeds.readers import OnBad

# The column the collected images of a group travel in (a name no export uses: it starts with NUL).
GROUP_IMAGES = "\x00images of the group"
MAX_GROUP_ROWS = 10_000
MAX_PARENTS = 100_000


def has_row_rules(mapping: dict[str, Any]) -> bool:
    return bool(mapping.get("group") or mapping.get("skip"))


def compiled_mapping_for(mapping: dict[str, Any]) -> dict[str, Any]:
    """The mapping the records of `RowRules` are compiled with: collected images read from GROUP_IMAGES."""
    group = mapping.get("group") or {}
    if "images" in (group.get("collect") or ()) and mapping.get("images"):
        return {**mapping, "images": GROUP_IMAGES, "image_separator": "\n"}
    return mapping


class RowRules:
    """A CSV reader's records with the mapping's `skip` and `group` rules applied (see the module docstring).
    Behaves as the reader: `header`, `render`, iteration of (position, raw text, record)."""

    def __init__(self, reader: Any, mapping: dict[str, Any], on_bad: OnBad):
        self._reader = reader
        self._on_bad = on_bad
        self.render = reader.render
        self.skipped = 0  # rows that are no product of their own, before `count_before` (a line) if set
        self.count_before: int | None = None
        header = list(reader.header)
        self._width = len(header)
        self._index: dict[str, int] = {}
        for position, name in enumerate(header):
            self._index.setdefault(name, position)
        group = mapping.get("group") or {}
        self._skip = [(self._column(rule["field"]), set(rule["in"]) if "in" in rule else None)
                      for rule in mapping.get("skip") or ()]
        self._by = self._column(group["by"]) if "by" in group else None
        self._parent = self._column(group["parent"]) if "parent" in group else None
        self._parent_keys = [(self._column(field), prefix)
                             for field, prefix in (group.get("parent_keys") or {}).items()]
        self._inherit = sorted({i for name in group.get("inherit") or ()
                                for i in self._inherited_columns(mapping, name)})
        self._variant = sorted({i for column in VARIANT_FIELDS if column in mapping
                                for i in [self._column(mapping[column])] if i is not None and i != self._by})
        self._collect = "images" in (group.get("collect") or ()) and bool(mapping.get("images"))
        self._images = [i for ref in image_refs(mapping) for i in [self._column(ref)] if i is not None]
        self._separator = mapping.get("image_separator") or ","
        self.header = [*header, GROUP_IMAGES] if self._collect else header
        self._extra_images: list[list[str]] = []

    def _column(self, ref: str | list[str]) -> int | None:
        """The position of the first of a reference's columns the header has (None: it has none)."""
        return next((self._index[o] for o in ref_options(ref) if o in self._index), None)

    def _inherited_columns(self, mapping: dict[str, Any], name: str) -> list[int]:
        if name.startswith("column:"):
            refs: list[Any] = [name[len("column:"):]]
        elif name in TRANSLATED:
            refs = list((mapping.get(name) or {}).values())
        elif name == "attributes":
            refs = [ref for _name, ref in _attributes(mapping)]
        elif name.startswith("attributes."):
            refs = [ref for attribute, ref in _attributes(mapping) if attribute == name.split(".", 1)[1]]
        elif name == "images":
            refs = image_refs(mapping)
        elif name == "option_pairs":
            refs = [pair[0] for pair in mapping.get("option_pairs") or ()]
        elif name in SCALAR_COLUMNS or name == "weight":
            refs = [mapping[name]] if name in mapping else []
        else:
            refs = []
        return [i for ref in refs for i in [self._column(ref)] if i is not None]

    def __iter__(self) -> Iterator[tuple[int, str | None, Any]]:
        records = iter(self._reader)
        if self._by is not None:
            return self._by_groups(records)
        if self._parent is not None:
            return self._with_parents(records)
        return (record for record in records if not self._skipped(record[0], record[2]))

    def _wrong_width(self, record: tuple[int, str | None, Any]) -> None:
        position, raw, row = record
        self._on_bad(position, raw if raw is not None else self.render(row),
                     f"the row has {len(row)} fields, the header {self._width}")

    def _count_skipped(self, position: int) -> None:
        # A part of a file read in a parse worker reads a little past its end: those rows are the next
        # part's to count.
        if self.count_before is None or position < self.count_before:
            self.skipped += 1

    def _skipped(self, position: int, row: list[str]) -> bool:
        if len(row) != self._width:
            return False  # the mapping rejects it, with its reason
        for column, values in self._skip:
            if column is not None and (bool(row[column].strip()) if values is None else row[column].strip() in values):
                self._count_skipped(position)
                return True
        return False

    def _inherit_from(self, row: list[str], leader: list[str] | tuple[str, ...], columns: list[int]) -> None:
        for i, column in enumerate(columns):
            if not row[column]:
                row[column] = leader[i]

    # -- Shopify: consecutive rows with the same key; the first leads
    def _by_groups(self, records: Iterator[tuple[int, str | None, Any]]) -> Iterator[tuple[int, str | None, Any]]:
        by, inherit = self._by, self._inherit
        group: list[tuple[int, str | None, Any]] = []
        key: str | None = None
        leader: tuple[str, ...] = ()
        while True:
            try:
                record = next(records)
            except StopIteration:
                break
            except BaseException:
                # The reader stopped (a part of the file ends at a bad record): what is held goes first.
                yield from self._flush(group)
                raise
            row = record[2]
            if len(row) != self._width:
                # Quarantined with its reason; the group goes on past it.
                try:
                    self._wrong_width(record)
                except BaseException:
                    yield from self._flush(group)
                    raise
                continue
            row_key = row[by].strip()
            if row_key and row_key == key and len(group) < MAX_GROUP_ROWS:
                self._inherit_from(row, leader, inherit)
                if not any(row[i].strip() for i in self._variant):
                    self._image_only(record[0], row)  # adds its images, is no product itself
                    continue
            elif not (row_key and row_key == key):
                yield from self._flush(group)
                group, key = [], row_key
                leader = tuple(row[i] for i in inherit)
            else:  # a very long group: handed on in pieces, the leader kept
                yield from self._flush(group)
                group = []
                self._inherit_from(row, leader, inherit)
            group.append(record)
        yield from self._flush(group)

    def _image_only(self, position: int, row: list[str]) -> None:
        self._count_skipped(position)
        if self._collect:
            self._extra_images.append(row)  # its images join the group's at the flush

    def _flush(self, group: list[tuple[int, str | None, Any]]) -> Iterator[tuple[int, str | None, Any]]:
        extra, self._extra_images = self._extra_images, []
        if not group:
            return
        if self._collect:
            cells = [row[i] for _p, _r, row in group for i in self._images]
            cells += [row[i] for row in extra for i in self._images]
            images = "\n".join(image_urls(cells, self._separator))
            for _position, _raw, row in group:
                row.append(images)
        for record in group:
            if not self._skipped(record[0], record[2]):
                yield record

    # -- WooCommerce: a row names its parent by one of the parent's keys
    def _with_parents(self, records: Iterator[tuple[int, str | None, Any]]) -> Iterator[tuple[int, str | None, Any]]:
        parents: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        parent, inherit = self._parent, self._inherit
        for record in records:
            position, raw, row = record
            if len(row) != self._width:
                self._wrong_width(record)
                continue
            named = row[parent].strip()
            if not named:
                cells = tuple(row[i] for i in inherit)
                for column, prefix in self._parent_keys:
                    if column is not None and row[column].strip():
                        parents[prefix + row[column].strip()] = cells
                        parents.move_to_end(prefix + row[column].strip())
                while len(parents) > MAX_PARENTS:
                    parents.popitem(last=False)
            else:
                cells_of_parent = parents.get(named)
                if cells_of_parent is None:
                    self._on_bad(position, raw if raw is not None else self.render(row),
                                 f"its parent '{named}' is not among the rows before it")
                    continue
                self._inherit_from(row, cells_of_parent, inherit)
            if not self._skipped(position, row):
                yield record
