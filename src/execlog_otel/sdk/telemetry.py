"""``configure()``: the one call that makes a process write an execution log.

Target, from one setting: ``EXECLOG_CLICKHOUSE_URL`` (or ``clickhouse_url=``)
writes straight to ClickHouse through ``ClickHouseSpanExporter``; otherwise
spans go as OTLP/HTTP to ``Settings.endpoint`` (the local ``execlog serve``, or a
Collector). Spans are exported every ``flush_interval_ms`` (default 500 ms) so
the log feels live, and flushed at interpreter exit.

If the process already has an SDK TracerProvider, the exporter is added to it
(nothing of the application's setup is replaced); otherwise one is created and
set as the global provider. Calling ``configure()`` again returns the same
handle, applying the payload cap, redaction and code-capture settings and
merging new resource attributes; after ``handle.shutdown()`` a new call sets up
a new export pipeline.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from execlog_otel.config import ConfigError, Settings
from execlog_otel.sdk import execution_stamp
from execlog_otel.sdk.runtime import RUNTIME, TRACER_NAME, Redactor
from execlog_otel.semconv import RESOURCE_PROJECT, RESOURCE_RETRY_URL

log = logging.getLogger(__name__)

MAX_FLUSH_INTERVAL_MS = 60_000


@dataclass
class Telemetry:
    """What ``configure()`` set up: the provider, the export pipeline, the settings in force."""

    tracer_provider: TracerProvider
    settings: Settings
    exporter: SpanExporter
    processor: BatchSpanProcessor
    owns_provider: bool
    target: str
    _closed: bool = field(default=False, repr=False)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export every ended span now; True when done within the timeout."""
        if self._closed:
            return True
        return self.processor.force_flush(timeout_millis)

    def shutdown(self) -> None:
        """Flush and stop the export pipeline; a later ``configure()`` starts a new one."""
        global _current
        with _lock:
            if self._closed:
                return
            self._closed = True
            if _current is self:
                _current = None
        try:
            self.processor.shutdown()
        except Exception as exc:  # noqa: BLE001 - shutting down must not raise at exit
            log.warning("execlog: flushing spans at shutdown failed: %s", exc)


_lock = threading.RLock()
_current: Telemetry | None = None
_atexit_registered = False


def current() -> Telemetry | None:
    """The active ``configure()`` handle, or None."""
    return _current


def _default_service_name() -> str:
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    script = os.path.splitext(script)[0]
    return script if script and script not in ("-c", "-m", "python") else "execlog-runner"


def _build_exporter(settings: Settings) -> tuple[SpanExporter, str]:
    if settings.clickhouse_url:
        from execlog_otel.ingest.exporter import ClickHouseSpanExporter
        from execlog_otel.store.client import redact_url

        return ClickHouseSpanExporter(settings.clickhouse_url, settings.database, settings=settings), \
            f"ClickHouse {redact_url(settings.clickhouse_url)} (database {settings.database})"
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    base = settings.endpoint.rstrip("/")
    endpoint = base if base.endswith("/v1/traces") else base + "/v1/traces"
    if not endpoint.startswith(("http://", "https://")):
        raise ConfigError(f"EXECLOG_ENDPOINT={settings.endpoint!r}: expected an http(s):// URL of execlog serve "
                          "or an OpenTelemetry Collector")
    headers = {"Authorization": f"Bearer {settings.ingest_token}"} if settings.ingest_token else None
    return OTLPSpanExporter(endpoint=endpoint, headers=headers), f"OTLP/HTTP {endpoint}"


def configure(*, service_name: str | None = None, endpoint: str | None = None, clickhouse_url: str | None = None,
              database: str | None = None, flush_interval_ms: int | None = None,
              payload_cap_bytes: int | None = None, capture_code: bool | None = None,
              redact_keys: tuple[str, ...] | list[str] | None = None, redact: Redactor | None = None,
              resource_attributes: Mapping[str, Any] | None = None,
              tracer_provider: TracerProvider | None = None, exporter: SpanExporter | None = None,
              settings: Settings | None = None, retry_listener: str | None = None,
              project: str | None = None) -> Telemetry:
    """Set up the TracerProvider and exporter of this process for the execution log; returns the handle.

    Arguments override the ``EXECLOG_*`` environment (``Settings.from_env()``). ``redact`` is a hook
    ``(attribute key, value) -> value`` applied to every payload after the default key masking.
    ``exporter`` replaces the exporter the settings would choose (e.g. a Collector's, or one for tests).
    ``retry_listener`` (``host:port``, default ``EXECLOG_RETRY_LISTEN``) starts the retry listener there and
    announces its URL in the resource attributes, so the viewer can retry this runner's automations.
    ``project`` (default ``EXECLOG_PROJECT``) is the resource attribute ``execlog.project``: the project the
    executions of this process belong to (without it, ``service.namespace``, else ``default``)."""
    global _current
    settings = _settings(settings, redact, service_name=service_name, endpoint=endpoint,
                         clickhouse_url=clickhouse_url, database=database, flush_interval_ms=flush_interval_ms,
                         payload_cap_bytes=payload_cap_bytes, capture_code=capture_code,
                         redact_keys=tuple(redact_keys) if redact_keys is not None else None,
                         project=project.strip() if project is not None else None)
    extra_resource = {str(k): v for k, v in (resource_attributes or {}).items() if v is not None}
    if settings.project:
        extra_resource.setdefault(RESOURCE_PROJECT, settings.project)
    listen = retry_listener or settings.retry_listen
    if listen:
        extra_resource.setdefault(RESOURCE_RETRY_URL, _start_retry_listener(listen, settings))

    with _lock:
        if _current is not None and _moves_destination(_current.settings, endpoint, clickhouse_url, database,
                                                       exporter):
            # Asked to export somewhere else: flush and stop the old pipeline, then build the new one.
            log.info("execlog: switching the export destination; flushing the previous one")
            _current.shutdown()
        if _current is not None:
            return _reconfigure(_current, settings, extra_resource, redact)
        _current = _new_pipeline(settings, extra_resource, redact, tracer_provider, exporter)
        return _current


