"""What an uploaded document is: its bytes checked against the media type it was declared
with, before anything is stored (docs/http-api.md#documents).

A file is accepted only when its content is a document of the declared type: a PDF that
starts with ``%PDF-`` and that pypdf can read (its page count is the answer); a PNG or
JPEG that Pillow recognises as that format and can check: every PNG chunk's CRC up to
``IEND``, a JPEG's whole entropy-coded data decoded at one eighth of its size. An image
larger than ``MAX_PIXELS`` is refused before it is decoded (decompression bombs), and so
is one that Pillow itself flags as a bomb. Pure functions of the bytes: the caller runs
them off the event loop.
"""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

MEDIA_TYPES = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG"}
MAX_PIXELS = 40_000_000  # an A3 page scanned at 400 dpi is 31 million
MAX_SIDE = 16_384  # what browsers draw on a canvas or as an image


class Refused(Exception):
    """The bytes are not a readable document of the declared type; ``code`` is the wire
    code: ``doc.bad_type`` (a type not accepted), ``doc.type_mismatch`` (the content is
    not of the declared type), ``doc.unreadable`` (it is, but broken) or
    ``doc.image_too_large``."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code, self.params = code, params


def inspect(data: bytes, media_type: str) -> int:
    """The page count of ``data`` as a ``media_type`` document (1 for an image); raises
    Refused when the content is not such a document."""
    if media_type not in MEDIA_TYPES:
        raise Refused("doc.bad_type", media_type=media_type)
    if media_type == "application/pdf":
        return pdf_pages(data)
    check_image(data, MEDIA_TYPES[media_type], media_type)
    return 1


def pdf_pages(data: bytes) -> int:
    if not data.startswith(b"%PDF-"):
        raise Refused("doc.type_mismatch", media_type="application/pdf")
    from pypdf import PdfReader

    try:
        pages = len(PdfReader(io.BytesIO(data)).pages)
    except Exception as err:  # hostile bytes: any failure of the parser means unreadable
        raise Refused("doc.unreadable", media_type="application/pdf") from err
    if pages < 1:
        raise Refused("doc.unreadable", media_type="application/pdf")
    return pages


def check_image(data: bytes, form: str, media_type: str) -> None:
    try:
        image = Image.open(io.BytesIO(data), formats=[form])
    except UnidentifiedImageError as err:
        raise Refused("doc.type_mismatch", media_type=media_type) from err
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise Refused("doc.image_too_large", max_pixels=MAX_PIXELS, max_side=MAX_SIDE) from err
    except Exception as err:
        raise Refused("doc.unreadable", media_type=media_type) from err
    with image:
        if image.format != form:
            raise Refused("doc.type_mismatch", media_type=media_type)
        width, height = image.size
        if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
            raise Refused(
                "doc.image_too_large",
                width=width,
                height=height,
                max_pixels=MAX_PIXELS,
                max_side=MAX_SIDE,
            )
        try:
            if form == "PNG":
                image.verify()  # every chunk's CRC, up to IEND
            else:
                image.draft("RGB", (1, 1))  # decoded at 1/8 scale: all the data, little memory
                image.load()
        except Exception as err:  # hostile bytes: any failure of the decoder means unreadable
            raise Refused("doc.unreadable", media_type=media_type) from err
