"""Unit tests for the customer search's terms, ranks and query parsing (`crm_customer.search.terms`)."""

from __future__ import annotations

import itertools

import pytest

from crm_customer.search.terms import (
    RANK_EXACT,
    RANK_NAME_INSIDE,
    RANK_NAME_START,
    RANK_PINYIN_INSIDE,
    RANK_PINYIN_PREFIX,
    SearchQuery,
    parse_search_query,
    search_terms,
    verify_candidate,
)
from crmkit.cn import compact, pinyin_full, pinyin_initials, pinyin_syllables


def _finds(query: SearchQuery, index: dict[str, int], name: str, short: str = "") -> bool:
    """Mimic the repository lookup against one customer's index."""
    if query.prefix is not None:
        hit = any(term.startswith(query.prefix) for term in index)
    else:
        hit = all(term in index for term in query.terms)
    return hit and verify_candidate(query, name, short)


# --- index terms -----------------------------------------------------------------------


def test_search_terms_of_a_canteen_cover_bigrams_pinyin_and_syllables() -> None:
    terms = search_terms("北京实验小学食堂")
    assert terms["北京"] == RANK_NAME_START
    assert terms["食堂"] == RANK_NAME_INSIDE
    assert terms["bjsy"] == RANK_PINYIN_PREFIX
    assert terms["beijing"] == RANK_PINYIN_PREFIX
    assert terms["shitang"] == RANK_PINYIN_INSIDE
    assert terms["tang"] == RANK_PINYIN_INSIDE


def test_search_terms_have_no_single_characters() -> None:
    assert all(len(term) >= 2 for term in search_terms("北京实验小学食堂", "实小"))


def test_search_terms_are_lowercase_and_at_most_32_characters() -> None:
    terms = search_terms(
        "ABC International Catering Group 上海",
        credit_code="91350100M000100Y43",
    )  # fmt: skip
    assert all(term == term.lower() and len(term) <= 32 for term in terms)


def test_pinyin_prefixes_stop_at_12_letters() -> None:
    terms = search_terms("北京实验小学食堂")
    assert "beijingshiya" in terms
    assert "beijingshiyan" not in terms


def test_bigram_starting_the_short_name_ranks_as_a_name_start() -> None:
    terms = search_terms("杭州市西湖区实验小学食堂", short_name="实验小学")
    assert terms["实验"] == RANK_NAME_START
    assert terms["西湖"] == RANK_NAME_INSIDE


def test_term_arising_twice_keeps_the_better_rank() -> None:
    # "jing" is a rank-4 syllable of 北京 but a rank-3 pinyin prefix of the short name 京味.
    terms = search_terms("北京烤鸭店", short_name="京味")
    assert terms["jing"] == RANK_PINYIN_PREFIX


def test_credit_code_is_indexed_lowercase_at_exact_rank() -> None:
    terms = search_terms("某餐厅", credit_code="91350100m000100y43")
    assert terms["91350100m000100y43"] == RANK_EXACT


def test_indexing_an_invalid_credit_code_raises() -> None:
    with pytest.raises(ValueError):
        search_terms("某餐厅", credit_code="91350100M000100Y4")


# --- query parsing ---------------------------------------------------------------------


def test_pinyin_initials_query_is_one_exact_term() -> None:
    query = parse_search_query("bjsy")
    assert query.terms == ("bjsy",)
    assert not query.needs_verify
    assert query.prefix is None


def test_long_pinyin_query_looks_up_its_first_12_letters_and_needs_verify() -> None:
    query = parse_search_query("BeiJing ShiYan XiaoXue")
    assert query.text == "beijingshiyanxiaoxue"
    assert query.terms == ("beijingshiya",)
    assert query.needs_verify


def test_cjk_query_of_four_characters_needs_verify_with_all_bigrams() -> None:
    query = parse_search_query("实验小学")
    assert query.terms == ("实验", "验小", "小学")
    assert query.needs_verify


def test_cjk_query_of_two_characters_is_one_bigram_without_verify() -> None:
    query = parse_search_query(" 食堂 ")
    assert query.terms == ("食堂",)
    assert not query.needs_verify


def test_single_cjk_character_query_is_a_prefix_lookup() -> None:
    query = parse_search_query("食")
    assert query.prefix == "食"
    assert query.terms == ()


