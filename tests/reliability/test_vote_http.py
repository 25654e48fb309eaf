"""The vote under real HTTP: gunicorn (2 sync workers) on the test database.

- 200 concurrent ballot submissions for the same voter leave exactly one ballot and one
  participation, and every request gets an answer (no 500, no dropped connection);
- workers SIGKILLed again and again while residents vote leave no partial ballot: ballots
  and participations still match, envelope by envelope.

Runs on SQLite and, in the PostgreSQL lane, on PostgreSQL (same DATABASE_URL as the tests).
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess  # noqa: S404 - fixed argument list, no shell
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from civic.extensions import db
from civic.voting.models import Ballot, VoteParticipation
from tests.conftest import PASSWORD, database_url, make_user
from tests.voting.factories import make_vote

ROOT = Path(__file__).resolve().parent.parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
pytestmark = pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving civic on the test database, production configuration."""

    def __init__(self, tmp: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "CIVIC_ENV": "production", "SECRET_KEY": "http-tests-secret",
            "SQLALCHEMY_DATABASE_URI": database_url(), "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False, "MAIL_BACKEND": "outbox",
            "CIVIC_ENCRYPTION_KEYS": "jTqSV1Yb3Ejhl2r9E0Ua6Dq3Yw2yYy0m3bVZT1YdVmY=",
            "CIVIC_LOGIN_LIMIT": "100000 per minute", "CIVIC_UPLOAD_FOLDER": str(tmp),
        }
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("CIVIC_") and k != "DATABASE_URL"}
        self.proc = subprocess.Popen(  # noqa: S603
            [str(GUNICORN), "-w", "2", "-b", f"127.0.0.1:{self.port}", "--timeout", "60",
             "--access-logfile", "/dev/null", "--error-logfile", str(tmp / "gunicorn.log"),
             f"civic:create_app({config!r})"], cwd=ROOT, env=env)
        for _ in range(300):
            try:
                requests.get(self.url + "/", timeout=10)
                return
            except requests.RequestException as exc:
                if self.proc.poll() is not None:
                    raise RuntimeError((tmp / "gunicorn.log").read_text()) from exc
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not answer")

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


@pytest.fixture
def server(app, tmp_path):
    srv = Server(tmp_path)
    yield srv
    srv.stop()


def _login(url: str, email: str) -> requests.Session:
    session = requests.Session()
    token = _csrf(session, url + "/compte/connexion")
    answer = session.post(url + "/compte/connexion", data={
        "csrf_token": token, "email": email, "password": PASSWORD}, timeout=30,
        allow_redirects=False)
    assert answer.status_code == 302, answer.status_code  # signed in, sent to their space
    return session


def _csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=30).text
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _count(model, envelope_id: int) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(
        model.envelope_id == envelope_id)).scalar_one()


def test_200_concurrent_submissions_leave_one_ballot(ctx, server):
    s = make_vote()
    session = _login(server.url, s.voter.email)
    csrf = _csrf(session, f"{server.url}/budget-participatif/vote/{s.city.id}/bulletin")
    options = [p.id for p in s.city_options]
    barrier = threading.Barrier(50)

    def submit(i: int) -> int:
        try:
            barrier.wait(10)
        except threading.BrokenBarrierError:
            pass
        answer = session.post(f"{server.url}/budget-participatif/vote/{s.city.id}/confirmer", data={
            "csrf_token": csrf, "choices": str(options[i % len(options)]),
            "token": secrets.token_urlsafe(16), "receipt": ""},
            timeout=120, allow_redirects=False)
        return answer.status_code

    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(submit, range(200)))
    db.session.expire_all()
    assert _count(Ballot, s.city.id) == 1
    assert _count(VoteParticipation, s.city.id) == 1
    assert statuses.count(200) == 1, statuses  # the one recorded; the others are told
    assert set(statuses) <= {200, 302, 303}, statuses


def test_killed_workers_leave_no_partial_ballot(ctx, server):
    s = make_vote()
    voters = [make_user(f"votant{i}@example.org") for i in range(200)]
    sessions = [_login(server.url, v.email) for v in voters]
    csrfs = [_csrf(sess, f"{server.url}/budget-participatif/vote/{s.city.id}/bulletin") for sess in sessions]
    options = [p.id for p in s.city_options]
    stop = threading.Event()
    kills = []

    def killer() -> None:
        # A worker takes about a second to boot: kill one every 0.8 s, six times, so
        # that requests are cut mid-flight while the others are still served.
        while not stop.is_set() and len(kills) < 6:
            time.sleep(0.8)
            workers = server.workers()
            if workers:
                os.kill(workers[-1], signal.SIGKILL)
                kills.append(workers[-1])

    city_id, quartier_id = s.city.id, s.quartier.id
    quartier_choice = s.quartier_options[0].id

    def submit(i: int) -> str:
        for envelope_id, choice in ((city_id, options[i % len(options)]),
                                    (quartier_id, quartier_choice)):
            try:
                sessions[i].post(
                    f"{server.url}/budget-participatif/vote/{envelope_id}/confirmer",
                    data={"csrf_token": csrfs[i], "choices": str(choice),
                          "token": secrets.token_urlsafe(16), "receipt": ""},
                    timeout=30, allow_redirects=False)
            except requests.RequestException:
                return "dropped"
        return "answered"

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(submit, range(len(voters))))
    finally:
        stop.set()
        thread.join()
    assert len(kills) >= 2, kills
    db.session.expire_all()
    for envelope in (s.city, s.quartier):
        assert _count(Ballot, envelope.id) == _count(VoteParticipation, envelope.id)
    print(f"{len(kills)} workers killed, {outcomes.count('dropped')} requests dropped, "
          f"{_count(Ballot, s.city.id)} city ballots")
