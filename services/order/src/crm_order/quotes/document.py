"""The quote as a Chinese PDF (报价单): letterhead, customer, lines, totals in figures and in
capitals (大写), validity and the salesperson to contact.

The typeface is Noto Sans CJK from a PyPI wheel the service depends on, never a font that
happens to be on the machine, so every deployment prints the same glyphs (and no tofu boxes);
fpdf2 embeds only the glyphs a quote uses, so a PDF stays a few tens of kilobytes.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import cn2an
from fpdf import FPDF
from fpdf.fonts import FontFace

from crm_order.quotes.pricing import PricedLine, quote_totals

CHINA = ZoneInfo("Asia/Shanghai")
FONT_FAMILY = "noto-sans-cjk"
_FONT_PACKAGE = "cvttf_NotoSansCJK_Regular"
_FONT_FILE = "NotoSansCJKtc-Regular.otf"
# 序号 商品 规格 单位 数量 标价 报价 折扣率 金额, in millimetres of an A4 page's 190 mm.
_COLUMN_WIDTHS = (10, 42, 26, 12, 18, 20, 20, 16, 26)
_HEADINGS = ("序号", "商品", "规格", "单位", "数量", "标价(元)", "报价(元)", "折扣率", "金额(元)")


@dataclass(frozen=True)
class Letterhead:
    company_name: str
    address: str = ""
    phone: str = ""


@dataclass(frozen=True)
class QuoteLineView:
    product_name: str
    specification: str
    unit: str
    quantity: Decimal
    list_price: Decimal
    quoted_price: Decimal


@dataclass(frozen=True)
class QuoteView:
    letterhead: Letterhead
    number: str
    issued_at: datetime
    valid_until: date
    customer_name: str
    lines: Sequence[QuoteLineView]
    customer_contact: str = ""
    notes: str = ""
    salesperson: str = ""
    salesperson_phone: str = ""


@cache
def font_path() -> Path:
    return Path(str(importlib.resources.files(_FONT_PACKAGE) / _FONT_FILE))


def yuan(amount: Decimal) -> str:
    """12345.6 → "12,345.60"."""
    return f"{amount:,.2f}"


def quantity_text(quantity: Decimal) -> str:
    """Quantities keep their unit's precision and lose only trailing zeros: 2.500 → 2.5, 10 → 10."""
    text = f"{quantity:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def rate_text(rate: Decimal | None) -> str:
    return "—" if rate is None else f"{rate}%"


def in_capitals(amount: Decimal) -> str:
    """The amount as written on Chinese commercial paper: 12345.67 → 壹万贰仟叁佰肆拾伍元陆角柒分."""
    return str(cn2an.an2cn(f"{amount:.2f}", "rmb"))


def render_quote_pdf(quote: QuoteView) -> bytes:
    priced = [PricedLine(line.quantity, line.list_price, line.quoted_price) for line in quote.lines]
    totals = quote_totals(priced)

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font(FONT_FAMILY, fname=str(font_path()))
    pdf.set_title(f"报价单 {quote.number}")
    pdf.add_page()
    width = pdf.epw

    pdf.set_font(FONT_FAMILY, size=16)
    pdf.cell(width, 9, quote.letterhead.company_name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, size=9)
    contact_line = "  ".join(part for part in (quote.letterhead.address, quote.letterhead.phone) if part)
    if contact_line:
        pdf.cell(width, 5, contact_line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FONT_FAMILY, size=14)
    pdf.cell(width, 8, "报 价 单", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    pdf.set_font(FONT_FAMILY, size=10)
    issued = quote.issued_at.astimezone(CHINA).strftime("%Y-%m-%d")
    half = width / 2
    pdf.cell(half, 6, f"客户：{quote.customer_name}")
    pdf.cell(half, 6, f"报价单号：{quote.number}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(half, 6, f"联系人：{quote.customer_contact}" if quote.customer_contact else "")
    pdf.cell(half, 6, f"报价日期：{issued}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    pdf.set_font(FONT_FAMILY, size=9)
    heading = FontFace(emphasis=None, fill_color=(235, 235, 235))
    with pdf.table(
        col_widths=_COLUMN_WIDTHS,
        text_align=("CENTER", "LEFT", "LEFT", "CENTER", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=heading,
        line_height=6,
    ) as table:
        table.row(_HEADINGS)
        for index, (line, sums) in enumerate(zip(quote.lines, priced, strict=True), start=1):
            table.row(
                (
                    str(index),
                    line.product_name,
                    line.specification,
                    line.unit,
                    quantity_text(line.quantity),
                    yuan(line.list_price),
                    yuan(line.quoted_price),
                    rate_text(sums.discount_rate),
                    yuan(sums.amount),
                )
            )

    pdf.ln(3)
    pdf.set_font(FONT_FAMILY, size=10)
    pdf.cell(
        width,
        6,
        f"标价合计：¥{yuan(totals.list_total)}    整单折扣率：{rate_text(totals.discount_rate)}",
        align="R",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font(FONT_FAMILY, size=11)
    pdf.cell(width, 7, f"报价合计：¥{yuan(totals.total)}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(width, 7, f"金额大写：人民币{in_capitals(totals.total)}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, size=10)
    pdf.cell(width, 6, f"报价有效期至：{quote.valid_until:%Y-%m-%d}", new_x="LMARGIN", new_y="NEXT")
    if quote.notes:
        pdf.multi_cell(width, 6, f"备注：{quote.notes}", new_x="LMARGIN", new_y="NEXT")
    if quote.salesperson:
        salesperson = f"{quote.salesperson}  {quote.salesperson_phone}".strip()
        pdf.cell(width, 6, f"业务联系人：{salesperson}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
