"""A response cache for visitors' public pages and the open-data API, with ETags.

What may be served from the cache, or stored in it: a GET (or HEAD) of a view declared
``@public`` (and not marked :func:`uncached`), by a visitor who is not signed in, whose request
carries no cookie but the session's and the language switcher's, and whose session holds no
flashed message. What is stored: such a response with status 200, not streamed, that sets no
cookie (the session included: a page that puts a CSRF token in the session is never cached),
says neither ``no-store`` nor ``private``, and comes from a request without a session cookie
(so nothing personal can end up in the cache).

The key is the host, path, query string and locale. Entries live ``CIVIC_PAGE_CACHE_TTL``
seconds (0 turns the cache off) in each worker's memory, up to ``CIVIC_PAGE_CACHE_MAX_BYTES``.
Every committed write (an ORM flush, or an INSERT/UPDATE/DELETE run through the session)
invalidates the cache of every worker on the machine at once — except a commit that writes
only to tables declared quiet (:func:`register_quiet_tables`: the secret ballots while a vote
runs, which no cacheable page shows), so that a vote week's stream of ballots does not empty
the cache many times a second: the writer replaces a small
generation file (``CIVIC_PAGE_CACHE_GENERATION_FILE``, in instance/ by default), every request
reads it, and a new generation empties the worker's cache. With app servers on several
machines, the others see the write after at most the TTL (or share the file on a common disk).

Cacheable responses get an ETag and answer a matching If-None-Match with 304, served or not
from the cache; the open-data API sets its own ETags (civic.api.views._json).

Hits are served by a WSGI middleware in front of Flask (:class:`FastHits`), for the common
case of a visitor who sends no cookie but ``lang``: no request context, session, user
loading, rate-limiter or before/after_request hook runs; it builds the same key from the
same WSGI environ (werkzeug's own host, path, query string, cookie and Accept-Language
parsing, and the locale the app's selector would choose for a visitor without a session)
and answers with the stored status and headers, which already carry everything the hooks
added. Anything else (a session or remember-me cookie, a miss, another method) goes on to
Flask, where the ``before_request`` path below still serves hits to visitors whose session
holds no user and no flashed message. Entries are stored only by that Flask path, from
eligible public views, so the middleware can only answer a key Flask answered before.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from babel import Locale
from flask import Flask, Response, current_app, g, has_app_context, request, request_finished
from flask import session as flask_session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.wrappers import Request as WsgiRequest

from civic.permissions import PUBLIC, access_of

ALLOWED_COOKIES = frozenset({"lang"})  # plus the session cookie (see _eligible)
_WROTE = "civic_page_cache_wrote"


def uncached(view: Callable) -> Callable:
    """Mark a public view whose response must never be served from the page cache."""
    view._civic_uncached = True  # type: ignore[attr-defined]
    return view


class PageCache:
    """One worker's cache (a bounded, expiring map from request key to response)."""

    def __init__(self, ttl: float, max_bytes: int, generation_file: Path) -> None:
        self.ttl = ttl
        self.max_bytes = max_bytes
        self.generation_file = generation_file
        self.entries: OrderedDict[tuple, tuple[float, int, list, bytes]] = OrderedDict()
        self.size = 0
        self.generation = b""
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def read_generation(self) -> bytes:
        """The current generation (a token replaced by every committed write)."""
        try:
            with open(self.generation_file, "rb") as fh:
                generation = fh.read(64)
        except FileNotFoundError:
            generation = b""
        if generation != self.generation:
            with self.lock:
                self.entries.clear()
                self.size = 0
                self.generation = generation
        return generation

    def bump(self) -> None:
        """Invalidate every worker's cache: a new generation token, replaced atomically."""
        self.generation_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.generation_file.with_name(
            f".{self.generation_file.name}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_bytes(secrets.token_hex(16).encode())
        os.replace(tmp, self.generation_file)
        with self.lock:
            self.entries.clear()
            self.size = 0

    def get(self, key: tuple) -> tuple[int, list, bytes] | None:
        """A fresh entry, or None."""
        entry = self.entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        expires, status, headers, body = entry
        if expires < time.monotonic():
            with self.lock:
                if self.entries.pop(key, None) is not None:
                    self.size -= len(body)
            self.misses += 1
            return None
        self.hits += 1
        return status, headers, body

    def put(self, key: tuple, status: int, headers: list, body: bytes) -> None:
        """Store an entry; the oldest ones make room when the cache is full."""
        if len(body) > self.max_bytes // 8:
            return
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= len(old[3])
            while self.entries and self.size + len(body) > self.max_bytes:
                _, dropped = self.entries.popitem(last=False)
                self.size -= len(dropped[3])
            self.entries[key] = (time.monotonic() + self.ttl, status, headers, body)
            self.size += len(body)


def page_cache(app: Flask | None = None) -> PageCache | None:
    """The app's page cache (None when turned off)."""
    return (app or current_app).extensions.get("civic_page_cache")


def _eligible() -> bool:
    """May this request be answered from the cache (and its response be stored)?"""
    if request.method not in ("GET", "HEAD"):
        return False
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return False
    view = current_app.view_functions.get(endpoint)
    if access_of(endpoint) != PUBLIC or getattr(view, "_civic_uncached", False):
        return False
    session_cookie = current_app.config.get("SESSION_COOKIE_NAME", "session")
    if any(name not in ALLOWED_COOKIES and name != session_cookie for name in request.cookies):
        return False  # a remember-me cookie, or one the page might read
    if "_flashes" in flask_session:
        return False
    return not current_user.is_authenticated


def _key(cache: PageCache) -> tuple:
    return (cache.read_generation(), request.host, request.scheme, request.path,
            request.query_string, str(get_locale()))


def _serve() -> Response | None:
    """before_request: answer from the cache when possible."""
    cache = page_cache()
    if cache is None or not _eligible():
        return None
    key = _key(cache)
    g.page_cache_key = key
    hit = cache.get(key)
    if hit is None:
        return None
    status, headers, body = hit
    response = Response(body, status=status, headers=headers)
    response.headers["X-Civic-Cache"] = "hit"
    g.page_cache_hit = True
    return response.make_conditional(request)


def _prepare(response: Response) -> Response:
    """after_request: an ETag, Vary and a 304 on cacheable responses."""
    key = g.get("page_cache_key")
    if key is None or g.get("page_cache_hit") or response.status_code != 200 \
            or response.is_streamed or response.direct_passthrough:
        return response
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    if not response.get_etag()[0]:
        response.add_etag()
    return response.make_conditional(request)


def _store(sender: Flask, response: Response, **_extra: Any) -> None:
    """request_finished (after the session was saved): keep what is safe to share."""
    key = g.get("page_cache_key")
    cache = page_cache(sender)
    if key is None or cache is None or g.get("page_cache_hit") or response.status_code != 200:
        return
    if response.is_streamed or response.direct_passthrough or "Set-Cookie" in response.headers:
        return
    if request.cookies.get(sender.config.get("SESSION_COOKIE_NAME", "session")):
        return  # a visitor's session might have shaped the page: never share it
    cache_control = response.cache_control
    if cache_control.no_store or cache_control.private:
        return
    headers = [(k, v) for k, v in response.headers.items()
               if k.lower() not in ("content-length", "x-civic-cache")]
    cache.put(key, response.status_code, headers, response.get_data())


class FastHits:
    """WSGI middleware: answer cache hits for cookie-less visitors before Flask runs."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.cache: PageCache = app.extensions["civic_page_cache"]
        config = app.config
        self.languages = tuple(config["CIVIC_LANGUAGES"])
        self.default = config["BABEL_DEFAULT_LOCALE"]
        # the key's locale is str(flask_babel.get_locale()), i.e. of a parsed babel Locale
        self.locale_names = {code: str(Locale.parse(code))
                             for code in {*self.languages, self.default}}

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        method = environ.get("REQUEST_METHOD")
        if method == "GET" or method == "HEAD":  # noqa: PLR1714 - the common case first
            try:
                hit = self._lookup(environ)
            except Exception:  # noqa: BLE001 - anything odd (a bad Host...): Flask decides
                hit = None
            if hit is not None:
                return self._answer(environ, start_response, method, *hit)
        return self.wsgi_app(environ, start_response)

    def _lookup(self, environ: dict) -> tuple[int, list, bytes] | None:
        req = WsgiRequest(environ, populate_request=False)
        trusted_hosts = self.app.config["TRUSTED_HOSTS"]
        if trusted_hosts is not None:  # as Flask checks it
            req.trusted_hosts = trusted_hosts
        lang = None
        if environ.get("HTTP_COOKIE"):
            cookies = req.cookies
            if any(name not in ALLOWED_COOKIES for name in cookies):
                return None  # a session (maybe signed in, maybe flashes), remember-me...
            lang = cookies.get("lang")
        if lang not in self.languages:  # as civic.factory.select_locale, for a visitor
            lang = req.accept_languages.best_match(self.languages) or self.default
        key = (self.cache.read_generation(), req.host, req.scheme, req.path,
               req.query_string, self.locale_names[lang])
        return self.cache.get(key)

    @staticmethod
    def _answer(environ: dict, start_response: Callable, method: str, status: int,
                headers: list, body: bytes) -> Any:
        if environ.get("HTTP_IF_NONE_MATCH") or environ.get("HTTP_IF_MODIFIED_SINCE"):
            response = Response(body, status=status, headers=headers)
            response.headers["X-Civic-Cache"] = "hit"
            return response.make_conditional(environ)(environ, start_response)
        start_response(f"{status} {_REASONS.get(status, 'OK')}",
                       [*headers, ("Content-Length", str(len(body))),
                        ("X-Civic-Cache", "hit")])
        return [b""] if method == "HEAD" else [body]


_REASONS = {200: "OK"}


# Tables whose rows no cacheable page shows (registered by their domain, with the reason):
# a commit that writes only to these leaves the cache alone. Anything else, or a write whose
# table cannot be told, invalidates it.
QUIET_TABLES: set[str] = set()


def register_quiet_tables(*names: str) -> None:
    """Declare tables that no visitor's page or open-data answer reads while they change."""
    QUIET_TABLES.update(names)


def _written(session: Session) -> set[str]:
    return session.info.setdefault(_WROTE, set())


def _mark_flush(session: Session, _context: Any) -> None:
    tables = _written(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__table__", None)
        tables.add(getattr(table, "name", None) or "?")


def _mark_statement(state: Any) -> None:
    if not state.is_select:
        table = getattr(state.statement, "table", None)
        _written(state.session).add(getattr(table, "name", None) or "?")


def _after_commit(session: Session) -> None:
    tables = session.info.pop(_WROTE, None)
    if tables and not tables <= QUIET_TABLES and has_app_context():
        cache = page_cache()
        if cache is not None:
            cache.bump()


def _after_rollback(session: Session) -> None:
    session.info.pop(_WROTE, None)


_listening = False


def init_app(app: Flask) -> None:
    """Turn the cache on for this app (unless CIVIC_PAGE_CACHE_TTL is 0)."""
    global _listening  # noqa: PLW0603 - the session events are global to SQLAlchemy
    ttl = float(app.config.get("CIVIC_PAGE_CACHE_TTL", 0))
    if ttl <= 0:
        return
    generation_file = Path(app.config.get("CIVIC_PAGE_CACHE_GENERATION_FILE")
                           or Path(app.instance_path) / "page-cache-generation")
    app.extensions["civic_page_cache"] = PageCache(
        ttl, int(app.config.get("CIVIC_PAGE_CACHE_MAX_BYTES", 32 * 1024 * 1024)),
        generation_file)
    app.before_request(_serve)
    app.wsgi_app = FastHits(app, app.wsgi_app)  # type: ignore[method-assign]
    app.after_request(_prepare)
    request_finished.connect(_store, app)
    if not _listening:
        event.listen(Session, "after_flush", _mark_flush)
        event.listen(Session, "do_orm_execute", _mark_statement)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", lambda s, _t: _after_rollback(s))
        _listening = True
