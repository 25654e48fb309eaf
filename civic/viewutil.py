"""Small helpers shared by views."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request, url_for
from flask_wtf import FlaskForm

from civic.extensions import db


def attach_error(form: FlaskForm, exc: Exception) -> None:
    """Show a service refusal on its field, or at the top of the form; undo the session."""
    db.session.rollback()
    message = getattr(exc, "message", str(exc))
    name = getattr(exc, "field", None)
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*list(field.errors or []), message]
    else:
        form.form_errors.append(message)


def safe_next(default_endpoint: str = "core.index") -> str:
    """The ?next= target if it is a path on this site, else a default page."""
    target = request.values.get("next", "")
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc \
            and "\\" not in target and target.isprintable():
        return target
    return url_for(default_endpoint)
