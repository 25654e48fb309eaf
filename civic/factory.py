"""The application factory: config layers, extensions, blueprints, CLI, error pages."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Any

from flask import Flask, Request, request, session
from flask_login import current_user

from civic import config as config_module
from civic.extensions import babel, csrf, db, limiter, login_manager, mail, migrate

ROOT = Path(__file__).resolve().parent.parent

_WTFORMS_TRANSLATIONS: dict[str, Any] = {}


class CivicRequest(Request):
    """Flask's request, with WTForms' own messages loaded once per process and locale.

    flask-wtf reads ``request.wtforms_translations`` and, when it is missing, parses
    WTForms' catalogue from disk for the request (about 0.5 ms, on every request that builds
    a form: each ballot confirmation, each view of the login page). The catalogue never
    changes while the process runs, so the parsed one is shared (it is only read)."""

    @cached_property
    def wtforms_translations(self) -> Any:  # noqa: D102 - see the class
        from babel import support
        from flask_babel import get_locale
        from wtforms.i18n import messages_path

        locale = get_locale()
        key = str(locale)
        translations = _WTFORMS_TRANSLATIONS.get(key)
        if translations is None:
            translations = support.Translations.load(messages_path(), [locale],
                                                     domain="wtforms")
            _WTFORMS_TRANSLATIONS[key] = translations
        return translations


class ConfigurationError(RuntimeError):
    """The app refuses to start with an unsafe or incomplete configuration."""


def _secret_key(app: Flask) -> str:
    """The configured key, or (development only) one generated into instance/."""
    if app.config.get("SECRET_KEY"):
        return app.config["SECRET_KEY"]
    if app.config["CIVIC_ENV"] == "production":
        raise ConfigurationError(
            "SECRET_KEY is not set: set CIVIC_SECRET_KEY or SECRET_KEY in instance/config.py"
        )
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _encryption_keys(app: Flask) -> list[str]:
    """Keys for personal fields at rest: configured, or (development/tests) generated.

    Production never falls back to a generated key: a key written next to the code would
    travel with backups and copies of the server, and a lost one makes data unreadable.
    """
    from civic.bienveilleurs.crypto import new_key, parse_keys

    configured = app.config.get("CIVIC_ENCRYPTION_KEYS") or app.config.get(
        "CIVIC_ENCRYPTION_KEY")
    if configured:
        try:
            keys = parse_keys(configured)
        except ValueError as exc:
            raise ConfigurationError(
                "CIVIC_ENCRYPTION_KEYS is not valid: each key must be 32 url-safe "
                "base64-encoded bytes (generate one with `flask bienveilleurs new-key`)"
            ) from exc
        if keys:
            return keys
    if app.config["CIVIC_ENV"] == "production":
        raise ConfigurationError(
            "CIVIC_ENCRYPTION_KEYS is not set: the referrals' personal data cannot be "
            "protected. Set CIVIC_ENCRYPTION_KEYS (environment or instance/config.py) to a "
            "key made with `flask bienveilleurs new-key`, and keep a copy in a safe place"
        )
    path = Path(app.instance_path) / "encryption_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(new_key())
    return parse_keys(path.read_text())


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the civic application."""
    app = Flask(
        "civic",
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "civic" / "static"),
    )
    app.request_class = CivicRequest
    env = (test_config or {}).get("CIVIC_ENV") or os.environ.get("CIVIC_ENV", "development")
    base = config_module.ProductionConfig if env == "production" else config_module.DefaultConfig
    app.config.from_object(base)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(config_module.env_overrides())
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config["SECRET_KEY"] = _secret_key(app)
    app.config["CIVIC_ENCRYPTION_KEYS"] = _encryption_keys(app)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            "sqlite:///" + str(Path(app.instance_path) / "civic.db")
        )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "connect_args": {"timeout": 30},
        }
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(ROOT / "translations")

    from werkzeug.routing import IntegerConverter

    class BoundedInt(IntegerConverter):
        """<int:…> URL parts beyond the database's integer range are a 404, not an error."""

        def __init__(self, url_map, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
            kwargs.setdefault("max", 2**31 - 1)
            super().__init__(url_map, *args, **kwargs)

    app.url_map.converters["int"] = BoundedInt
    _init_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)
    from civic.cli import register_cli
    from civic.errors import register_error_handlers

    register_error_handlers(app)
    register_cli(app)
    _warm_up(app)
    return app


