"""The import file's columns: the customer's own, then one section per kind of thing a customer
has several of (contacts now; licences and closures plug in the same way).

One row per contact: a customer's rows are consecutive, the first carries the customer's
columns and its first contact, each further row another contact. A further row repeats the
customer's name or credit code, or leaves both empty ("the customer above"); its other customer
columns must be empty or the same as the first row's. A section reads its own columns of every
row of the customer into items (`Section.read`); a row that leaves a section's columns empty
adds nothing to it. Headers are matched after trimming, full-width to half-width and without a
trailing "*"; each column also answers to a few common names (手机号, 省份, ...).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.contacts.models import ROLES


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    note: str
    example: str = ""
    aliases: tuple[str, ...] = ()
    required: bool = False


# Words in the file and the values they stand for (Chinese as the console shows them, and the
# stored words themselves).
TIER_WORDS = {"VIP": "vip", "重点": "key", "一般": "normal"}
STAGE_WORDS = {"线索": "lead", "意向": "prospect", "潜在客户": "prospect", "已签约": "signed", "签约": "signed",
               "沉睡": "dormant", "流失": "lost"}  # fmt: skip
SOURCE_WORDS = {"展会": "trade_show", "网络推广": "online", "客户推荐": "referral", "电话": "phone", "其他": "other"}
ROLE_WORDS = {"决策人": "decision_maker", "采购": "purchaser", "使用人": "user", "付款人": "payer"}
YES_WORDS = {"是": True, "否": False, "Y": True, "N": False, "TRUE": True, "FALSE": False, "1": True, "0": False}
LIST_SEPARATORS = re.compile(r"[,，、;；|\n]+")


def choices(words: dict[str, str]) -> str:
    return "、".join(words)


CUSTOMER_COLUMNS: tuple[Column, ...] = (
    Column("name", "客户名称", "必填，至多200字", "杭州市西湖区实验小学食堂", ("名称", "客户全称"), required=True),
    Column("short_name", "简称", "至多50字", "西湖实小食堂", ("客户简称",)),
    Column("type", "客户类型", "本企业的客户类型之一", "学校食堂", ("类型",)),
    Column("credit_code", "统一社会信用代码", "18位；同一代码只对应一个客户", "", ("信用代码", "社会信用代码")),
    Column("province", "省", "地址：省", "浙江", ("省份",)),
    Column("city", "市", "地址：市", "杭州", ("城市",)),
    Column("district", "区", "地址：区县", "西湖区", ("区县",)),
    Column("detail", "详细地址", "地址：街道门牌，至多200字", "文三路100号", ("地址",)),
    Column("tier", "客户等级", f"{choices(TIER_WORDS)}；空为一般", "重点", ("等级",)),
    Column("lifecycle_stage", "生命周期", f"{choices(STAGE_WORDS)}；空为线索", "意向", ("阶段", "客户阶段")),
    Column("product_lines", "产品线", "本企业的产品线，多个用顿号或逗号分隔", "", ()),
    Column("source", "客户来源", choices(SOURCE_WORDS), "展会", ("来源",)),
    Column("tags", "标签", "多个用顿号或逗号分隔，每个至多20字", "午餐、长期合作", ()),
    Column("owner", "负责人", "用户名或姓名；空则按分配规则（销售导入时为本人）", "", ("负责人用户名",)),
    Column("contract_start", "合同开始日期", "YYYY-MM-DD", "", ("合同开始",)),
    Column("contract_end", "合同结束日期", "YYYY-MM-DD，不早于开始日期", "", ("合同结束",)),
)


@dataclass
class Item:
    """What one row gave a section, with the row it came from."""

    row: int
    value: Any


class Section:
    """A kind of thing a customer has several of, read from its own columns of each row."""

    key = ""
    columns: tuple[Column, ...] = ()

    def read(self, cells: dict[str, str], row: int, problems: list[tuple[str, str, str]]) -> Any | None:
        """The item this row gives (None when the row leaves the section's columns empty);
        values that cannot even be read become problems (column key, code, reason)."""
        raise NotImplementedError


class ContactSection(Section):
    key = "contacts"
    columns = (
        Column("contact_name", "联系人姓名", "有联系人时必填，至多50字", "王建国", ("联系人",)),
        Column("contact_mobile", "联系人手机", "11位手机号；同一手机号只属于一个客户", "13800138000",
               ("手机", "手机号", "联系人手机号", "联系电话")),
        Column("contact_title", "联系人职务", "至多50字", "后勤主任", ("职务",)),
        Column("contact_wechat", "联系人微信", "微信号", "", ("微信", "微信号")),
        Column("contact_email", "联系人邮箱", "", "", ("邮箱",)),
        Column("contact_role", "决策角色", choices(ROLE_WORDS), "决策人", ("角色",)),
        Column("contact_primary", "主要联系人", "是 或 否", "是", ("主联系人",)),
    )  # fmt: skip

    def read(self, cells: dict[str, str], row: int, problems: list[tuple[str, str, str]]) -> pb.Contact | None:
        if not any(cells.get(c.key) for c in self.columns):
            return None
        contact = pb.Contact(
            name=cells.get("contact_name", ""),
            mobile=cells.get("contact_mobile", ""),
            title=cells.get("contact_title", ""),
            wechat_id=cells.get("contact_wechat", ""),
            email=cells.get("contact_email", ""),
        )
        role = cells.get("contact_role", "")
        if role:
            word = word_of(role, ROLE_WORDS, ROLES.words)
            if word is None:
                problems.append(("contact_role", "unknown_value", f"须为{choices(ROLE_WORDS)}之一 / unknown role"))
            else:
                contact.decision_role = ROLES.to_proto(word)  # type: ignore[assignment]
        primary = cells.get("contact_primary", "")
        if primary:
            flag = YES_WORDS.get(primary.upper())
            if flag is None:
                problems.append(("contact_primary", "unknown_value", "须为“是”或“否” / must be yes or no"))
            else:
                contact.primary = flag
        return contact


# The sections in column order. Licences (资质证照) and closures (停工/放假) come next, each a
# Section with its own columns, read the same way and written after the customer.
SECTIONS: tuple[Section, ...] = (ContactSection(),)


def word_of(value: str, words: dict[str, str], stored: Sequence[str]) -> str | None:
    """The stored word a cell means: a Chinese word, or the stored word itself (any case)."""
    if value in words:
        return words[value]
    upper = {k.upper(): v for k, v in words.items()}
    if value.upper() in upper:
        return upper[value.upper()]
    lowered = value.lower()
    return lowered if lowered in stored else None


def split_list(value: str) -> list[str]:
    return [part.strip() for part in LIST_SEPARATORS.split(value) if part.strip()]


def normalise_header(value: str) -> str:
    cleaned = unicodedata.normalize("NFKC", value).strip()
    for suffix in ("*", "（必填）", "(必填)"):
        cleaned = cleaned.removesuffix(suffix).strip()
    return cleaned.lower()


@dataclass
class Layout:
    """Which column of the file holds what: our columns by key, custom fields by key, and the
    headers nobody reads."""

    headers: list[str]
    by_key: dict[str, int] = field(default_factory=dict)
    custom: dict[str, int] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)

    def header_of(self, key: str) -> str:
        """The file's header of a column key ("" when the file has no such column)."""
        index = self.by_key.get(key)
        if index is None:
            index = self.custom.get(key.removeprefix("custom:"))
        return self.headers[index] if index is not None else ""

    def cells(self, values: Sequence[str]) -> dict[str, str]:
        found = {key: values[i] for key, i in self.by_key.items() if i < len(values) and values[i]}
        for key, i in self.custom.items():
            if i < len(values) and values[i]:
                found[f"custom:{key}"] = values[i]
        return found


def all_columns() -> tuple[Column, ...]:
    return CUSTOMER_COLUMNS + tuple(c for s in SECTIONS for c in s.columns)


def layout_of(headers: Sequence[str], custom_fields: dict[str, str], free_form: bool) -> Layout:
    """The layout of a header row. `custom_fields`: the tenant's custom fields, label → key;
    `free_form`: the tenant has defined none, so other columns become custom fields by header."""
    names: dict[str, str] = {}
    for column in all_columns():
        for name in (column.header, column.key, *column.aliases):
            names.setdefault(normalise_header(name), column.key)
    custom = {normalise_header(label): key for label, key in custom_fields.items()}
    custom.update({normalise_header(key): key for key in custom_fields.values()})
    layout = Layout(headers=list(headers))
    for index, header in enumerate(headers):
        wanted = normalise_header(header)
        if not wanted:
            continue
        key = names.get(wanted)
        if key is not None:
            if key in layout.by_key:
                layout.repeated.append(header)
            else:
                layout.by_key[key] = index
        elif wanted in custom:
            layout.custom.setdefault(custom[wanted], index)
        elif free_form:
            layout.custom.setdefault(header.strip()[:40], index)
        else:
            layout.ignored.append(header)
    return layout
