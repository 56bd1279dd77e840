"""Where the viewer may send a retry request: the runner's URL checked as a URL, never as a string.

A retry URL comes from span data (the ``execlog.retry.url`` resource attribute), so whoever can send
spans would otherwise choose where the server sends requests. Every URL is parsed into scheme, host,
port and path; the host is normalised (``0x7f000001``, ``2130706433``, ``127.1`` and
``::ffff:127.0.0.1`` are all ``127.0.0.1``) and the path's dot segments are resolved, so
``/allowed/../secret`` is ``/secret``. ``EXECLOG_RETRY_ALLOWED_URLS`` entries are parsed the same way
and match a target with the same scheme, host and port whose path is the entry's path or lies under it
on a segment boundary (``/allowed`` covers ``/allowed/x``, not ``/allowed-not/x``). Without an allowlist
only loopback targets are called, and only while the viewer itself listens on loopback (the demo and a
runner on the same machine); otherwise the refusal says to set ``EXECLOG_RETRY_ALLOWED_URLS``.
The URL actually called is rebuilt from the checked parts, so what was checked is what is called.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


class TargetRefused(ValueError):
    """A retry URL the viewer will not call; the message says why and what to set."""


def normalise_host(host: str) -> str:
    """The canonical form of a host: an IP address in standard notation, or a lower-case name."""
    host = host.strip().strip("[]").rstrip(".").lower()
    host = host.split("%", 1)[0]  # an IPv6 zone names an interface, not another host
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
        if host and all(c in "0123456789abcdefx." for c in host):
            try:  # the forms inet_aton accepts and connect() would use: 2130706433, 0x7f000001, 0177.1, 127.1
                ip = ipaddress.IPv4Address(socket.inet_aton(host))
            except OSError:
                ip = None
    if ip is None:
        return host
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


def _normalise_path(raw: str) -> str:
    """The path with percent-escapes decoded and dot segments resolved (RFC 3986 remove_dot_segments)."""
    path = unquote(raw or "/")
    if "\\" in path or any(ord(c) < 0x20 for c in path):
        raise TargetRefused("the path has backslashes or control characters")
    out: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if out:
                out.pop()
        elif segment != ".":
            out.append(segment)
    return "/" + "/".join(out)


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # normalised
    port: int
    path: str  # normalised, starts with "/"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"

    @property
    def is_loopback(self) -> bool:
        if self.host in LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def under(self, prefix: Target) -> bool:
        """Same scheme, host and port, and a path equal to ``prefix``'s or below it on a segment boundary."""
        if (self.scheme, self.host, self.port) != (prefix.scheme, prefix.host, prefix.port):
            return False
        base = prefix.path.rstrip("/")
        return not base or self.path == base or self.path.startswith(base + "/")


def is_loopback_host(host: str) -> bool:
    """Whether a bind or target host is a loopback address (in any form) or a loopback name."""
    return Target("http", normalise_host(host), 80, "/").is_loopback


def parse(url: str) -> Target:
    """Parse an http(s) URL into a Target; TargetRefused when it is not a plain one."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"{url!r} is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise TargetRefused(f"{url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise TargetRefused(f"{url!r} carries credentials")
    if parts.query or parts.fragment:
        raise TargetRefused(f"{url!r} has a query or fragment; a retry listener URL has neither")
    return Target(scheme, normalise_host(parts.hostname), port or DEFAULT_PORTS[scheme], _normalise_path(parts.path))


def parse_allowlist(entries: tuple[str, ...]) -> tuple[Target, ...]:
    out = []
    for entry in entries:
        try:
            out.append(parse(entry))
        except TargetRefused as exc:
            raise ValueError(f"EXECLOG_RETRY_ALLOWED_URLS: {exc}") from None
    return tuple(out)


def check(url: str, allowed: tuple[Target, ...], viewer_on_loopback: bool) -> Target:
    """The Target to call for ``url``, or TargetRefused with a message for people."""
    try:
        target = parse(url)
    except TargetRefused as exc:
        raise TargetRefused(f"the announced retry URL {exc}; check the runner's execlog.retry.url resource "
                            "attribute") from None
    if allowed:
        if not any(target.under(prefix) for prefix in allowed):
            raise TargetRefused(f"the announced retry URL {target.url} is not under EXECLOG_RETRY_ALLOWED_URLS; "
                                "add the runner's listener there to retry it")
        return target
    if not viewer_on_loopback:
        raise TargetRefused("retry targets are not confined: this viewer listens beyond loopback, so set "
                            "EXECLOG_RETRY_ALLOWED_URLS to the URLs of your runners' retry listeners")
    if not target.is_loopback:
        raise TargetRefused(f"the announced retry URL {target.url} is not on this machine; without "
                            "EXECLOG_RETRY_ALLOWED_URLS only loopback listeners are called, so set it to the "
                            "URLs of your runners' retry listeners")
    return target
