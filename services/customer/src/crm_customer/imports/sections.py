"""The import file's columns: the customer's own, then one section per kind of thing a customer
has several of: contacts, licences (资质证照) and closures (停工/放假).

A customer's rows are consecutive: the first carries the customer's columns and its first
contact, licence and closure, each further row another of each (a row may fill any of them). A further row repeats the
customer's name or credit code, or leaves both empty ("the customer above"); its other customer
columns must be empty or the same as the first row's. A section reads its own columns of every
row of the customer into items (`Section.read`); a row that leaves a section's columns empty
adds nothing to it. Headers are matched after trimming, full-width to half-width and without a
trailing "*"; each column also answers to a few common names (手机号, 省份, ...).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from crm.customer.v1 import calendar_pb2 as cpb
from crm.customer.v1 import customer_pb2 as pb
from crm_customer.closures.models import REASON_LABELS, REASONS, ClosureRange
from crm_customer.closures.validation import closure_range
from crm_customer.contacts.models import ROLES
from crm_customer.licences.models import LicenceInput
from crm_customer.licences.validation import licence_input
from crmkit.errors import InvalidArgument


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
CLOSURE_REASON_WORDS = {label: word for word, label in REASON_LABELS.items()}
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
# What a licence or closure field blanked for the next round of validation holds instead.
_PLACEHOLDER_DATE = "2000-01-01"


def choices(words: dict[str, str]) -> str:
    return "、".join(words)


def iso_date_text(value: str) -> str:
    """2026/1/5, 2026.1.5 and 2026年1月5日 as 2026-01-05; anything else as it is (then refused)."""
    match = _DATE.match(value)
    if not match:
        return value
    year, month, day = (int(part) for part in match.groups())
    return f"{year:04d}-{month:02d}-{day:02d}"


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
    # History carried over from the sheets a tenant leaves behind (new customers only).
    Column(
        "owner_since",
        "负责起始日期",
        "YYYY-MM-DD，不晚于今天；仅新建客户：回访与公海回收自该日计时",
        "",
        ("负责日期", "分配日期"),
    ),
    Column(
        "last_follow_up",
        "最近跟进日期",
        "YYYY-MM-DD，不早于负责起始日期、不晚于今天；仅新建客户",
        "",
        ("最后跟进日期", "上次跟进日期"),
    ),
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


def _is_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _every_problem(
    build: Callable[[], Any],
    columns: Mapping[str, str],
    blank: Callable[[str], bool],
    problems: list[tuple[str, str, str]],
) -> Any | None:
    """`build()` again and again, each field it refuses reported (on its column) and blanked, so
    every bad field of the row is reported once, with the message the service itself gives."""
    seen: set[str] = set()
    while True:
        try:
            return build()
        except InvalidArgument as exc:
            path = exc.field or ""
            column = columns.get(path.rsplit(".", 1)[-1], next(iter(columns.values())))
            if path in seen:
                return None
            seen.add(path)
            problems.append((column, "required" if "required" in exc.reason else "invalid", exc.reason))
            if not blank(path.rsplit(".", 1)[-1]):
                return None


class LicenceSection(Section):
    """A licence per row: its kind (one of the tenant's, checked against the database later),
    number and last valid day, validated as the licence service validates a new licence."""

    key = "licences"
    columns = (
        Column("licence_kind", "证照类型", "本企业的证照类型之一；有证照时必填", "食品经营许可证", ("资质类型",)),
        Column("licence_number", "证照编号", "有证照时必填，至多64字", "JY13301060012345", ("证照号码", "许可证号")),
        Column("licence_valid_until", "证照有效期至", "YYYY-MM-DD；空为长期有效", "2028-06-30",
               ("有效期至", "证照到期日")),
    )  # fmt: skip
    fields: ClassVar[Mapping[str, str]] = {
        "kind": "licence_kind",
        "number": "licence_number",
        "valid_until": "licence_valid_until",
    }

    def read(self, cells: dict[str, str], row: int, problems: list[tuple[str, str, str]]) -> LicenceInput | None:
        if not any(cells.get(c.key) for c in self.columns):
            return None
        message = cpb.Licence(
            kind=cells.get("licence_kind", ""),
            number=cells.get("licence_number", ""),
            valid_until=iso_date_text(cells.get("licence_valid_until", "")),
        )

        def blank(name: str) -> bool:
            if name not in self.fields:
                return False
            setattr(message, name, "-" if name in ("kind", "number") else "")
            return True

        found: LicenceInput | None = _every_problem(lambda: licence_input(message), self.fields, blank, problems)
        return found


class ClosureSection(Section):
    """A closure per row: its first and last day and reason (and a note, required for 其他),
    validated as the closures service validates a new closure."""

    key = "closures"
    columns = (
        Column("closure_start", "停工开始日期", "YYYY-MM-DD；有停工时必填", "2027-01-20", ("放假开始日期", "停工开始")),
        Column("closure_end", "停工结束日期", "YYYY-MM-DD，不早于开始日期，最长366天", "2027-02-18",
               ("放假结束日期", "停工结束")),
        Column("closure_reason", "停工原因", f"{choices(CLOSURE_REASON_WORDS)}；有停工时必填", "寒假", ("放假原因",)),
        Column("closure_note", "停工说明", "原因为其他时必填，至多200字", "", ("停工备注",)),
    )  # fmt: skip
    fields: ClassVar[Mapping[str, str]] = {
        "start_date": "closure_start",
        "end_date": "closure_end",
        "reason": "closure_reason",
        "note": "closure_note",
    }

    def read(self, cells: dict[str, str], row: int, problems: list[tuple[str, str, str]]) -> ClosureRange | None:
        if not any(cells.get(c.key) for c in self.columns):
            return None
        values = {
            "start_date": iso_date_text(cells.get("closure_start", "")),
            "end_date": iso_date_text(cells.get("closure_end", "")),
            "note": cells.get("closure_note", ""),
        }
        reason = cells.get("closure_reason", "")
        word = word_of(reason, CLOSURE_REASON_WORDS, REASONS.words) if reason else None
        valid = True
        if not reason:
            problems.append(("closure_reason", "required", "is required / 必填"))
            valid = False
        elif word is None:
            problems.append(
                ("closure_reason", "unknown_value", f"须为{choices(CLOSURE_REASON_WORDS)}之一 / unknown reason")
            )
            valid = False

        def build() -> ClosureRange:
            return closure_range(
                start_date=values["start_date"],
                end_date=values["end_date"],
                reason=REASONS.to_proto(word or "winter_break"),
                note=values["note"],
                prefix="closure.",
            )

        def blank(name: str) -> bool:
            if name == "start_date":
                values["start_date"] = values["end_date"] if _is_date(values["end_date"]) else _PLACEHOLDER_DATE
            elif name == "end_date":
                values["end_date"] = values["start_date"]
            elif name == "note":
                values["note"] = "-"
            else:
                return False
            return True

        found: ClosureRange | None = _every_problem(build, self.fields, blank, problems)
        return found if valid else None


# The sections in column order; each reads its own columns of every row of a customer.
SECTIONS: tuple[Section, ...] = (ContactSection(), LicenceSection(), ClosureSection())


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
