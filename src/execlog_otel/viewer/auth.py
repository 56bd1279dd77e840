"""Access control of the viewer and API: sign-in, sessions, bearer token, CSRF.

Authentication is on when ``EXECLOG_AUTH_TOKEN`` and/or ``EXECLOG_AUTH_USERS``
(``user:hash`` pairs, werkzeug scrypt hashes from ``execlog hash-password``)
are set. Then every route needs a signed-in session (``/login``) or an
``Authorization: Bearer <token>`` header, except the sign-in page itself, the
health check, static files (the app's own code, no data) and the OTLP
receiver, which has its own ``EXECLOG_INGEST_TOKEN``.

State-changing requests (anything but GET/HEAD/OPTIONS) from a browser need
a CSRF token — also when authentication is off, since a page on another site
can still make the browser post to a viewer on localhost. The token lives in
the ``execlog_csrf`` cookie (HttpOnly, SameSite=Strict) and must come back in
an ``X-CSRF-Token`` header or a ``csrf_token`` form field: another site can
neither read it nor send that header. Templates get it from the
``csrf_token()`` Jinja global; scripts from ``GET /api/session`` (or
``GET /api/retry/csrf``, the same token). Bearer-token requests carry no
ambient credentials and need no CSRF token.

Guessing is limited (``viewer.throttle``): failed sign-ins per client address and per user name, and
wrong bearer tokens per address, answer 429 with ``Retry-After`` before any password is hashed; a
sign-in naming an unknown user hashes against a stand-in so it costs what a known one does. Each
session carries an id that logout revokes on the server, so a copied cookie stops working then too;
sessions last ``SESSION_LIFETIME``. The session and CSRF cookies are ``Secure`` whenever the request
came over HTTPS — directly, or through a reverse proxy declared in ``EXECLOG_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import functools
import hmac
import logging
import re
import secrets
import threading
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from werkzeug.security import check_password_hash, generate_password_hash

from execlog_otel.config import Settings
from execlog_otel.ingest import RECEIVER_ENDPOINTS
from execlog_otel.viewer import people as people_mod
from execlog_otel.viewer.people import NOBODY, People, Principal
from execlog_otel.viewer.throttle import TOO_MANY_CODE, GuessLimiter, Refusal

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

CSRF_HEADER = "X-CSRF-Token"
CSRF_COOKIE = "execlog_csrf"  # shared with viewer.retry_api
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Reachable without signing in: the sign-in page, the health check, the app's own static files, and the
# receiver (guarded by its own ingest token).
PUBLIC_ENDPOINTS = frozenset({"auth.login", "api.health", "static", *RECEIVER_ENDPOINTS})
# Not browser-facing, or guarded otherwise: OTLP clients do not hold a session.
CSRF_EXEMPT_ENDPOINTS = RECEIVER_ENDPOINTS
SESSION_LIFETIME = timedelta(hours=12)


class SessionRevocations:
    """Ids of sessions ended by logout, kept as long as their cookie could still be presented."""

    def __init__(self, lifetime_s: float = SESSION_LIFETIME.total_seconds()) -> None:
        self._lifetime_s = lifetime_s
        self._revoked: dict[str, float] = {}
        self._lock = threading.Lock()

    def revoke(self, sid: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._revoked = {k: t for k, t in self._revoked.items() if now - t < self._lifetime_s}
            self._revoked[sid] = now

    def is_revoked(self, sid: str) -> bool:
        with self._lock:
            return sid in self._revoked


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the cookie ``Secure`` exactly when the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure


def hash_password(password: str) -> str:
    """A salted scrypt hash for ``EXECLOG_AUTH_USERS``."""
    return generate_password_hash(password, method="scrypt")


# What werkzeug's check_password_hash can check: method[:parameters]$salt$hex digest, by scrypt or pbkdf2.
_PASSWORD_HASH = re.compile(r"^(scrypt(:\d+:\d+:\d+)?|pbkdf2(:[A-Za-z0-9_-]+(:\d+)?)?)\$[^$]+\$[0-9a-f]+$")


def parse_users(entries: tuple[str, ...]) -> dict[str, str]:
    users = {}
    for entry in entries:
        name, sep, hashed = entry.partition(":")
        if not sep or not name or not hashed:
            raise ValueError("EXECLOG_AUTH_USERS: expected comma-separated user:hash pairs "
                             "(make a hash with `execlog hash-password`)")
        if not _PASSWORD_HASH.match(hashed):
            # A plain password would start the server and then refuse every sign-in; never echo it.
            raise ValueError(f"EXECLOG_AUTH_USERS: the entry of user {name!r} is not a password hash: write "
                             f"{name}:<hash>, the hash made by `execlog hash-password`")
        users[name] = hashed
    return users


def _settings() -> Settings:
    return current_app.config["EXECLOG_SETTINGS"]


def csrf_token() -> str:
    """The browser's CSRF token; a new one is set as a cookie on this response when it has none."""
    token = getattr(g, "execlog_new_csrf", None) or request.cookies.get(CSRF_COOKIE, "")
    if len(token) < 32:
        token = g.execlog_new_csrf = secrets.token_urlsafe(32)
    return token


