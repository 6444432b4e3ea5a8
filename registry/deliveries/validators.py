"""Checks of what couriers upload: a delivery photo is a real JPEG or PNG of bounded
size, judged by its content, never by its name or declared type."""

import warnings

import filetype
from django.utils.translation import gettext_lazy as _
from PIL import Image

from registry.errors import DomainError

PHOTO_MAX_BYTES = 8 * 1024 * 1024  # a phone camera's JPEG is 2-5 MB
PHOTO_MAX_PIXELS = 40_000_000  # beyond any phone camera; refuses decompression bombs
PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png"}


def check_photo(upload) -> str:
    """The photo's file extension, or a DomainError saying what is wrong."""
    if upload is None or not hasattr(upload, "read"):
        raise DomainError(_("Take a photo of the hand-over."), "photo_required")
    if upload.size > PHOTO_MAX_BYTES:
        raise DomainError(_("The photo is too large (at most 8 MB)."), "photo_too_large")
    upload.seek(0)
    head = upload.read(261)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in PHOTO_TYPES:
        raise DomainError(_("The photo must be a JPEG or PNG picture."), "photo_type")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                if image.width * image.height > PHOTO_MAX_PIXELS:
                    raise DomainError(_("The photo is too large (at most 8 MB)."),
                                      "photo_too_large")
                image.verify()
    except DomainError:
        raise
    except Exception as exc:  # Pillow raises many kinds for a broken file
        raise DomainError(_("The photo could not be read. Take it again."),
                          "photo_broken") from exc
    finally:
        upload.seek(0)
    return PHOTO_TYPES[kind.mime]
