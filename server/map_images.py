"""The size of an uploaded battle map: the only module that imports Pillow.

Only the image's header is read (milliseconds, whatever the file size). Pillow's own decompression-bomb
guard warns above `Image.MAX_IMAGE_PIXELS` and raises above twice that; we set it deliberately to our
limit for maps and refuse anything larger ourselves, so a map is never a surprise to a client that draws it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from server.errors import Invalid

# 50 megapixels (say 10,000 x 5,000): far beyond any battle map, far below what a phone cannot draw.
MAX_MAP_PIXELS = 50_000_000
_FORMATS = ["PNG", "JPEG", "WEBP"]


def dimensions(path: Path) -> tuple[int, int]:
    """(width, height) read from the header; Invalid if it is no readable image or too many pixels.
    Blocking: call it in a thread."""
    Image.MAX_IMAGE_PIXELS = MAX_MAP_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=_FORMATS) as image:
                width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Invalid({"image": "The image cannot be read"}) from None
    if width < 1 or height < 1:
        raise Invalid({"image": "The image cannot be read"})
    if width * height > MAX_MAP_PIXELS:
        raise _too_many_pixels()
    return width, height


def _too_many_pixels() -> Invalid:
    return Invalid({"image": f"The map has more than {MAX_MAP_PIXELS // 1_000_000} million pixels"})
