"""Stores: created once with a valid code, found by their code."""
from __future__ import annotations

import pytest

from marketsync.assets.stores import ensure_store, find_store_id, store_id_for, validate_store_code
from marketsync.resources.errors import MarketsyncError


@pytest.mark.unit
@pytest.mark.parametrize("code", ["shop", "a", "shop-2_eu", "0" * 63])
def test_valid_store_codes(code):
    validate_store_code(code)


@pytest.mark.unit
@pytest.mark.parametrize("code", ["", "Shop", "-shop", "_shop", "sh op", "shop/1", "0" * 64, None])
def test_invalid_store_codes_are_refused_in_words(code):
    with pytest.raises(MarketsyncError, match="must be lower-case letters, digits, '-' or '_'"):
        validate_store_code(code)


def test_a_store_is_made_once_and_found_by_its_code(warehouse):
    with warehouse.begin() as conn:
        assert find_store_id(conn, "shop") is None
        with pytest.raises(MarketsyncError, match="unknown store 'shop'"):
            store_id_for(conn, "shop")
        store_id = ensure_store(conn, "shop")
        assert ensure_store(conn, "shop") == store_id == find_store_id(conn, "shop") == store_id_for(conn, "shop")
        assert ensure_store(conn, "other") != store_id
        with pytest.raises(MarketsyncError, match="store code 'Bad' must be"):
            ensure_store(conn, "Bad")
