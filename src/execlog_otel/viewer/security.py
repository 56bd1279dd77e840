"""Response headers that keep untrusted span data inert in the browser, and which proxy headers are believed.

Span attributes are rendered as text (autoescaped templates, ``textContent`` in
scripts); the Content-Security-Policy is the second line: scripts and styles
only from the app's own static files, no inline script or style, no plugins,
no framing (``frame-ancestors 'none'``), forms and fetches only to this origin.

Behind a reverse proxy that terminates TLS, the app learns the client's address and scheme only from
``X-Forwarded-For`` / ``X-Forwarded-Proto`` / ``X-Forwarded-Host``. Anyone can send those headers, so
they are believed only when the TCP peer is a proxy the operator declared in
``EXECLOG_TRUSTED_PROXIES`` (addresses or networks); then werkzeug's ``ProxyFix`` applies one hop of
them. From any other peer they are dropped, so a client cannot claim https or another address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from execlog_otel.config import ConfigError

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def security_headers(response: Any) -> Any:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


FORWARDED_HEADERS = ("HTTP_FORWARDED", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
                     "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PREFIX")


def parse_proxies(entries: Iterable[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    out = []
    for entry in entries:
        try:
            out.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ConfigError(f"EXECLOG_TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                              "(e.g. 127.0.0.1 or 10.0.0.0/8)") from None
    return tuple(out)


PROXY_HOPS = {"x_for": 1, "x_proto": 1, "x_host": 1, "x_port": 1}  # one proxy in front, as ProxyFix counts


def _remote_addr(environ: dict[str, Any], start_response: Any) -> str:
    return environ.get("REMOTE_ADDR", "")


class TrustedProxies:
    """WSGI middleware: ProxyFix for requests from declared proxies, forwarded headers dropped otherwise."""

    def __init__(self, app: Callable[..., Any], proxies: Iterable[str]) -> None:
        self.networks = parse_proxies(proxies)
        self.app = app
        self.fixed = ProxyFix(app, **PROXY_HOPS)
        self._address = ProxyFix(_remote_addr, **PROXY_HOPS)

    def client_address(self, peer: str, forwarded_for: str | None) -> str:
        """The ``request.remote_addr`` the app gets for a request from ``peer`` carrying this X-Forwarded-For
        (the same rule, for code that looks at requests before the app does)."""
        if not forwarded_for or not (self.networks and self._trusted(peer)):
            return peer
        return self._address({"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": forwarded_for}, None)

    def _trusted(self, peer: str) -> bool:
        try:
            ip = ipaddress.ip_address(peer.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in net for net in self.networks)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.networks and self._trusted(environ.get("REMOTE_ADDR", "")):
            return self.fixed(environ, start_response)
        for name in FORWARDED_HEADERS:
            environ.pop(name, None)
        return self.app(environ, start_response)


def init_app(app: Flask, trusted_proxies: Iterable[str] = ()) -> None:
    app.after_request(security_headers)
    proxies = TrustedProxies(app.wsgi_app, trusted_proxies)
    app.wsgi_app = proxies  # type: ignore[method-assign]
    app.extensions["execlog_proxies"] = proxies
