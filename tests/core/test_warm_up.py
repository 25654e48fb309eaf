"""Per-process work done at start: mappers configured, and in production the compiled
templates kept on disk so a worker's first render does not compile them."""

from __future__ import annotations

from sqlalchemy.orm import class_mapper

from civic import create_app
from civic.accounts.models import User


def _production(tmp_path, **extra):  # noqa: ANN001, ANN003, ANN202
    return create_app({"CIVIC_ENV": "production", "SECRET_KEY": "k" * 40,
                       "CIVIC_ENCRYPTION_KEYS": "a" * 43 + "=",
                       "SQLALCHEMY_DATABASE_URI": "sqlite://",
                       "CIVIC_TEMPLATE_CACHE_FOLDER": str(tmp_path / "jinja"), **extra})


def test_mappers_are_configured_at_start(app):
    assert class_mapper(User).configured


def test_production_keeps_compiled_templates_on_disk(tmp_path):
    app = _production(tmp_path)
    assert app.jinja_env.bytecode_cache is not None
    with app.app_context():
        app.jinja_env.get_template("base.html")
    assert list((tmp_path / "jinja").iterdir())  # written by the first process
    other = _production(tmp_path)  # another worker: loads it (same source checksum)
    with other.app_context():
        template = other.jinja_env.get_template("base.html")
    assert template is not None


def test_tests_and_development_compile_in_memory(app, tmp_path):
    assert app.jinja_env.bytecode_cache is None
    assert _production(tmp_path, TESTING=True).jinja_env.bytecode_cache is None