def _warm_up(app: Flask) -> None:
    """Work every process does once, done at start rather than in its first requests
    (the benchmark found the first view of the results page at 0.6-0.85 s in each worker):
    the ORM's mapper configuration (~0.3 s), and in production Jinja's compiled templates
    kept on disk (instance/jinja-cache), so a worker's first render of a page loads its
    bytecode instead of compiling it (~0.1 s for the results page and base.html). Jinja
    checks each template's source checksum, so an edited template is compiled again."""
    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    if app.config["CIVIC_ENV"] == "production" and not app.config.get("TESTING"):
        from jinja2 import FileSystemBytecodeCache

        folder = Path(app.config.get("CIVIC_TEMPLATE_CACHE_FOLDER")
                      or Path(app.instance_path) / "jinja-cache")
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:  # a read-only instance folder: compile in memory as before
            return
        app.jinja_env.bytecode_cache = FileSystemBytecodeCache(str(folder))


def select_locale() -> str:
    """The user's setting, then the switcher (session, then cookie), then Accept-Language."""
    from flask import current_app, has_request_context

    languages = current_app.config["CIVIC_LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("lang") in languages:
        return session["lang"]
    if request.cookies.get("lang") in languages:
        return request.cookies["lang"]
    return request.accept_languages.best_match(languages) or current_app.config[
        "BABEL_DEFAULT_LOCALE"
    ]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLite in WAL mode: readers no longer block the writer (pages stay served while a
    ballot is written) and a commit costs one sync of the log, not of the database file.
    synchronous=FULL keeps every committed ballot through a power cut."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _init_extensions(app: Flask) -> None:
    from sqlalchemy.orm import joinedload

    from civic.accounts.models import User

    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            from sqlalchemy import event

            event.listen(db.engine, "connect", _sqlite_pragmas)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    mail.init_app(app)
    app.config["RATELIMIT_ENABLED"] = app.config.get("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please log in to see this page.")

    @login_manager.user_loader
    def load_user(ident: str) -> User | None:
        try:
            uid, epoch = (int(p) for p in ident.split("."))
        except ValueError:
            return None
        # The grants with the user, in one query: every signed-in request checks a permission
        # (enforce_access, the menu's can()), which would lazy-load them in a second one.
        user = db.session.get(User, uid, options=[joinedload(User.grants)])
        if user is None or user.session_epoch != epoch or not user.is_active:
            return None
        return user


def _register_blueprints(app: Flask) -> None:
    import civic.voting.models  # noqa: F401  (tables of the vote, known to migrations)
    from civic.accounts.views import bp as accounts_bp
    from civic.actionplan.views import bp as actionplan_bp
    from civic.admin.views import bp as admin_bp
    from civic.api.views import bp as api_bp
    from civic.bienveilleurs.views import bp as bienveilleurs_bp
    from civic.budgeting.views import bp as budgeting_bp
    from civic.core.views import bp as core_bp
    from civic.councils.cycle_views import bp as cycle_bp
    from civic.councils.views import bp as councils_bp
    from civic.review.views import bp as review_bp
    from civic.spaces.views import bp as spaces_bp
    from civic.voting.desk_views import bp as desk_bp
    from civic.voting.realisation_views import bp as realisation_bp
    from civic.voting.results_views import bp as results_bp
    from civic.voting.views import bp as voting_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(spaces_bp)
    app.register_blueprint(actionplan_bp)
    app.register_blueprint(councils_bp)
    app.register_blueprint(cycle_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(bienveilleurs_bp)
    app.register_blueprint(budgeting_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(desk_bp)
    app.register_blueprint(realisation_bp)
    app.register_blueprint(voting_bp)
    app.register_blueprint(results_bp)
    csrf.exempt(api_bp)  # read-only JSON API: GET only, no cookies needed


def _register_hooks(app: Flask) -> None:
    from flask_babel import format_date, format_datetime, format_decimal, get_locale

    from civic.permissions import ROLES, enforce_access, user_can
    from civic.security import reject_nul_bytes

    app.before_request(reject_nul_bytes)
    app.before_request(enforce_access)
    from civic.core import cache as page_cache

    page_cache.init_app(app)  # after the access check: only public views are cached

    @app.after_request
    def security_headers(response):  # noqa: ANN001, ANN202
        h = response.headers
        h.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["CIVIC_ENV"] == "production":
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if current_user and getattr(current_user, "is_authenticated", False):
            h.setdefault("Cache-Control", "no-store")
        return response

    def format_euros(amount: int | float) -> str:
        from flask_babel import format_currency

        return format_currency(amount, "EUR")

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {
            "can": lambda perm: user_can(current_user, perm),
            "ROLES": ROLES,
            "current_locale": str(get_locale()),
            "languages": (("fr", "Français"), ("en", "English")),
            "format_date": format_date,
            "format_datetime": format_datetime,
            "format_decimal": format_decimal,
            "format_euros": format_euros,
        }
