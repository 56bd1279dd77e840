"""``execlog serve``: one process owning the store, serving receiver, API and viewer on one port."""

from __future__ import annotations

import gc
import logging
import signal
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field

from execlog_otel import clickhouse_http, connections
from execlog_otel.clickhouse_http import ClickHouseHttp
from execlog_otel.config import ConfigError, Settings, redact_url
from execlog_otel.retry.targets import is_loopback_host
from execlog_otel.store.client import DataDirLock, StoreError
from execlog_otel.store.store import Store

log = logging.getLogger(__name__)


# Worker threads of execlog serve and execlog viewer, and so clients in their store's pool: a request's reads
# run concurrently on several of them (ClientPool.submit).
THREADS = 8

# The garbage collector's thresholds in the processes of execlog serve, demo and viewer. A request for a big
# execution holds tens of thousands of objects at once (a thousand steps: their rows, attributes and JSON), and
# so does a large OTLP request being decoded. With Python's default first threshold (700 more allocations than
# deallocations) the collector ran dozens of times within each such request, promoting what was still in use,
# and the full collections that followed walked the whole heap: 20-35 ms of a 1,000-step detail's ~200 ms
# (gc.callbacks, 30 requests, 2 CPUs). Reference counting frees nearly all of it as soon as the request ends;
# a first threshold above a request's peak leaves the collector to what only it can free (reference cycles).
GC_THRESHOLDS = (50_000, 20, 10)


@dataclass
class RunningServer:
    """A started server: its URL, and how to stop it (flushing what it received)."""

    url: str
    settings: Settings
    store: Store
    _server: object
    _lock: DataDirLock | None
    _sink: object
    _owns_store: bool = True
    _thread: threading.Thread | None = None
    _closed: bool = field(default=False)
    clickhouse_http: ClickHouseHttp | None = None  # ClickHouse's HTTP interface on its own port

    def serve_forever(self) -> None:
        try:
            self._server.run()  # type: ignore[attr-defined]
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.close()

    def start_background(self) -> RunningServer:
        self._thread = threading.Thread(target=self._run_quiet, name="execlog-serve", daemon=True)
        self._thread.start()
        return self

    def _run_quiet(self) -> None:
        try:
            self._server.run()  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - closed underneath us during shutdown; say so otherwise
            if not self._closed:
                log.exception("the server loop stopped")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # waitress's close() leaves the worker threads and the open connections behind (threads that ran chDB
        # queries each hold a few file descriptors), and closes what a request in flight still needs.
        connections.stop(self._server)
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.clickhouse_http is not None:
            self.clickhouse_http.close()
        close = getattr(self._sink, "close", None)
        if close:
            close()
        if self._owns_store:
            self.store.close()
        if self._lock is not None:
            self._lock.release()


def start(settings: Settings, on_ready: Callable[[RunningServer], None] | None = None,
          threads: int = THREADS, store: Store | None = None) -> RunningServer:
    """Open (and lock) the store, build the app and bind the port. Raises StoreError with a clear message.

    Tests pass ``store`` (their process already holds the embedded engine); it is then not locked
    nor closed by the server."""
    from waitress import create_server

    from execlog_otel.ingest.wal import WalError
    from execlog_otel.viewer.app import create_app
    from execlog_otel.viewer.guess_screen import GuessScreen

    check_bind(settings)
    owns_store = store is None
    with ExitStack() as undo:  # what was opened is closed again if a later step fails
        lock = None
        if owns_store and settings.embedded:
            lock = DataDirLock(settings.resolved_data_dir)
            lock.acquire()
            undo.callback(lock.release)
        if store is None:
            store = Store.open(settings.store_url, settings.database, settings.retention_days, pool_size=threads,
                               prices_file=settings.prices_file)
            undo.callback(store.close)
        try:
            sink = open_sink(settings, store, owns_store)
        except WalError as exc:
            raise StoreError(str(exc)) from None
        undo.callback(sink.close)
        app = create_app(settings, store, sink=sink)
        try:
            # Many idle connections are cheap, slow requests end, forwarded headers only from declared
            # proxies, guesses over the limit turned away before the app: see execlog_otel.connections.
            server = connections.install(create_server(
                app, host=settings.host, port=settings.port, threads=threads,
                max_request_body_size=settings.max_body_bytes + 1024, ident="execlog",
                **connections.waitress_options(settings.trusted_proxies)), screen=GuessScreen(app))
        except OSError as exc:
            raise StoreError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}") from None
        undo.pop_all()  # started: RunningServer.close() owns them now
    host = settings.host if settings.host not in ("0.0.0.0", "::") else "127.0.0.1"
    url = f"http://{host}:{server.effective_port}"  # type: ignore[attr-defined]
    running = RunningServer(url=url, settings=settings, store=store, _server=server, _lock=lock, _sink=sink,
                            _owns_store=owns_store)
    try:
        running.clickhouse_http = clickhouse_http.start(settings)
    except Exception:
        running.close()
        raise
    if lock:
        lock.set_url(url, clickhouse_http=running.clickhouse_http.url if running.clickhouse_http else "")
    if on_ready:
        on_ready(running)
    return running