def _set_csrf_cookie(response: Response) -> Response:
    token = getattr(g, "execlog_new_csrf", None)
    if token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="Strict", secure=request.is_secure,
                            path="/")
    return response


def _guesses() -> GuessLimiter:
    return current_app.extensions["execlog_guesses"]


def people() -> People:
    """Everyone who may sign in or call the API (``viewer.people``), loaded when the app was built."""
    return current_app.extensions["execlog_people"]


def _bearer(settings: Settings) -> Principal | None | Refusal:
    """The principal of a right bearer token; a Refusal while this address is over its limit of wrong ones."""
    header = request.headers.get("Authorization", "")
    book = people()
    if not book.tokens or not header.startswith("Bearer "):
        return None
    address = request.remote_addr or ""
    refusal = _guesses().check(address)
    if refusal:
        return refusal
    principal = book.token(header[7:].strip())
    if principal is None:
        _guesses().failed(address)
    return principal


def _too_many(refusal: Refusal) -> Response:
    if _wants_json():
        resp = jsonify(error=refusal.message, code=TOO_MANY_CODE)
    else:
        resp = Response(f"429: {refusal.message}\n", content_type="text/plain; charset=utf-8")
    resp.status_code = 429
    resp.headers["Retry-After"] = str(refusal.retry_after_s)
    return resp


def _session_principal() -> Principal | None:
    user = session.get("user")
    sid = session.get("sid")
    if not user or not isinstance(sid, str) or current_app.extensions["execlog_revoked"].is_revoked(sid):
        return None
    digest = session.get("token_sha256")
    if isinstance(digest, str):  # signed in with a token: its roles
        return people().tokens.get(digest)
    return people().users.get(user)


def current_user() -> str | None:
    """Who is signed in (the token's name for bearer-token requests), or None."""
    return getattr(g, "execlog_user", None)


def current_principal() -> Principal:
    """Who makes this request, with their roles (everything when authentication is off)."""
    principal = getattr(g, "execlog_principal", None)
    if principal is not None:
        return principal
    return NOBODY if not _settings().auth_enabled else Principal("", "user")


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _deny(status: int, code: str, message: str) -> Response:
    if _wants_json():
        resp = jsonify(error=message, code=code)
        resp.status_code = status
        if status == 401:
            resp.headers["WWW-Authenticate"] = 'Bearer realm="execlog"'
        return resp
    if status == 401:
        return redirect(url_for("auth.login", next=_local_path(request.full_path)))
    return Response(f"{status}: {message}\n", status=status, content_type="text/plain; charset=utf-8")


