"""Configuration defaults; instance/config.py and CIVIC_* / DATABASE_URL env override them."""

from __future__ import annotations

import os
from datetime import timedelta


class DefaultConfig:
    """Safe defaults for development; production overrides what matters."""

    CIVIC_ENV = "development"
    SECRET_KEY: str | None = None  # generated into instance/ in development
    SQLALCHEMY_DATABASE_URI: str | None = None  # SQLite in instance/ by default
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024  # uploads (census CSV, images) above this get 413
    WTF_CSRF_TIME_LIMIT = 4 * 3600
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    CIVIC_LANGUAGES = ("fr", "en")
    # "outbox" stores messages in the database (development, tests); "smtp" sends them.
    MAIL_BACKEND = "outbox"
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_DEFAULT_SENDER = "civic <no-reply@civic.invalid>"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    CIVIC_LOGIN_LIMIT = "5 per minute;20 per hour"
    CIVIC_RESET_LIMIT = "3 per minute;10 per hour"
    CIVIC_REGISTER_LIMIT = "10 per hour"
    CIVIC_PLATFORM_NAME = "civic"
    CIVIC_TOKEN_MAX_AGE = 3600 * 24  # email confirmation
    CIVIC_RESET_MAX_AGE = 3600  # password reset
    CIVIC_PASSWORD_MIN_LENGTH = 10
    # werkzeug's scrypt (memory-hard KDF); tests lower the cost to stay fast.
    CIVIC_PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 (an algorithm name, not a secret)
    # Bienveilleurs: keys for personal fields at rest (generated into instance/ in
    # development; required in production), retention and reminder delays.
    CIVIC_ENCRYPTION_KEYS: list[str] | str | None = None
    CIVIC_REFERRAL_RETENTION_DAYS = 365
    CIVIC_REFERRAL_REMIND_AFTER_DAYS = {"signale": 2, "contacte": 7, "injoignable": 7,
                                        "oriente": 7, "pris_en_charge": 30}
    CIVIC_CONCIERGERIE_ANSWER_TARGET_HOURS = 48
    CIVIC_CONCIERGERIE_AT_RISK_DAYS = 7
    # Visitors' public pages and the open-data API are cached this many seconds per worker
    # (0: off); any committed write empties the cache at once (civic/core/cache.py).
    CIVIC_PAGE_CACHE_TTL = 30
    CIVIC_PAGE_CACHE_MAX_BYTES = 32 * 1024 * 1024
    CIVIC_PAGE_CACHE_GENERATION_FILE: str | None = None  # instance/page-cache-generation


class ProductionConfig(DefaultConfig):
    """Production: secrets must come from the environment or instance/config.py."""

    CIVIC_ENV = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    MAIL_BACKEND = "smtp"


def env_overrides() -> dict:
    """Settings read from the environment (CIVIC_* and DATABASE_URL)."""
    out: dict = {}
    url = os.environ.get("DATABASE_URL")
    if url:
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://") :]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        out["SQLALCHEMY_DATABASE_URI"] = url
    for key, value in os.environ.items():
        if key.startswith("CIVIC_") and key not in ("CIVIC_ENV_FILE",):
            name = key[len("CIVIC_") :]
            if name in ("SECRET_KEY", "MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD",
                        "MAIL_DEFAULT_SENDER", "RATELIMIT_STORAGE_URI", "MAIL_BACKEND"):
                out[name] = value
            elif name == "MAIL_PORT":
                out[name] = int(value)
            elif name == "PAGE_CACHE_TTL":
                out[key] = float(value)
            elif name == "MAIL_USE_TLS":
                out[name] = value.lower() in ("1", "true", "yes")
            elif name in ("ENCRYPTION_KEY", "ENCRYPTION_KEYS"):
                out[key] = value
            elif name == "ENV":
                out["CIVIC_ENV"] = value
    return out
