"""What an upload is, judged from its bytes alone (JPEG, PNG, WebP, HEIC or PDF — nothing else),
and an image's thumbnail. Pure functions; the servicer runs the image work in a thread."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

from PIL import Image, ImageOps

PDF = "application/pdf"
# Pillow's format name → the content type we store and serve.
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic"}
# HEIF brands of HEIC photos (iPhones and most Android cameras); AVIF's are not accepted.
_HEIC_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
# A decompression bomb guard: no phone photo or scan comes near it.
MAX_PIXELS = 100_000_000


class TooManyPixels(ValueError):
    pass


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    width: int = 0
    height: int = 0

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


@functools.cache
def _heif_registered() -> bool:
    # pillow-heif adds Pillow's HEIF opener; registered once, on first use rather than at import.
    from pillow_heif import register_heif_opener

    register_heif_opener()
    return True


def _image_format(head: bytes) -> str | None:
    """The image format the first bytes announce; only then do we hand the data to a decoder."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return "HEIF"
    return None


def sniff(content: bytes) -> Sniffed | None:
    """The content's type, or None when it is none we accept. An image must also open as the
    format its first bytes claim (its header is read, not the whole picture)."""
    if content.startswith(b"%PDF-"):
        return Sniffed(PDF)
    image_format = _image_format(content[:16])
    if image_format is None:
        return None
    if image_format == "HEIF":
        _heif_registered()
    try:
        with Image.open(io.BytesIO(content), formats=[image_format]) as image:
            width, height = image.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    if width * height > MAX_PIXELS:
        raise TooManyPixels(f"{width}×{height}")
    return Sniffed(IMAGE_TYPES[image_format], width, height)


def thumbnail(content: bytes, *, px: int) -> bytes:
    """A JPEG of at most `px` pixels on the longer side, upright (phones store the rotation in
    EXIF), on white where the image was transparent, and without the original's metadata (a
    photo's EXIF may carry where and with what it was taken)."""
    _heif_registered()
    with Image.open(io.BytesIO(content)) as opened:
        # JPEG: decode at a reduced scale straight away, far less work for a 12-megapixel photo.
        opened.draft("RGB", (px * 2, px * 2))
        image = ImageOps.exif_transpose(opened)
        image.thumbnail((px, px))
        if image.mode in ("RGBA", "LA", "P", "PA"):
            image = image.convert("RGBA")
            background = Image.new("RGB", image.size, "white")
            background.paste(image, mask=image.getchannel("A"))
            image = background
        elif image.mode != "RGB":
            image = image.convert("RGB")
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80, optimize=True)
        return out.getvalue()
