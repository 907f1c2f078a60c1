"""China-specific validation (credit codes, mobiles) and the search keys customers are indexed under."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from pypinyin import Style, lazy_pinyin

__all__ = [
    "CREDIT_CODE_CHARSET",
    "MAX_QUERY_LENGTH",
    "MAX_TERM_LENGTH",
    "PINYIN_PREFIX_MAX",
    "RANK_EXACT",
    "RANK_MOBILE_TAIL",
    "RANK_NAME_INSIDE",
    "RANK_NAME_START",
    "RANK_PINYIN_INSIDE",
    "RANK_PINYIN_PREFIX",
    "QueryKind",
    "SearchQuery",
    "compact",
    "credit_code_check_char",
    "make_credit_code",
    "mask_mobile",
    "normalize_credit_code",
    "normalize_mobile",
    "parse_search_query",
    "pinyin_full",
    "pinyin_initials",
    "pinyin_syllables",
    "search_terms",
    "verify_candidate",
]

# GB 32100-2015 drops I, O, Z, S and V so codes survive being read aloud or handwritten.
CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_VALUES = {ch: i for i, ch in enumerate(CREDIT_CODE_CHARSET)}
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_CODE_LENGTH = 18
# Query-side shape test: the same charset lowercased, positions 3-8 numeric. The check
# character is deliberately not verified here, so a typo still reaches the exact lookup
# (and simply finds nothing) instead of being misread as a pinyin query.
_CREDIT_CODE_QUERY_RE = re.compile(r"[0-9a-hj-np-rtuwxy]{2}[0-9]{6}[0-9a-hj-np-rtuwxy]{10}")

_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_SEPARATORS_RE = re.compile(r"[\s\-()]")

MAX_TERM_LENGTH = 32
MAX_QUERY_LENGTH = 64
# Raw input is bounded too so a pasted essay is rejected before normalising it.
_MAX_RAW_QUERY_LENGTH = 4 * MAX_QUERY_LENGTH
# Queries longer than this are looked up by their first PINYIN_PREFIX_MAX letters and
# verified afterwards, so pinyin terms longer than this could never be hit exactly.
PINYIN_PREFIX_MAX = 12

# Ranks: lower is a better match; search results order by the best rank hit.
RANK_EXACT = 0
RANK_NAME_START = 1
RANK_NAME_INSIDE = 2
RANK_PINYIN_PREFIX = 3
RANK_PINYIN_INSIDE = 4
RANK_MOBILE_TAIL = 5


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
_MSG_QUERY_EMPTY = "搜索内容不能为空 / search query is empty"
_MSG_QUERY_LONG = (
    f"搜索内容不能超过{MAX_QUERY_LENGTH}个字符 / search query must be at most {MAX_QUERY_LENGTH} characters"
)


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


def _parse_mobile(value: str) -> str | None:
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
    mobile = _parse_mobile(value)
    if mobile is None:
        raise ValueError(_MSG_MOBILE)
    return mobile


def mask_mobile(mobile: str) -> str:
    """Mask the middle four digits for display, e.g. 138****8000.

    A value that is not a mainland mobile is hidden entirely ("***") instead of raising:
    masking sits on display and logging paths, where any partial reveal of an odd format
    (landline, foreign number) could expose more than intended.
    """
    digits = _parse_mobile(mobile)
    if digits is None:
        return "***"
    return f"{digits[:3]}****{digits[7:]}"


def compact(text: str) -> str:
    """Lowercase text with spaces, punctuation and symbols removed; names and queries share it."""
    return "".join(ch for ch in _nfkc(text).lower() if ch.isalnum())


def _is_han(ch: str) -> bool:
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
        is_han = _is_han(ch)
        if run and is_han != run_is_han:
            yield run_is_han, "".join(run)
            run = []
        run_is_han = is_han
        run.append(ch)
    if run:
        yield run_is_han, "".join(run)


def pinyin_syllables(text: str) -> list[str]:
    """Lowercase toneless pinyin per Han character; ASCII letter/digit runs kept as tokens.

    Han runs are converted whole so pypinyin's phrase dictionary can pick the reading of
    heteronyms from context (重庆 -> chong qing). ü is spelled "v" as pinyin IMEs type it.
    Characters pypinyin has no reading for, other scripts and punctuation are dropped.
    """
    syllables: list[str] = []
    for is_han, run in _han_runs(_nfkc(text).lower()):
        if is_han:
            syllables.extend(
                s for s in lazy_pinyin(run, style=Style.NORMAL, errors="ignore") if _PINYIN_SYLLABLE_RE.fullmatch(s)
            )
        else:
            syllables.extend(_ASCII_ALNUM_RE.findall(run))
    return syllables


def pinyin_full(text: str) -> str:
    """Concatenated toneless pinyin, e.g. 北京 -> beijing."""
    return "".join(pinyin_syllables(text))


def pinyin_initials(text: str) -> str:
    """First letter of each pinyin syllable, e.g. 北京 -> bj."""
    return "".join(s[0] for s in pinyin_syllables(text))


def _bigrams(text: str) -> list[str]:
    return [text[i : i + 2] for i in range(len(text) - 1)]


def _add(terms: dict[str, int], term: str, rank: int) -> None:
    term = term[:MAX_TERM_LENGTH]
    if term and rank < terms.get(term, rank + 1):
        terms[term] = rank


def _add_name_terms(terms: dict[str, int], name: str) -> None:
    text = compact(name)
    for i, gram in enumerate(_bigrams(text)):
        _add(terms, gram, RANK_NAME_START if i == 0 else RANK_NAME_INSIDE)

    syllables = pinyin_syllables(name)
    for key in ("".join(s[0] for s in syllables), "".join(syllables)):
        for length in range(2, min(len(key), PINYIN_PREFIX_MAX) + 1):
            _add(terms, key[:length], RANK_PINYIN_PREFIX)
    for first, second in itertools.pairwise(syllables):
        pair = first + second
        if len(pair) <= PINYIN_PREFIX_MAX:
            _add(terms, pair, RANK_PINYIN_INSIDE)
    for syllable in syllables[1:]:
        if 2 <= len(syllable) <= PINYIN_PREFIX_MAX:
            _add(terms, syllable, RANK_PINYIN_INSIDE)


def search_terms(
    name: str,
    short_name: str = "",
    mobiles: Iterable[str] = (),
    credit_code: str = "",
) -> dict[str, int]:
    """Map each search term a customer is indexed under to its rank (lower ranks first).

    Mobiles and the credit code are validated with normalize_mobile and
    normalize_credit_code, so invalid values raise ValueError rather than being indexed
    under a form no query would ever produce.
    """
    terms: dict[str, int] = {}
    for text in (name, short_name):
        if text:
            _add_name_terms(terms, text)
    for raw in mobiles:
        mobile = normalize_mobile(raw)
        _add(terms, mobile, RANK_EXACT)
        _add(terms, mobile[-4:], RANK_MOBILE_TAIL)
    if credit_code:
        _add(terms, normalize_credit_code(credit_code).lower(), RANK_EXACT)
    return terms


QueryKind = Literal["mobile", "mobile_tail", "credit_code", "pinyin", "name", "prefix", "mixed"]


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """How to look a normalised query up in the search-term table.

    A customer matches when it has every term in ``terms``; with ``prefix`` set instead,
    when it has any term starting with it. When ``needs_verify`` is true the terms are
    only a necessary condition and candidates must pass verify_candidate.
    """

    text: str
    terms: tuple[str, ...]
    needs_verify: bool = False
    prefix: str | None = None
    kind: QueryKind = "mixed"


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def parse_search_query(q: str) -> SearchQuery:
    """Normalise a user's search box input and decide which index terms to look up."""
    raw = q.strip()
    if len(raw) > _MAX_RAW_QUERY_LENGTH:
        raise ValueError(_MSG_QUERY_LONG)
    text = compact(raw)
    if not text:
        raise ValueError(_MSG_QUERY_EMPTY)
    if len(text) > MAX_QUERY_LENGTH:
        raise ValueError(_MSG_QUERY_LONG)

    is_ascii = text.isascii()
    if is_ascii and text.isdigit():
        mobile = _parse_mobile(text)
        if mobile is not None:
            return SearchQuery(text=mobile, terms=(mobile,), kind="mobile")
        if len(text) == 4:
            return SearchQuery(text=text, terms=(text,), kind="mobile_tail")
    if len(text) == 1:
        # One character is too little to index; any term starting with it is a hit,
        # which for a Han character means names containing a bigram that starts with it.
        return SearchQuery(text=text, terms=(), prefix=text, kind="prefix")
    if is_ascii and _CREDIT_CODE_QUERY_RE.fullmatch(text):
        return SearchQuery(text=text, terms=(text,), kind="credit_code")
    if is_ascii and not text.isdigit():
        if len(text) <= PINYIN_PREFIX_MAX:
            return SearchQuery(text=text, terms=(text,), kind="pinyin")
        return SearchQuery(
            text=text,
            terms=(text[:PINYIN_PREFIX_MAX],),
            needs_verify=True,
            kind="pinyin",
        )
    if all(_is_han(ch) for ch in text):
        return SearchQuery(
            text=text,
            terms=_unique(_bigrams(text)),
            needs_verify=len(text) > 2,
            kind="name",
        )
    return SearchQuery(text=text, terms=_unique(_bigrams(text)), needs_verify=True, kind="mixed")


def verify_candidate(query: SearchQuery, name: str, short_name: str = "") -> bool:
    """Confirm a customer found through the index really matches a needs_verify query.

    Queries that do not need verification are exact index hits and always pass.
    """
    if not query.needs_verify:
        return True
    names = [n for n in (name, short_name) if n]
    if query.kind == "pinyin":
        return any(key.startswith(query.text) for n in names for key in (pinyin_full(n), pinyin_initials(n)))
    return any(query.text in compact(n) for n in names)
