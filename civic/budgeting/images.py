"""Proposal images: checked by content (not by name), re-encoded without metadata, resized.

Re-encoding with Pillow drops EXIF (GPS position of the phone that took the photo,
camera serial…), which residents rarely know their photos carry.
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_IMAGES = 3
MAX_IMAGE_BYTES = 4 * 1024 * 1024  # per file (the request as a whole is MAX_CONTENT_LENGTH)
MAX_PIXELS = 40_000_000  # refuse decompression bombs well before Pillow's own limit
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
SIZES = {"full": 1280, "thumb": 400}


class ImageRefused(Exception):
    """An upload that is not an acceptable image (translated message)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = "images"


@dataclass(frozen=True)
class PreparedImage:
    """An image checked and re-encoded in memory, not yet on disk."""

    renditions: dict[str, bytes]
    width: int
    height: int


def prepare_image(raw: bytes, filename: str = "") -> PreparedImage:
    """Check that ``raw`` is a JPEG/PNG/WebP/GIF picture and re-encode it (no EXIF)."""
    name = filename[:60]
    if len(raw) > MAX_IMAGE_BYTES:
        raise ImageRefused(_("The image %(name)s is larger than %(mb)d MB.", name=name,
                             mb=MAX_IMAGE_BYTES // (1024 * 1024)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(raw))
            if probe.format not in ACCEPTED_FORMATS:
                raise ImageRefused(_("%(name)s is not a JPEG, PNG, WebP or GIF image.",
                                     name=name))
            if probe.width * probe.height > MAX_PIXELS:
                raise ImageRefused(_("The image %(name)s has too many pixels.", name=name))
            probe.verify()
            img = Image.open(io.BytesIO(raw))
            img.load()
            img = ImageOps.exif_transpose(img)
    except ImageRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused(_("%(name)s is not a JPEG, PNG, WebP or GIF image.",
                             name=name)) from exc
    if img.mode not in ("RGB", "L"):
        background = Image.new("RGB", img.size, (255, 255, 255))
        rgba = img.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        img = background
    renditions = {}
    for size, edge in SIZES.items():
        copy = img.copy()
        copy.thumbnail((edge, edge))
        out = io.BytesIO()
        copy.convert("RGB").save(out, "JPEG", quality=85, optimize=True)  # no exif= : stripped
        renditions[size] = out.getvalue()
    full = Image.open(io.BytesIO(renditions["full"]))
    return PreparedImage(renditions=renditions, width=full.width, height=full.height)


def upload_folder() -> Path:
    """Where images live (instance/uploads/proposals by default; git-ignored)."""
    folder = Path(current_app.config.get("CIVIC_UPLOAD_FOLDER")
                  or Path(current_app.instance_path) / "uploads") / "proposals"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def path_for(token: str, size: str) -> Path:
    """The file of one rendition."""
    if size not in SIZES:
        size = "full"
    return upload_folder() / f"{token}-{size}.jpg"


def store(image: PreparedImage) -> str:
    """Write the renditions; return the token that names them."""
    token = secrets.token_hex(16)
    for size, data in image.renditions.items():
        path_for(token, size).write_bytes(data)
    return token


def remove(token: str) -> None:
    """Delete the files of an image (missing files are fine)."""
    for size in SIZES:
        path_for(token, size).unlink(missing_ok=True)
