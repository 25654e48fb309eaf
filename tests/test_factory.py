"""The application factory and its configuration layers."""

from __future__ import annotations

from pathlib import Path

import pytest

from civic import create_app
from civic.factory import ConfigurationError
from tests.conftest import REPO


def test_factory_points_at_top_level_templates_and_translations(app):
    assert Path(app.template_folder) == REPO / "templates"
    assert Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]) == REPO / "translations"
    assert app.testing


def test_default_config_is_not_testing(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert not app.testing
    assert app.config["BABEL_DEFAULT_LOCALE"] == "fr"
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_sqlite_in_instance_is_the_default(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + str(REPO / "instance" / "civic.db")


def test_database_url_selects_psycopg(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@127.0.0.1/db")
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@127.0.0.1/db"


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("CIVIC_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app({"CIVIC_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_sets_secure_cookies():
    app = create_app({"CIVIC_ENV": "production", "SECRET_KEY": "k" * 40,
                      "CIVIC_ENCRYPTION_KEYS": "a" * 43 + "=",
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["MAIL_BACKEND"] == "smtp"


def test_development_generates_an_owner_only_secret_key():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    key_file = Path(app.instance_path) / "secret_key"
    assert key_file.exists() and (key_file.stat().st_mode & 0o077) == 0
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
