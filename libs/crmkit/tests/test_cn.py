"""Unit tests for crmkit.cn: credit codes, mobiles, pinyin keys and search-query parsing."""

from __future__ import annotations

import itertools

import pytest

from crmkit.cn import (
    RANK_EXACT,
    RANK_MOBILE_TAIL,
    RANK_NAME_INSIDE,
    RANK_NAME_START,
    RANK_PINYIN_INSIDE,
    RANK_PINYIN_PREFIX,
    SearchQuery,
    compact,
    make_credit_code,
    mask_mobile,
    normalize_credit_code,
    normalize_mobile,
    parse_search_query,
    pinyin_full,
    pinyin_initials,
    pinyin_syllables,
    search_terms,
    verify_candidate,
)

# 911100001000084495 is often quoted as an example but its check character should be A.
REAL_LOOKING_CODES = [
    "91350100M000100Y43",
    "91110000100008449A",
    "9133010600000006X0",  # sum divisible by 31: the "31 -> 0" branch
]


def _finds(query: SearchQuery, index: dict[str, int], name: str, short: str = "") -> bool:
    """Mimic the repository lookup against one customer's index."""
    if query.prefix is not None:
        hit = any(term.startswith(query.prefix) for term in index)
    else:
        hit = all(term in index for term in query.terms)
    return hit and verify_candidate(query, name, short)


# --- credit codes -----------------------------------------------------------------------


@pytest.mark.parametrize("code", REAL_LOOKING_CODES)
def test_valid_credit_code_is_accepted_unchanged(code: str) -> None:
    assert normalize_credit_code(code) == code


def test_credit_code_is_uppercased_and_spaces_removed() -> None:
    assert normalize_credit_code(" 9135 0100 m000 100y43 ") == "91350100M000100Y43"


def test_full_width_credit_code_typed_with_chinese_ime_is_accepted() -> None:
    assert normalize_credit_code("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"


def test_credit_code_with_wrong_check_character_is_rejected() -> None:
    with pytest.raises(ValueError, match="校验位错误"):
        normalize_credit_code("911100001000084495")


def test_credit_code_of_wrong_length_is_rejected_with_length_message() -> None:
    with pytest.raises(ValueError, match="18"):
        normalize_credit_code("91350100M000100Y4")


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_credit_code_with_letters_outside_gb32100_charset_is_rejected(
    letter: str,
) -> None:
    with pytest.raises(ValueError, match="非法字符"):
        normalize_credit_code(f"91350100M{letter}00100Y43")


def test_credit_code_with_non_numeric_region_code_is_rejected() -> None:
    with pytest.raises(ValueError, match="行政区划码"):
        normalize_credit_code("913501A0M000100Y43")


def test_credit_code_error_messages_are_distinct_per_problem() -> None:
    messages = set()
    for bad in ["123", "91350100M0001O0Y43", "91350100M000100Y44"]:
        with pytest.raises(ValueError) as info:
            normalize_credit_code(bad)
        messages.add(str(info.value))
    assert len(messages) == 3


def test_make_credit_code_appends_the_check_character() -> None:
    assert make_credit_code("91350100M000100Y4") == "91350100M000100Y43"


def test_every_made_credit_code_validates() -> None:
    for i in range(200):
        code = make_credit_code(f"91320500MA{i:06d}A")
        assert normalize_credit_code(code) == code


def test_make_credit_code_rejects_a_body_that_is_not_17_characters() -> None:
    with pytest.raises(ValueError):
        make_credit_code("91350100M000100Y43")


# --- mobiles ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "+86 138-0013-8000",
        "86 13800138000",
        "138 0013 8000",
        "0086 138 0013 8000",
        "(+86) 138-0013-8000",
        "１３８００１３８０００",
    ],
)
def test_mobile_in_common_written_forms_normalises_to_11_digits(raw: str) -> None:
    assert normalize_mobile(raw) == "13800138000"


@pytest.mark.parametrize(
    "raw",
    ["12800138000", "1380013800", "138001380001", "0571-88886666", "1380013800a", ""],
)
def test_invalid_mobile_is_rejected_with_bilingual_message(raw: str) -> None:
    with pytest.raises(ValueError, match="手机号码格式不正确 / not a valid mainland"):
        normalize_mobile(raw)


def test_mask_mobile_hides_the_middle_four_digits() -> None:
    assert mask_mobile("13800138000") == "138****8000"
    assert mask_mobile("+86 138 0013 8000") == "138****8000"


def test_mask_mobile_hides_everything_of_a_value_that_is_not_a_mobile() -> None:
    assert mask_mobile("0571-88886666") == "***"


# --- pinyin ----------------------------------------------------------------------------


def test_pinyin_syllables_are_lowercase_and_toneless_per_character() -> None:
    assert pinyin_syllables("北京实验小学食堂") == [
        "bei", "jing", "shi", "yan", "xiao", "xue", "shi", "tang",
    ]  # fmt: skip


def test_pinyin_keeps_ascii_runs_as_tokens_and_drops_punctuation() -> None:
    assert pinyin_syllables("KFC 肯德基（西湖店）7天") == [
        "kfc", "ken", "de", "ji", "xi", "hu", "dian", "7", "tian",
    ]  # fmt: skip


def test_pinyin_reads_heteronyms_from_the_phrase() -> None:
    assert pinyin_full("重庆火锅") == "chongqinghuoguo"


def test_pinyin_full_and_initials() -> None:
    assert pinyin_full("北京食堂") == "beijingshitang"
    assert pinyin_initials("北京食堂") == "bjst"


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
        "ABC International Catering Group 上海", mobiles=["13800138000"],
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


def test_mobiles_are_indexed_in_full_and_by_last_four_digits() -> None:
    terms = search_terms("某餐厅", mobiles=["+86 139-0571-1234", "13800138000"])
    assert terms["13905711234"] == RANK_EXACT
    assert terms["1234"] == RANK_MOBILE_TAIL
    assert terms["13800138000"] == RANK_EXACT
    assert terms["8000"] == RANK_MOBILE_TAIL


def test_credit_code_is_indexed_lowercase_at_exact_rank() -> None:
    terms = search_terms("某餐厅", credit_code="91350100m000100y43")
    assert terms["91350100m000100y43"] == RANK_EXACT


def test_indexing_an_invalid_mobile_raises() -> None:
    with pytest.raises(ValueError):
        search_terms("某餐厅", mobiles=["12800138000"])


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


def test_customer_is_found_by_mobile_last_four_and_credit_code() -> None:
    name = "杭州市西湖区实验小学食堂"
    index = search_terms(name, mobiles=["138 0013 8000"], credit_code="91350100M000100Y43")
    for typed in ["+86 138-0013-8000", "13800138000", "8000", "91350100m000100y43"]:
        assert _finds(parse_search_query(typed), index, name), typed


def test_customer_is_not_found_by_a_name_it_does_not_have() -> None:
    name = "杭州市西湖区实验小学食堂"
    index = search_terms(name)
    for typed in ["中学", "实验中学", "shanghai", "sh"]:
        assert not _finds(parse_search_query(typed), index, name), typed
