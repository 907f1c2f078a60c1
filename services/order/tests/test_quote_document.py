"""The quote PDF really shows its Chinese: rendered to PNG, each character is its own glyph."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest
from PIL import Image, ImageChops

from crm_order.quotes.document import (
    Letterhead,
    QuoteLineView,
    QuoteView,
    in_capitals,
    quantity_text,
    render_quote_pdf,
)

QUOTE = QuoteView(
    letterhead=Letterhead("杭州鲜达食品配送有限公司", "杭州市西湖区文三路398号", "0571-88886666"),
    number="BJ-20261203-0001",
    # 2026-12-02 23:30 UTC is already 12-03 in Shanghai, the date the customer reads.
    issued_at=datetime(2026, 12, 2, 23, 30, tzinfo=UTC),
    valid_until=date(2026, 12, 31),
    customer_name="杭州市实验小学食堂",
    customer_contact="王老师",
    lines=[
        QuoteLineView("东北大米", "25公斤/袋", "袋", Decimal("40"), Decimal("135.00"), Decimal("128.00")),
        QuoteLineView("清真牛腩", "冷冻1公斤/包", "公斤", Decimal("12.5"), Decimal("68.00"), Decimal("58.50")),
        QuoteLineView("金龙鱼大豆油", "5升/桶", "桶", Decimal("20"), Decimal("79.90"), Decimal("75.00")),
    ],
    notes="每周一、三、五早七点前送达",
    salesperson="张伟",
    salesperson_phone="13957168888",
)


@pytest.fixture(scope="module")
def page_text_and_png(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, pypdfium2.PdfPage]:
    pdf = pypdfium2.PdfDocument(render_quote_pdf(QUOTE))
    page = pdf[0]
    png = tmp_path_factory.mktemp("quote") / "quote.png"
    page.render(scale=3).to_pil().save(png)
    return page.get_textpage().get_text_range(), png, page


def test_the_pdf_carries_the_quote_in_chinese(page_text_and_png: tuple[str, Path, pypdfium2.PdfPage]) -> None:
    text = page_text_and_png[0]
    for expected in (
        "杭州鲜达食品配送有限公司",
        "杭州市实验小学食堂",
        "报价日期：2026-12-03",
        "报价有效期至：2026-12-31",
        "¥7,351.25",  # 5,120.00 + 731.25 + 1,500.00
        "人民币柒仟叁佰伍拾壹元贰角伍分",
        "86.03%",  # 58.50 / 68.00
        "93.67%",  # 7,351.25 / 7,848.00
    ):
        assert expected in text


def test_each_chinese_character_renders_as_its_own_glyph_not_a_tofu_box(
    page_text_and_png: tuple[str, Path, pypdfium2.PdfPage],
) -> None:
    text, png, page = page_text_and_png
    image = Image.open(io.BytesIO(png.read_bytes())).convert("L")
    scale = 3
    height_points = page.get_height()
    textpage = page.get_textpage()
    glyphs: dict[str, Image.Image] = {}
    for character in "鲜达食品配送清真牛腩":
        index = text.index(character)
        left, bottom, right, top = textpage.get_charbox(index)
        box = (
            int(left * scale),
            int((height_points - top) * scale),
            int(right * scale),
            int((height_points - bottom) * scale),
        )
        crop = image.crop(box).resize((24, 24))
        inked = sum(crop.histogram()[:128])
        assert inked > 10, f"{character} rendered blank"
        glyphs[character] = crop
    # A font without these glyphs draws the same empty box for every one of them.
    for (a, first), (b, second) in itertools.combinations(glyphs.items(), 2):
        difference = ImageChops.difference(first, second)
        assert sum(difference.histogram()[97:]) > 20, f"{a} and {b} look the same"


def test_the_typeface_is_embedded_from_the_packaged_noto_font() -> None:
    pdf = render_quote_pdf(QUOTE)
    assert b"NotoSansCJK" in pdf
    assert len(pdf) < 200_000  # a subset of the glyphs used, not the 16 MB font


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("0.00", "零元整"),
        ("105.00", "壹佰零伍元整"),
        ("1000.05", "壹仟元零伍分"),
        ("10010.00", "壹万零壹拾元整"),
        ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
    ],
)
def test_amounts_are_written_in_chinese_capitals(amount: str, capitals: str) -> None:
    assert in_capitals(Decimal(amount)) == capitals


def test_quantities_keep_their_precision_without_trailing_zeros() -> None:
    assert [quantity_text(Decimal(q)) for q in ("2.500", "10", "10.00", "0.125")] == ["2.5", "10", "10", "0.125"]
