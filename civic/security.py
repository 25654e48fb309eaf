"""Request hygiene applied before any view."""

from __future__ import annotations

from flask import abort, request


def reject_nul_bytes() -> None:
    """Refuse form or query values containing NUL: no text field needs one, and PostgreSQL
    cannot store it (it would otherwise surface as a database error)."""
    if request.method in ("POST", "PUT", "PATCH"):
        values = request.form.values() if request.form else ()
    else:
        values = ()
    for value in values:
        if "\x00" in value:
            abort(400)
    # Query strings and paths never need control characters (forms may hold newlines).
    for value in (*request.args.values(), request.path):
        if any(ord(c) < 32 for c in value):
            abort(400)
