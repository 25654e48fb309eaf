"""Error pages: translated, accessible, never a stack trace."""

from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from civic.extensions import db


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def register_error_handlers(app: Flask) -> None:
    """Install the handlers."""

    def page(status: int, title: str, message: str):  # noqa: ANN202
        if _wants_json():
            return jsonify({"error": message, "status": status}), status
        return render_template("errors/error.html", status=status, title=title,
                               message=message), status

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):  # noqa: ANN202
        return page(400, _("Form expired"),
                    _("This form was not accepted because its security token is missing or "
                      "has expired (for example after a long pause). Go back, reload the page "
                      "and send it again: what you typed is still in the previous page."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # noqa: ANN202
        messages = {
            400: (_("Bad request"), _("The request could not be understood.")),
            403: (_("Access refused"), _("Your account does not give access to this page.")),
            404: (_("Page not found"), _("This page does not exist or has moved.")),
            405: (_("Method not allowed"), _("This address does not accept this action.")),
            413: (_("File too large"),
                  _("The file you sent is too large (5 MB at most). Send a smaller file.")),
            429: (_("Too many attempts"),
                  _("Too many attempts in a short time. Wait a few minutes, then try again.")),
        }
        title, message = messages.get(exc.code or 500, (exc.name, exc.description or ""))
        response = make_response(page(exc.code or 500, title, message))
        for name, value in exc.get_headers():
            if name in ("Allow", "Retry-After", "WWW-Authenticate"):
                response.headers[name] = value  # e.g. RFC 9110: 405 must list the methods
        return response

    @app.errorhandler(Exception)
    def internal_error(exc: Exception):  # noqa: ANN202
        app.logger.exception("unhandled error")
        db.session.rollback()
        return page(500, _("Something went wrong"),
                    _("An unexpected error occurred; nothing was saved. Try again later."))
