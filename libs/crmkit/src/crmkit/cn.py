"""China-specific normalisation: credit codes, mainland mobiles, pinyin and Han characters.

How customers are indexed and searched under these keys is the customer service's own rule
(`crm_customer.search.terms`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator

from pypinyin import Style, lazy_pinyin

__all__ = [
    "CREDIT_CODE_CHARSET",
    "compact",
    "credit_code_check_char",
    "is_han",
    "make_credit_code",
    "mask_mobile",
    "normalize_credit_code",
    "normalize_mobile",
    "parse_mobile",
    "pinyin_full",
    "pinyin_initials",
    "pinyin_syllables",
]

# GB 32100-2015 drops I, O, Z, S and V so codes survive being read aloud or handwritten.
CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_VALUES = {ch: i for i, ch in enumerate(CREDIT_CODE_CHARSET)}
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_CODE_LENGTH = 18

_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_SEPARATORS_RE = re.compile(r"[\s\-()]")

_ASCII_ALNUM_RE = re.compile(r"[a-z0-9]+")
_PINYIN_SYLLABLE_RE = re.compile(r"[a-z]+")

_MSG_CODE_LENGTH = "统一社会信用代码应为18位 / credit code must be 18 characters"
_MSG_CODE_BODY_LENGTH = "统一社会信用代码主体应为17位 / credit code body must be 17 characters"
_MSG_CODE_CHARSET = (
    "统一社会信用代码含有非法字符（不使用 I、O、Z、S、V）"
    " / credit code contains invalid characters (I, O, Z, S, V are never used)"
)
_MSG_CODE_REGION = "统一社会信用代码第3-8位应为行政区划码数字 / credit code positions 3-8 must be a numeric region code"
_MSG_CODE_CHECK = "统一社会信用代码校验位错误 / credit code check character is wrong"
_MSG_MOBILE = "手机号码格式不正确 / not a valid mainland mobile number"


def _nfkc(value: str) -> str:
    # Chinese IMEs often emit full-width digits and letters; NFKC folds them to ASCII.
    return unicodedata.normalize("NFKC", value)


def _check_credit_body(body: str) -> None:
    if any(ch not in _CREDIT_CODE_VALUES for ch in body):
        raise ValueError(_MSG_CODE_CHARSET)
    if not body[2:8].isascii() or not body[2:8].isdigit():
        raise ValueError(_MSG_CODE_REGION)


def credit_code_check_char(body17: str) -> str:
    """Return the GB 32100 check character for an already normalised 17-character body."""
    total = sum(_CREDIT_CODE_VALUES[ch] * weight for ch, weight in zip(body17, _CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def _clean_code(value: str) -> str:
    return "".join(_nfkc(value).split()).upper()


def normalize_credit_code(value: str) -> str:
    """Validate a unified social credit code and return it without spaces, uppercased.

    The organisation-code check digit embedded at position 17 (GB 11714) is not
    enforced: codes issued to individual businesses do not reliably satisfy it.
    """
    code = _clean_code(value)
    if len(code) != _CREDIT_CODE_LENGTH:
        raise ValueError(_MSG_CODE_LENGTH)
    _check_credit_body(code)
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValueError(_MSG_CODE_CHECK)
    return code


def make_credit_code(body17: str) -> str:
    """Complete a 17-character credit code body with its check character."""
    body = _clean_code(body17)
    if len(body) != _CREDIT_CODE_LENGTH - 1:
        raise ValueError(_MSG_CODE_BODY_LENGTH)
    _check_credit_body(body)
    return body + credit_code_check_char(body)


def parse_mobile(value: str) -> str | None:
    """The mainland mobile number in `value` as 11 digits, or None when it is not one."""
    digits = _MOBILE_SEPARATORS_RE.sub("", _nfkc(value))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if _MOBILE_RE.fullmatch(digits) else None


def normalize_mobile(value: str) -> str:
    """Return a mainland mobile number as 11 digits, accepting +86/0086/86 and separators."""
    mobile = parse_mobile(value)
    if mobile is None:
        raise ValueError(_MSG_MOBILE)
    return mobile


def mask_mobile(mobile: str) -> str:
    """Mask the middle four digits for display, e.g. 138****8000.

    A value that is not a mainland mobile is hidden entirely ("***") instead of raising:
    masking sits on display and logging paths, where any partial reveal of an odd format
    (landline, foreign number) could expose more than intended.
    """
    digits = parse_mobile(mobile)
    if digits is None:
        return "***"
    return f"{digits[:3]}****{digits[7:]}"


def compact(text: str) -> str:
    """Lowercase text with spaces, punctuation and symbols removed; names and queries share it."""
    return "".join(ch for ch in _nfkc(text).lower() if ch.isalnum())


def is_han(ch: str) -> bool:
    """Whether `ch` is a Han character: CJK ideographs, their extensions and compatibility forms, 〇."""
    cp = ord(ch)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x3134F
        or 0xF900 <= cp <= 0xFAFF
        or cp == 0x3007  # 〇, the ideographic zero used in dates and some names
    )


def _han_runs(text: str) -> Iterator[tuple[bool, str]]:
    run: list[str] = []
    run_is_han = False
    for ch in text:
        han = is_han(ch)
        if run and han != run_is_han:
            yield run_is_han, "".join(run)
            run = []
        run_is_han = han
        run.append(ch)
    if run:
        yield run_is_han, "".join(run)


def pinyin_syllables(text: str) -> list[str]:
    """Lowercase toneless pinyin per Han character; ASCII letter/digit runs kept as tokens.

    Han runs are converted whole so pypinyin's phrase dictionary can pick the reading of
    heteronyms from context (重庆 -> chong qing). ü is spelled "v" as pinyin IMEs type it.
    Characters pypinyin has no reading for, other scripts and punctuation are dropped.
    """
    return list(_pinyin_syllables(text))


# A name is converted several times as it is indexed (terms, full pinyin, initials), and
# pypinyin's phrase matching is the slow part of writing a customer (~0.3 ms a name).
@functools.lru_cache(maxsize=4096)
def _pinyin_syllables(text: str) -> tuple[str, ...]:
    syllables: list[str] = []
    for han, run in _han_runs(_nfkc(text).lower()):
        if han:
            syllables.extend(
                s for s in lazy_pinyin(run, style=Style.NORMAL, errors="ignore") if _PINYIN_SYLLABLE_RE.fullmatch(s)
            )
        else:
            syllables.extend(_ASCII_ALNUM_RE.findall(run))
    return tuple(syllables)


def pinyin_full(text: str) -> str:
    """Concatenated toneless pinyin, e.g. 北京 -> beijing."""
    return "".join(pinyin_syllables(text))


def pinyin_initials(text: str) -> str:
    """First letter of each pinyin syllable, e.g. 北京 -> bj."""
    return "".join(s[0] for s in pinyin_syllables(text))
