"""The encryption key: generated in development, required in production, rotatable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from civic import create_app
from civic.bienveilleurs import crypto, services
from civic.bienveilleurs.models import Referral
from civic.extensions import db
from civic.factory import ConfigurationError
from tests.bienveilleurs.factories import make_referral
from tests.conftest import REPO, make_user


def test_development_generates_an_owner_only_key(app):
    key_file = Path(app.instance_path) / "encryption_key"
    assert key_file.exists() and (key_file.stat().st_mode & 0o077) == 0
    assert app.config["CIVIC_ENCRYPTION_KEYS"] == [key_file.read_text().strip()]


def test_production_refuses_to_start_without_a_key():
    with pytest.raises(ConfigurationError, match="CIVIC_ENCRYPTION_KEYS is not set"):
        create_app({"CIVIC_ENV": "production", "SECRET_KEY": "k" * 40,
                    "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_an_invalid_key_is_refused_with_a_clear_message():
    with pytest.raises(ConfigurationError, match="not valid"):
        create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "CIVIC_ENCRYPTION_KEYS": "not-a-key"})


def test_production_start_without_a_key_exits_non_zero(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CIVIC_") and k != "DATABASE_URL"}
    env.update(CIVIC_ENV="production", CIVIC_SECRET_KEY="k" * 40,
               DATABASE_URL=f"sqlite:///{tmp_path}/prod.db", FLASK_APP="app.py")
    flask = Path(sys.executable).with_name("flask")
    result = subprocess.run([str(flask), "routes"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=60)  # noqa: S603
    assert result.returncode != 0
    assert "CIVIC_ENCRYPTION_KEYS is not set" in result.stdout + result.stderr
    # With a key, the same start works.
    env["CIVIC_ENCRYPTION_KEYS"] = crypto.Fernet.generate_key().decode()
    ok = subprocess.run([str(flask), "routes"], cwd=REPO, env=env, capture_output=True,
                        text=True, timeout=60)  # noqa: S603
    assert ok.returncode == 0, ok.stderr


def test_keys_can_be_rotated(app, net):
    old = app.config["CIVIC_ENCRYPTION_KEYS"]
    new = crypto.new_key()
    try:
        with app.test_request_context():
            from civic.accounts.models import User

            author = db.session.get(User, net.ids["bienveilleur"])
            quartier = author.quartier
            r = make_referral(author, quartier)
            token = r.contact_enc
            app.config["CIVIC_ENCRYPTION_KEYS"] = [new, *old]
            assert services.rotate_keys() == 1
            db.session.commit()
            assert r.contact_enc != token
            app.config["CIVIC_ENCRYPTION_KEYS"] = [new]  # the old key is no longer needed
            assert services.personal_data(r).contact == "06 12 34 56 78 Secret"
            app.config["CIVIC_ENCRYPTION_KEYS"] = old  # ...and the old one cannot open it
            with pytest.raises(crypto.KeyError_):
                services.personal_data(r)
    finally:
        app.config["CIVIC_ENCRYPTION_KEYS"] = old


__all__ = ["Referral", "make_user", "select"]
