"""Requests to a server without authentication: only under a loopback name, never from another site's page.

Without authentication ``execlog serve`` listens on loopback only, and the address alone does not keep a
browser out: any page the user visits can send requests to 127.0.0.1 (an ``<img>``, a form), and a page
whose own name it points at 127.0.0.1 afterwards (DNS rebinding) is then same-origin with the server and
reads its answers — CSRF tokens included. So such a server answers only requests whose ``Host`` is a loopback
name or address (or ``EXECLOG_BASE_URL``'s host), and the ClickHouse endpoint, which has no CSRF token, none
that a browser marks as sent by another site's page (``Sec-Fetch-Site``). With authentication on, or with
``EXECLOG_INSECURE_ALLOW_REMOTE`` (something in front controls access), credentials and that decide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from execlog_otel.config import Settings
from execlog_otel.retry.targets import is_loopback_host

# What a browser says of a request made by another site's page (same-site: another port of this host too).
FOREIGN_SITES = ("cross-site", "same-site")


def _hostname(host: str) -> str:
    try:
        return (urlsplit(f"//{host}").hostname or "").lower()
    except ValueError:  # a malformed port or bracket
        return ""


class LocalOnly:
    """WSGI middleware: the checks above, when the server has no authentication and stays on loopback."""

    def __init__(self, app: Callable[..., Iterable[bytes]], settings: Settings, refuse_foreign_sites: bool = False):
        self.app = app
        self.on = not settings.auth_enabled and not settings.insecure_allow_remote
        self.base_host = _hostname(urlsplit(settings.base_url).netloc) if settings.base_url else ""
        self.refuse_foreign_sites = refuse_foreign_sites

    def refusal(self, environ: dict[str, Any]) -> tuple[str, str] | None:
        """(status, message) for a request this server does not answer; None to serve it."""
        if not self.on:
            return None
        host = environ.get("HTTP_HOST", "")
        name = _hostname(host)
        if not name or not (is_loopback_host(name) or name == self.base_host):
            return ("421 Misdirected Request",
                    f"Host {host[:100]!r} is not a name of this server: without authentication execlog answers "
                    "only under localhost or a loopback address (another site can point its own name at this "
                    "address). Open it as http://127.0.0.1:<port>, set EXECLOG_BASE_URL to the URL you use, or "
                    "turn authentication on (EXECLOG_AUTH_TOKEN or EXECLOG_AUTH_USERS).")
        if self.refuse_foreign_sites and environ.get("HTTP_SEC_FETCH_SITE", "").lower() in FOREIGN_SITES:
            return ("403 Forbidden",
                    "a request from another site's page is refused: without authentication this endpoint "
                    "answers programs (Grafana, ClickHouse clients, scripts) and its own pages only. Turn "
                    "authentication on (EXECLOG_AUTH_TOKEN or EXECLOG_AUTH_USERS) to query it from a browser.")
        return None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        refused = self.refusal(environ)
        if refused is None:
            return self.app(environ, start_response)
        status, message = refused
        body = (message + "\n").encode()
        start_response(status, [("Content-Type", "text/plain; charset=UTF-8"), ("Content-Length", str(len(body)))])
        return [body]
