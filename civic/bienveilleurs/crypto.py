"""Encryption at rest of personal fields (Fernet: AES-128-CBC + HMAC-SHA256).

The keys come from the configuration (CIVIC_ENCRYPTION_KEYS, newest first), never from the
database: a copy of the database alone reveals no contact detail or note. Several keys let
an operator rotate: encrypt with the first, decrypt with any (``flask bienveilleurs
rotate-key`` re-encrypts everything with the first). Losing every key makes the encrypted
fields unreadable for good — see README.md, "Encryption key".
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class KeyError_(RuntimeError):  # noqa: N801 - not the builtin KeyError
    """A stored value cannot be decrypted with the configured keys."""


def parse_keys(value: object) -> list[str]:
    """Keys from a list or a comma/whitespace-separated string; each must be a Fernet key."""
    if isinstance(value, (list, tuple)):
        keys = [str(k).strip() for k in value]
    else:
        keys = str(value or "").replace(",", " ").split()
    keys = [k for k in keys if k]
    for k in keys:
        Fernet(k.encode())  # ValueError when it is not 32 url-safe base64-encoded bytes
    return keys


def _fernet() -> MultiFernet:
    cache = current_app.extensions.setdefault("civic_fernet", {})
    keys = tuple(current_app.config["CIVIC_ENCRYPTION_KEYS"])
    if keys not in cache:
        cache.clear()
        cache[keys] = MultiFernet([Fernet(k.encode()) for k in keys])
    return cache[keys]


def encrypt(text: str | None) -> str | None:
    """A token for the text (None and empty stay None: nothing to protect)."""
    if not text:
        return None
    return _fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str | None) -> str | None:
    """The text behind a token; a token no configured key opens is an error, not garbage."""
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise KeyError_("a stored value cannot be decrypted with the configured keys") from exc


def rotate(token: str | None) -> str | None:
    """Re-encrypt a token with the newest key."""
    if not token:
        return None
    return _fernet().rotate(token.encode("ascii")).decode("ascii")


def new_key() -> str:
    """A fresh random key."""
    return Fernet.generate_key().decode("ascii")