def _settings(settings: Settings | None, redact: Redactor | None, **overrides: Any) -> Settings:
    """The settings in force: the environment's (or ``settings``), with the arguments given, checked."""
    flush_interval_ms, payload_cap_bytes = overrides["flush_interval_ms"], overrides["payload_cap_bytes"]
    if flush_interval_ms is not None and not 0 < int(flush_interval_ms) <= MAX_FLUSH_INTERVAL_MS:
        raise ConfigError(f"flush_interval_ms={flush_interval_ms!r}: expected 1..{MAX_FLUSH_INTERVAL_MS}")
    if payload_cap_bytes is not None and int(payload_cap_bytes) < 256:
        raise ConfigError(f"payload_cap_bytes={payload_cap_bytes!r}: expected at least 256 bytes")
    if redact is not None and not callable(redact):
        raise ConfigError("redact=: expected a function (key, value) -> value")
    base = settings or Settings.from_env()
    given = {k: v for k, v in overrides.items() if v is not None}
    settings = replace(base, **given) if given else base
    if not settings.service_name:
        settings = replace(settings, service_name=_default_service_name())
    if not 0 < settings.flush_interval_ms <= MAX_FLUSH_INTERVAL_MS:
        raise ConfigError(f"EXECLOG_FLUSH_INTERVAL_MS={settings.flush_interval_ms}: "
                          f"expected 1..{MAX_FLUSH_INTERVAL_MS}")
    return settings


def _start_retry_listener(listen: str, settings: Settings) -> str:
    from execlog_otel.retry.listener import ensure_retry_listener

    try:
        return ensure_retry_listener(listen, settings.retry_secret)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"retry listener: {exc}") from None


def _reconfigure(handle: Telemetry, settings: Settings, extra_resource: dict[str, Any],
                 redact: Redactor | None) -> Telemetry:
    """Idempotent: same pipeline; recording settings and resource attributes follow the new call."""
    handle.settings = replace(handle.settings, payload_cap_bytes=settings.payload_cap_bytes,
                              capture_code=settings.capture_code, redact_keys=settings.redact_keys,
                              max_attempts=settings.max_attempts)
    if extra_resource:
        _merge_resource(handle.tracer_provider, extra_resource)
    RUNTIME.update(handle.settings, None, redact if redact is not None else RUNTIME.redactor)
    return handle


def _new_pipeline(settings: Settings, extra_resource: dict[str, Any], redact: Redactor | None,
                  provider: TracerProvider | None, exporter: SpanExporter | None) -> Telemetry:
    global _atexit_registered
    owns = False
    if provider is None:
        existing = trace.get_tracer_provider()
        if isinstance(existing, TracerProvider):
            provider = existing
        else:
            provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name,
                                                                **extra_resource}))
            trace.set_tracer_provider(provider)
            owns = True
    if not owns and extra_resource:
        _merge_resource(provider, extra_resource)
    if exporter is None:
        exporter, target = _build_exporter(settings)
    else:
        target = type(exporter).__name__
    execution_stamp.install(provider)  # before the export: a sharded cluster places spans by execution
    processor = BatchSpanProcessor(exporter, schedule_delay_millis=settings.flush_interval_ms)
    provider.add_span_processor(processor)
    handle = Telemetry(provider, settings, exporter, processor, owns, target)
    RUNTIME.update(settings, provider.get_tracer(TRACER_NAME, _version()), redact)
    if not _atexit_registered:
        atexit.register(_flush_at_exit)
        _atexit_registered = True
    log.info("execlog: exporting spans to %s every %d ms", target, settings.flush_interval_ms)
    return handle


def _moves_destination(current: Settings, endpoint: str | None, clickhouse_url: str | None,
                       database: str | None, exporter: SpanExporter | None) -> bool:
    """Whether a later configure() names another destination than the pipeline in place."""
    if exporter is not None:
        return True
    if clickhouse_url is not None and (clickhouse_url != current.clickhouse_url or
                                       (database is not None and database != current.database)):
        return True
    return endpoint is not None and (current.clickhouse_url != "" or
                                     endpoint.rstrip("/") != current.endpoint.rstrip("/"))


def _merge_resource(provider: TracerProvider, attributes: dict[str, Any]) -> None:
    update = getattr(provider, "_update_resource", None)
    if update is not None:
        update(Resource(attributes))
        return
    missing = {k for k, v in attributes.items() if provider.resource.attributes.get(k) != v}
    if missing:
        log.warning("execlog: this TracerProvider cannot take new resource attributes (%s); pass them to "
                    "the first configure() call or set OTEL_RESOURCE_ATTRIBUTES", ", ".join(sorted(missing)))


def _flush_at_exit() -> None:
    handle = _current
    if handle is not None:
        handle.shutdown()


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("execlog-otel")
    except Exception:  # noqa: BLE001
        return ""
