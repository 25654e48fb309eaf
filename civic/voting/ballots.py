"""Ballot content and receipts: the canonical text form and the hashes behind secrecy.

Shared by the vote (casting, paper entry), the count and the published list, so every part
reads and writes a ballot the same way. No Flask, no database here.
"""

from __future__ import annotations

import hashlib
import secrets

# Receipt codes: 128 random bits, written in Crockford's base 32 (no I, L, O, U) in groups
# of four, so they can be read aloud and typed back; case and separators are ignored.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RECEIPT_BITS = 130  # 26 characters of 5 bits (the top 2 bits are random too)
_DECODE = {c: c for c in _ALPHABET} | {"I": "1", "L": "1", "O": "0"}


class MalformedChoices(ValueError):
    """Stored or keyed choices that are not in the canonical form."""


def format_choices(choices: dict[int, int]) -> str:
    """Canonical text of a ballot: ids in increasing order, ``id:points`` where the value is
    not 1 (approval ballots are plain id lists)."""
    parts = []
    for pid in sorted(choices):
        value = choices[pid]
        if value < 1:
            raise MalformedChoices(f"non-positive value for project {pid}")
        parts.append(f"{pid}" if value == 1 else f"{pid}:{value}")
    return ",".join(parts)


def parse_choices(text: str) -> dict[int, int]:
    """Inverse of format_choices: {proposal id: points (1 for approval)}."""
    out: dict[int, int] = {}
    if not text:
        return out
    for part in text.split(","):
        pid_text, _sep, value_text = part.partition(":")
        try:
            pid = int(pid_text)
            value = int(value_text) if value_text else 1
        except ValueError as exc:
            raise MalformedChoices(f"bad ballot part {part!r}") from exc
        if value < 1 or pid in out:
            raise MalformedChoices(f"bad ballot part {part!r}")
        out[pid] = value
    return out


def new_receipt() -> str:
    """A fresh receipt code, e.g. ``7K3M-Q9XD-…`` (shown once to the voter, never stored)."""
    value = secrets.randbits(_RECEIPT_BITS)
    chars = []
    for _ in range(_RECEIPT_BITS // 5):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    code = "".join(chars)
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalise_receipt(text: str) -> str | None:
    """The canonical receipt for what a voter typed (None when it cannot be one)."""
    cleaned = [c for c in (text or "").upper() if c not in " -\t"]
    if len(cleaned) != _RECEIPT_BITS // 5:
        return None
    try:
        code = "".join(_DECODE[c] for c in cleaned)
    except KeyError:
        return None
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def ballot_lookup(receipt: str) -> str:
    """The key of the ballot a receipt belongs to (stored on Ballot.lookup)."""
    return hashlib.sha256(b"civic-ballot\0" + receipt.encode()).hexdigest()


def receipt_check(user_id: int, receipt: str) -> str:
    """What the participation keeps so that only the receipt's holder can replace it."""
    return hashlib.sha256(f"civic-participation\0{user_id}\0{receipt}".encode()).hexdigest()


def chain(entries: list[tuple[str, str]], start: str = "") -> list[str]:
    """Hash chain over the published list [(lookup, choices)…]: each link is
    sha256(previous link, lookup, choices); the last one is shown on the results page."""
    links = []
    previous = start
    for lookup, choices in entries:
        previous = hashlib.sha256(f"{previous}\n{lookup}\n{choices}".encode()).hexdigest()
        links.append(previous)
    return links
