"""Browser lane: a live server on its own demo database, driven by Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading

import pytest
from werkzeug.serving import make_server

from civic import create_app
from civic.extensions import db

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


def pytest_collection_modifyitems(config, items):
    """Mark everything here as browser; skip (or fail in CI) when Chromium is missing."""
    here = os.path.dirname(__file__)
    have = os.path.exists(CHROMIUM)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.browser)
            if not have and os.environ.get("CIVIC_REQUIRE_BROWSER") != "1":
                item.add_marker(pytest.mark.skip(
                    reason=f"no Chromium at {CHROMIUM}: apt-get install chromium "
                           "(CI sets CIVIC_REQUIRE_BROWSER=1 to make this a failure)"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's Chromium (Playwright's own download cannot be used here)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"CIVIC_REQUIRE_BROWSER=1 but no Chromium at {CHROMIUM}")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def live_app():
    """An app on a separate SQLite file with the demo city loaded through migrations."""
    folder = tempfile.mkdtemp(prefix="civic-browser-")
    app = create_app({
        "SECRET_KEY": "browser-tests",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/browser.db",
        "CIVIC_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "CIVIC_LOGIN_LIMIT": "1000 per minute",
        "CIVIC_REGISTER_LIMIT": "1000 per minute",
        "CIVIC_UPLOAD_FOLDER": f"{folder}/uploads",
    })
    with app.app_context():
        from flask_migrate import upgrade

        from civic.demo import seed_demo

        upgrade()
        seed_demo()
        db.session.commit()
    yield app
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def live_server(live_app):
    """Serve the app on a free loopback port."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def base_url(live_server):
    """So that page.goto('/') works."""
    return live_server


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A French-speaking visitor by default (Accept-Language: fr-FR)."""
    return {**browser_context_args, "locale": "fr-FR"}
