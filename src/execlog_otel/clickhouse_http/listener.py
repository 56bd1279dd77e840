"""The endpoint's own port inside ``execlog serve``: bound next to the viewer's, served by its own threads.

Port: ``EXECLOG_CLICKHOUSE_HTTP_PORT`` / ``--clickhouse-http-port`` — 8123 (ClickHouse's) by default, or a
free port when 8123 is taken; ``0`` picks a free port; ``off`` turns the endpoint off. Without
authentication it listens on loopback only, whatever ``--host`` says: it answers any SQL read.
"""

from __future__ import annotations

import errno
import logging
import threading
from dataclasses import dataclass, field

from execlog_otel import connections
from execlog_otel.clickhouse_http.app import ClickHouseApp
from execlog_otel.clickhouse_http.auth import Authenticator
from execlog_otel.clickhouse_http.engine import Engine
from execlog_otel.clickhouse_http.request import MAX_QUERY_BYTES
from execlog_otel.config import ConfigError, Settings, port_or_off
from execlog_otel.local_only import LocalOnly
from execlog_otel.retry.targets import is_loopback_host
from execlog_otel.store.client import StoreError

log = logging.getLogger(__name__)

DEFAULT_PORT = 8123
THREADS = 4


@dataclass
class ClickHouseHttp:
    """A running endpoint: where it listens and how to stop it; ``note`` says why it is elsewhere or off."""

    url: str
    database: str
    note: str = ""
    _server: object = None
    _engine: Engine | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    def close(self) -> None:
        if self._server is not None:
            connections.stop(self._server)
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._engine is not None:
            self._engine.close()


def port_setting(raw: str) -> int | None:
    """The configured port: None when off."""
    try:
        return port_or_off(raw, DEFAULT_PORT)
    except ValueError:
        raise ConfigError(f"EXECLOG_CLICKHOUSE_HTTP_PORT={raw!r}: expected a port number, 0 (any free port) or off") \
            from None


def _bind_host(settings: Settings) -> tuple[str, str]:
    if settings.auth_enabled or is_loopback_host(settings.host):
        return settings.host, ""
    return "127.0.0.1", (f"on loopback only: {settings.host} is reachable from other machines and no "
                         "authentication is set (EXECLOG_AUTH_TOKEN or EXECLOG_AUTH_USERS)")


def start(settings: Settings) -> ClickHouseHttp | None:
    """Bind and serve the endpoint in the background; None when it is off. StoreError when it cannot bind."""
    from waitress import create_server

    port = port_setting(settings.clickhouse_http_port)
    if port is None:
        return None
    if not settings.embedded:
        return ClickHouseHttp(url="", database=settings.database,
                              note="off: the store is a ClickHouse server; point clients at it directly")
    host, note = _bind_host(settings)
    engine = Engine(settings.store_url, settings.database, settings.query_timeout_s, size=THREADS)
    app = LocalOnly(ClickHouseApp(engine, Authenticator(settings)), settings, refuse_foreign_sites=True)
    kwargs = dict(host=host, threads=THREADS, channel_timeout=max(int(settings.query_timeout_s) + 30, 60),
                  ident="execlog-clickhouse", clear_untrusted_proxy_headers=True, asyncore_use_poll=True,
                  max_request_body_size=MAX_QUERY_BYTES + 1024)
    try:
        server = create_server(app, port=port, **kwargs)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE and port == DEFAULT_PORT and not settings.clickhouse_http_port:
            server = create_server(app, port=0, **kwargs)  # 8123 is taken (a ClickHouse server?): any free port
            note = "; ".join(n for n in (note, f"port {DEFAULT_PORT} is taken") if n)
        else:
            engine.close()
            raise StoreError(f"ClickHouse HTTP endpoint: cannot listen on {host}:{port}: "
                             f"{exc.strerror or exc}") from None
    shown = host if host not in ("0.0.0.0", "::") else "127.0.0.1"
    running = ClickHouseHttp(url=f"http://{shown}:{server.effective_port}", database=settings.database,  # type: ignore[attr-defined]
                             note=note, _server=server, _engine=engine)
    running._thread = threading.Thread(target=_serve, args=(server,), name="execlog-clickhouse-http", daemon=True)
    running._thread.start()
    return running


def _serve(server: object) -> None:
    try:
        server.run()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - closed underneath during shutdown
        log.debug("clickhouse-http loop ended", exc_info=True)


def describe(running: ClickHouseHttp | None) -> str:
    """The endpoint's line of ``execlog serve``'s banner."""
    if running is None:
        return "  ClickHouse HTTP: off (EXECLOG_CLICKHOUSE_HTTP_PORT=off)\n"
    if not running.url:
        return f"  ClickHouse HTTP: {running.note}\n"
    note = f" — {running.note}" if running.note else ""
    return f"  ClickHouse HTTP: {running.url} (database {running.database}; Grafana, ClickHouse clients){note}\n"


def grafana_settings(running: ClickHouseHttp | None, settings: Settings) -> str:
    """The Grafana data source settings for the endpoint (``execlog demo`` prints them)."""
    if running is None or not running.url:
        return ""
    host, _, port = running.url.removeprefix("http://").rpartition(":")
    password = "EXECLOG_AUTH_TOKEN (or a user of EXECLOG_AUTH_USERS)" if settings.auth_enabled else "(none)"
    return ("Grafana (ClickHouse data source; or dashboards/provisioning/datasources-embedded/):\n"
            f"  protocol HTTP, server {host}, port {port}, database {running.database}, user default, "
            f"password {password}\n")
