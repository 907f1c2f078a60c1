"""Unit tests for crmkit.cn: credit codes, mobiles, pinyin and Han characters."""

from __future__ import annotations

import pytest

from crmkit.cn import (
    compact,
    is_han,
    make_credit_code,
    mask_mobile,
    normalize_credit_code,
    normalize_mobile,
    parse_mobile,
    pinyin_full,
    pinyin_initials,
    pinyin_syllables,
)

# 911100001000084495 is often quoted as an example but its check character should be A.
REAL_LOOKING_CODES = [
    "91350100M000100Y43",
    "91110000100008449A",
    "9133010600000006X0",  # sum divisible by 31: the "31 -> 0" branch
]


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


def test_parse_mobile_gives_11_digits_or_none_for_a_value_that_is_not_a_mobile() -> None:
    assert parse_mobile("+86 138-0013-8000") == "13800138000"
    assert parse_mobile("0571-88886666") is None


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


# --- Han characters --------------------------------------------------------------------


def test_han_characters_include_extensions_and_the_ideographic_zero() -> None:
    assert all(is_han(ch) for ch in "北京食堂〇𠀀")
    assert not any(is_han(ch) for ch in "a7（·ー")


def test_compact_folds_width_and_case_and_drops_spaces_and_punctuation() -> None:
    assert compact("《实验·小学》 ＡＢＣ 7天") == "实验小学abc7天"
