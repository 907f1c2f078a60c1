"""Page sizes and opaque page tokens shared by every List RPC."""

from __future__ import annotations

import pytest

from crmkit.errors import InvalidArgument
from crmkit.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decode_token, encode_token, page_size


def test_zero_page_size_means_the_default() -> None:
    assert page_size(0) == DEFAULT_PAGE_SIZE


@pytest.mark.parametrize("requested", [1, 17, MAX_PAGE_SIZE])
def test_page_size_within_bounds_is_kept(requested: int) -> None:
    assert page_size(requested) == requested


@pytest.mark.parametrize("requested", [-1, MAX_PAGE_SIZE + 1])
def test_page_size_out_of_bounds_is_invalid_page_size(requested: int) -> None:
    with pytest.raises(InvalidArgument) as raised:
        page_size(requested)
    assert raised.value.field == "page_size"


def test_page_token_round_trips_the_cursor() -> None:
    cursor = ["2024-03-01T09:30:00+00:00", "杭州食堂", 42]
    assert decode_token(encode_token(cursor), length=3) == cursor


def test_empty_page_token_means_first_page() -> None:
    assert decode_token("", length=2) == []


@pytest.mark.parametrize(
    "token",
    [
        "%%%not-base64%%%",
        "a",  # impossible base64 length
        encode_token(["only-one"]),  # wrong number of cursor values
        "eyJub3QiOiAiYSBsaXN0In0",  # base64 of a JSON object, not a list
        "bm90IGpzb24",  # base64 of "not json"
        "_-8",  # base64 of bytes that are not UTF-8
    ],
)
def test_malformed_page_token_is_invalid_page_token(token: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        decode_token(token, length=2)
    assert raised.value.field == "page_token"