def _file_has_ingest_tokens(settings: Settings) -> bool:
    if not settings.auth_file:
        return False
    from execlog_otel.viewer import people

    try:
        return people.load(settings.auth_file, {}, "", "").ingest_required
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def check_bind(settings: Settings, receiver: bool = True) -> None:
    """Refuse to expose an unauthenticated viewer, API or receiver beyond this machine unless told to."""
    if is_loopback_host(settings.host) or settings.insecure_allow_remote:
        return
    missing = []
    if not settings.auth_enabled:
        missing.append("EXECLOG_AUTH_TOKEN, EXECLOG_AUTH_USERS or EXECLOG_AUTH_FILE (viewer and API)")
    if receiver and not settings.ingest_token and not _file_has_ingest_tokens(settings):
        missing.append("EXECLOG_INGEST_TOKEN or ingest_tokens in EXECLOG_AUTH_FILE (OTLP receiver)")
    if missing:
        raise ConfigError(
            f"refusing to listen on {settings.host}: it is reachable from other machines and no authentication "
            f"is set. Set {' and '.join(missing)}, or pass --insecure-allow-remote "
            "(EXECLOG_INSECURE_ALLOW_REMOTE=true) if something in front already controls access.")


def open_sink(settings: Settings, store: Store, owns_store: bool):
    """The server's ingest: the write-ahead log in the data directory (or EXECLOG_SPOOL_DIR) and its writer.

    A server over a store it was handed (tests) keeps a log only where EXECLOG_SPOOL_DIR says; without one
    (or with EXECLOG_SPOOL_MAX_BYTES=0) each request is inserted before it is answered."""
    from execlog_otel.ingest.acceptance import Converter
    from execlog_otel.ingest.adopt import EXPORTER_LOG, adopt_siblings
    from execlog_otel.ingest.legacy_spool import import_legacy
    from execlog_otel.ingest.sink import StoreSink
    from execlog_otel.ingest.wal import Wal
    from execlog_otel.store import span_arrow

    wal = None
    if settings.spool_max_bytes > 0 and (owns_store or settings.spool_dir):
        wal = Wal(settings.resolved_spool_dir, settings.spool_max_bytes,
                  convert=Converter(settings.retry_secret))
        # Arrow's one-time set-up now, not on the first requests (their acknowledgements would wait for it);
        # here, not in Wal: the SDK's exporter opens a log in every application, which should not pay it.
        span_arrow.warm_up()
        import_legacy(wal)
        if settings.embedded:
            # Runners send to this server while it runs; what their own logs kept (the store was down,
            # or a runner was killed) is written by it, as no runner opens the embedded store meanwhile.
            adopt_siblings(wal, settings.resolved_spool_dir / EXPORTER_LOG, settings.spool_max_bytes)
    return StoreSink(store, wal, settings=settings.insert_settings, batch_rows=settings.log_batch_spans,
                     linger_s=settings.log_linger_ms / 1000)


def viewer_store(settings: Settings, threads: int = THREADS) -> Store:
    """The store of ``execlog viewer``: read-only (ClickHouse ``readonly=2``: reads and query limits only),
    a pool of ``threads`` clients so concurrent requests do not wait for each other."""
    return Store.open(settings.read_store_url, settings.database, settings.retention_days, migrate=False,
                      readonly=True, pool_size=threads)


def tune_garbage_collection() -> None:
    """Set GC_THRESHOLDS for this process (a server's: see there)."""
    gc.set_threshold(*GC_THRESHOLDS)


def install_signal_handlers() -> None:
    """SIGTERM stops like Ctrl-C: the serve loop ends and ``close()`` flushes."""

    def stop(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def describe(running: RunningServer) -> str:
    s = running.settings
    store = f"embedded store in {s.resolved_data_dir}" if s.embedded else redact_url(s.store_url)
    return (f"execlog serving {store}\n"
            f"  viewer:   {running.url}/\n"
            f"  API:      {running.url}/api/executions\n"
            f"  runners:  export OTEL_EXPORTER_OTLP_ENDPOINT={running.url}\n"
            + clickhouse_http.describe(running.clickhouse_http))