def _local_path(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    target = (target or "").rstrip("?")
    parsed = urlparse(target)
    if not target.startswith("/") or target.startswith("//") or parsed.scheme or parsed.netloc or "\\" in target:
        return "/"
    return target


def check_request() -> Response | None:
    """before_request: authenticate, then check CSRF on state-changing requests."""
    settings = _settings()
    endpoint = request.endpoint or ""
    bearer = None if endpoint in RECEIVER_ENDPOINTS else _bearer(settings)  # the receiver takes ingest tokens
    if isinstance(bearer, Refusal):
        return _too_many(bearer)
    principal = bearer or _session_principal()
    g.execlog_principal = principal if settings.auth_enabled else NOBODY
    g.execlog_user = principal.name if principal else None
    if settings.auth_enabled and endpoint not in PUBLIC_ENDPOINTS and not g.execlog_user:
        return _deny(401, "sign_in_required", "sign in first: open /login, or send 'Authorization: Bearer <token>'")
    if request.method not in SAFE_METHODS and endpoint not in CSRF_EXEMPT_ENDPOINTS and not bearer:
        sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
        expected = request.cookies.get(CSRF_COOKIE, "")
        if len(expected) < 32 or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
            return _deny(403, "csrf", f"missing or wrong CSRF token: send the page's token in the {CSRF_HEADER} "
                                      "header (reload the page if it has expired)")
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    settings = _settings()
    target = _local_path(request.values.get("next"))
    if not settings.auth_enabled:
        return redirect(target)
    error = ""
    status = 200
    if request.method == "POST":
        name = request.form.get("user", "")
        password = request.form.get("password", "")
        token = request.form.get("token", "")
        address = request.remote_addr or ""
        refusal = _guesses().check(address, None if token else name)
        if refusal is None:
            user = _check_credentials(settings, name, password, token)
            if isinstance(user, Refusal):
                refusal = user
            elif user:
                session.clear()
                session.permanent = True
                session["user"] = user.name
                if user.kind == "token":
                    session["token_sha256"] = people_mod.token_digest(token)
                session["sid"] = secrets.token_urlsafe(24)
                g.execlog_new_csrf = secrets.token_urlsafe(32)  # a fresh CSRF token after sign-in
                log.info("signed in: %s", user.name)
                return redirect(target)
            else:
                _guesses().failed(address, None if token else name)
                log.warning("failed sign-in from %s", address)
                error, status = "Wrong user name, password or token.", 401
        if refusal is not None:
            # A refused attempt (the user name is over its limit, or too many hash at once) counts against
            # its address too: a client that keeps sending them is soon refused by address, which the
            # server does before the app (viewer.guess_screen) instead of answering each one here.
            _guesses().failed(address)
            log.warning("sign-in refused (rate limit) from %s", address)
            error, status = f"Too many failed sign-ins: {refusal.message.split(': ', 1)[-1]}.", 429
            page = render_template("login.html", error=error, next=target, with_users=bool(people().passwords),
                                   with_token=bool(people().tokens))
            return page, 429, {"Retry-After": str(refusal.retry_after_s)}
    return render_template("login.html", error=error, next=target, with_users=bool(people().passwords),
                           with_token=bool(people().tokens)), status


def _check_credentials(settings: Settings, name: str, password: str, token: str) -> Principal | None | Refusal:
    """Who these credentials sign in, None when wrong, a Refusal when too many hash at once.

    A name that is not a user is hashed against a stand-in hash, so that it costs what a known one does
    and the answer's timing does not tell which user names exist."""
    if token:
        return people().token(token)
    users = people().passwords
    slots = _guesses().hashing()
    if not slots.acquire(blocking=False):
        return Refusal(1, "too many sign-ins at once: try again in 1 s")
    try:
        stored = users.get(name)
        ok = check_password_hash(stored or stand_in_hash(), password)
    finally:
        slots.release()
    return people().users.get(name) if ok and stored is not None and password else None


@functools.cache
def stand_in_hash() -> str:
    """What a sign-in naming an unknown user is checked against: a hash made like the users' hashes."""
    return hash_password(secrets.token_urlsafe(16))


@bp.post("/logout")
def logout() -> Any:
    sid = session.get("sid")
    if isinstance(sid, str):
        current_app.extensions["execlog_revoked"].revoke(sid)  # the cookie may have been copied: end it here
    session.clear()
    return redirect(url_for("auth.login"))


@bp.get("/api/session")
def session_info() -> Any:
    """Who is signed in and the CSRF token scripts send with state-changing requests."""
    principal = current_principal()
    return jsonify(user=current_user(), auth_enabled=_settings().auth_enabled, csrf_token=csrf_token(),
                   admin=principal.admin, sees_all_projects=principal.sees_all,
                   roles={} if principal.admin else dict(principal.roles))


def init_app(app: Flask, settings: Settings) -> None:
    """Install sign-in, the access check and CSRF protection on ``app``."""
    app.secret_key = settings.secret_key or secrets.token_hex(32)
    app.config.update(SESSION_COOKIE_NAME="execlog_session", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Strict", PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME)
    app.session_interface = _SessionInterface()
    app.extensions["execlog_guesses"] = GuessLimiter()
    app.extensions["execlog_revoked"] = SessionRevocations()

    try:
        app.extensions["execlog_people"] = people_mod.load(settings.auth_file, parse_users(settings.auth_users),
                                                           settings.auth_token, settings.ingest_token)
    except ValueError as exc:
        from execlog_otel.config import ConfigError

        raise ConfigError(str(exc)) from None
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_user"] = current_user
    app.jinja_env.globals["current_principal"] = current_principal
    app.register_blueprint(bp)
    app.before_request(check_request)
    app.after_request(_set_csrf_cookie)
