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
    for value in (*values, *request.args.values(), request.path):
        if "\x00" in value:
            abort(400)