def test_mobile_query_with_country_code_and_spaces_is_an_exact_term() -> None:
    assert parse_search_query("+86 138 0013 8000").terms == ("13800138000",)


def test_four_digit_query_looks_up_mobile_last_four() -> None:
    query = parse_search_query("8000")
    assert query.terms == ("8000",)
    assert not query.needs_verify


def test_credit_code_query_is_an_exact_lowercase_term() -> None:
    assert parse_search_query("91350100M000100Y43").terms == ("91350100m000100y43",)


def test_repeated_bigrams_in_a_query_are_looked_up_once() -> None:
    assert parse_search_query("哈哈哈").terms == ("哈哈",)


def test_mixed_query_uses_bigrams_and_needs_verify() -> None:
    query = parse_search_query("7天酒店")
    assert query.terms == ("7天", "天酒", "酒店")
    assert query.needs_verify


def test_query_punctuation_and_case_are_ignored() -> None:
    assert parse_search_query("《实验·小学》").text == "实验小学"


@pytest.mark.parametrize("raw", ["", "   ", "，。！"])
def test_empty_query_is_rejected(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_search_query(raw)


def test_query_longer_than_64_characters_is_rejected() -> None:
    with pytest.raises(ValueError):
        parse_search_query("食" * 65)
    assert parse_search_query("食" * 64).needs_verify


def test_verify_rejects_a_candidate_whose_bigrams_match_out_of_order() -> None:
    query = parse_search_query("小学食堂")
    # Has every bigram (小学, 学食, 食堂) but never the four characters together.
    assert not verify_candidate(query, "小学食品与学食堂")
    assert verify_candidate(query, "北京实验小学食堂")


def test_verify_checks_long_pinyin_queries_against_the_name_pinyin() -> None:
    query = parse_search_query("beijingshiyanxiaoxue")
    assert verify_candidate(query, "北京实验小学食堂")
    assert not verify_candidate(query, "北京实验中学食堂")


# --- round trip: everything a user might type about a customer finds it ----------------

CUSTOMERS = [
    ("北京实验小学食堂", "实验小学"),
    ("杭州市西湖区实验小学食堂", ""),
    ("苏州工业园区星辰科技有限公司员工食堂", "星辰食堂"),
    ("KFC肯德基（西湖店）", "肯德基"),
    ("7天连锁酒店上海虹桥店", "7天"),
    ("重庆小面馆", ""),
]


@pytest.mark.parametrize(("name", "short"), CUSTOMERS)
def test_customer_is_found_by_every_piece_of_its_own_name(name: str, short: str) -> None:
    index = search_terms(name, short)
    for text in filter(None, (name, short)):
        chars = compact(text)
        for start in range(len(chars)):
            for end in range(start + 2, len(chars) + 1):
                piece = chars[start:end]
                if piece.isascii() and len(piece) > 2:
                    continue  # treated as pinyin, see the prefix test below
                query = parse_search_query(piece)
                assert _finds(query, index, name, short), piece
        for char in chars[:-1]:
            assert _finds(parse_search_query(char), index, name, short), char


@pytest.mark.parametrize(("name", "short"), CUSTOMERS)
def test_customer_is_found_by_pinyin_prefixes_and_syllable_pairs(name: str, short: str) -> None:
    index = search_terms(name, short)
    for text in filter(None, (name, short)):
        syllables = pinyin_syllables(text)
        for key in (pinyin_full(text), pinyin_initials(text)):
            for length in range(2, len(key) + 1):
                if key[:length].isdigit():
                    continue  # digit-only input is read as a phone number, not pinyin
                query = parse_search_query(key[:length])
                assert _finds(query, index, name, short), key[:length]
        for first, second in itertools.pairwise(syllables):
            if len(first + second) <= 12:
                assert _finds(parse_search_query(first + second), index, name, short)


def test_customer_is_found_by_credit_code() -> None:
    name = "杭州市西湖区实验小学食堂"
    index = search_terms(name, credit_code="91350100M000100Y43")
    for typed in ["91350100M000100Y43", "91350100m000100y43"]:
        assert _finds(parse_search_query(typed), index, name), typed


def test_customer_is_not_found_by_a_name_it_does_not_have() -> None:
    name = "杭州市西湖区实验小学食堂"
    index = search_terms(name)
    for typed in ["中学", "实验中学", "shanghai", "sh"]:
        assert not _finds(parse_search_query(typed), index, name), typed
