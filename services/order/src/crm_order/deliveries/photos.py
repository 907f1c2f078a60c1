"""What a delivery photo is, judged from its bytes alone: a JPEG, PNG or WebP image that really
opens as one (its header is read, not the whole picture). A pure function."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

# Pillow's format name → the content type we store and serve.
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# A decompression-bomb guard: no phone photo comes near it.
MAX_PIXELS = 100_000_000


class TooManyPixels(ValueError):
    pass


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    width: int
    height: int


def _image_format(head: bytes) -> str | None:
    """The format the first bytes announce; only then is the data handed to a decoder."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def sniff_photo(content: bytes) -> Sniffed | None:
    """The photo's type and size, or None when it is not an image we accept."""
    image_format = _image_format(content[:16])
    if image_format is None:
        return None
    try:
        with Image.open(io.BytesIO(content), formats=[image_format]) as image:
            width, height = image.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    if width * height > MAX_PIXELS:
        raise TooManyPixels(f"{width}×{height}")
    return Sniffed(IMAGE_TYPES[image_format], width, height)
