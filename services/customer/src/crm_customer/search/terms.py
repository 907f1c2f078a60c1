"""The terms a customer is indexed under, their ranks, and how a search box query is read.

Names give character bigrams and pinyin keys, the credit code itself; a query is normalised the
same way (`crmkit.cn`) and parsed into the terms to look up. Contacts' mobiles are personal data
and are indexed under keyed blind terms instead (`contacts.personal`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from crmkit.cn import (
    compact,
    is_han,
    normalize_credit_code,
    parse_mobile,
    pinyin_full,
    pinyin_initials,
    pinyin_syllables,
)

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

# Query-side shape test of a credit code (`crmkit.cn.CREDIT_CODE_CHARSET` lowercased, positions
# 3-8 numeric). The check character is deliberately not verified here, so a typo still reaches
# the exact lookup (and simply finds nothing) instead of being misread as a pinyin query.
_CREDIT_CODE_QUERY_RE = re.compile(r"[0-9a-hj-np-rtuwxy]{2}[0-9]{6}[0-9a-hj-np-rtuwxy]{10}")

_MSG_QUERY_EMPTY = "搜索内容不能为空 / search query is empty"
_MSG_QUERY_LONG = (
    f"搜索内容不能超过{MAX_QUERY_LENGTH}个字符 / search query must be at most {MAX_QUERY_LENGTH} characters"
)


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


def search_terms(name: str, short_name: str = "", credit_code: str = "") -> dict[str, int]:
    """Map each search term a customer's names and credit code give to its rank (lower first).

    The credit code is validated with normalize_credit_code, so an invalid one raises
    ValueError rather than being indexed under a form no query would ever produce.
    """
    terms: dict[str, int] = {}
    for text in (name, short_name):
        if text:
            _add_name_terms(terms, text)
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
        mobile = parse_mobile(text)
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
    if all(is_han(ch) for ch in text):
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
