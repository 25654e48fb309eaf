"""Small helpers shared by views."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from flask import abort, flash, request, url_for
from flask_wtf import FlaskForm

from civic.extensions import db


class ConfirmForm(FlaskForm):
    """A bare form, CSRF token only, for one-button actions."""


def confirmed() -> None:
    """A one-button POST goes on only with its form's valid CSRF token (400 otherwise)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)


def form_status(form: FlaskForm) -> int:
    """The status of a form page: 422 when it comes back with errors, 200 when first shown."""
    return 422 if form.is_submitted() else 200


class Change:
    """What one change did: `ok` once it is committed; `success`, the message to flash."""

    ok = False
    success: str | None = None


@contextmanager
def change(refusals: type[Exception] | tuple[type[Exception], ...],
           form: FlaskForm | None = None, success: str | None = None) -> Iterator[Change]:
    """Run one change and commit it, flashing `success` (or the block's `step.success`).

    A service refusal (`refusals`) writes nothing: the session is rolled back and the
    message shown on `form`, next to its field, or flashed when there is no form. Any other
    exception goes on up."""
    step = Change()
    step.success = success
    try:
        yield step
        db.session.commit()
    except refusals as exc:
        if form is not None:
            attach_error(form, exc)
        else:
            db.session.rollback()
            flash(getattr(exc, "message", str(exc)), "error")
        return
    step.ok = True
    if step.success:
        flash(step.success, "success")


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
