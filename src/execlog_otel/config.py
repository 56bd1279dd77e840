"""Settings from the environment and the command line, read in one place.

Every ``EXECLOG_*`` variable the project understands is listed in ``SETTINGS``
(name, default, meaning); README's configuration table is generated from the
same list (``execlog settings``). Command-line options override the
environment through ``Settings.from_env(**overrides)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message says which and why."""


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "execlog"


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name}={raw!r}: expected true or false")


def _int(name: str, raw: str, minimum: int = 0) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r}: must be at least {minimum}")
    return value


def _float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a number") from None
    if value <= 0:
        raise ConfigError(f"{name}={raw!r}: must be positive")
    return value


@dataclass(frozen=True)
class Setting:
    attr: str
    env: str
    default: Any
    help: str
    parse: str = "str"  # str | int | float | bool | list


SETTINGS: tuple[Setting, ...] = (
    Setting("clickhouse_url", "EXECLOG_CLICKHOUSE_URL", "",
            "Store URL: empty for the embedded store in the data directory, chdb:///path, "
            "or http(s)://user:password@host:port/database for a ClickHouse server"),
    Setting("read_url", "EXECLOG_READ_URL", "",
            "ClickHouse server URL the viewer reads from (a replica, or a user with read-only rights) while ingest "
            "writes to EXECLOG_CLICKHOUSE_URL (empty: reads go to EXECLOG_CLICKHOUSE_URL too)"),
    Setting("data_dir", "EXECLOG_DATA_DIR", "", "Data directory of the embedded store "
            "(default ~/.local/share/execlog)"),
    Setting("database", "EXECLOG_DATABASE", "otel", "ClickHouse database holding otel_traces"),
    Setting("retention_days", "EXECLOG_RETENTION_DAYS", 30, "Days spans are kept (TTL of every table)", "int"),
    Setting("host", "EXECLOG_HOST", "127.0.0.1", "Address execlog serve binds"),
    Setting("port", "EXECLOG_PORT", 4318, "Port of execlog serve (OTLP/HTTP, API and viewer)", "int"),
    Setting("clickhouse_http_port", "EXECLOG_CLICKHOUSE_HTTP_PORT", "",
            "Port of execlog serve's ClickHouse HTTP endpoint for Grafana and ClickHouse clients (empty: 8123, "
            "or a free port when 8123 is taken; 0: any free port; off: no endpoint)"),
    Setting("max_body_bytes", "EXECLOG_MAX_BODY_BYTES", 16 * 1024 * 1024,
            "Largest OTLP request body accepted, after decompression", "int"),
    Setting("endpoint", "EXECLOG_ENDPOINT", "",
            "Where the SDK sends OTLP/HTTP (default OTEL_EXPORTER_OTLP_ENDPOINT or http://127.0.0.1:4318)"),
    Setting("service_name", "EXECLOG_SERVICE_NAME", "", "service.name of the runner (default OTEL_SERVICE_NAME)"),
    Setting("project", "EXECLOG_PROJECT", "",
            "Project of the runner's executions (resource attribute execlog.project; default service.namespace, "
            "else default)"),
    Setting("payload_cap_bytes", "EXECLOG_PAYLOAD_CAP", 64 * 1024, "Largest payload kept per attribute", "int"),
    Setting("flush_interval_ms", "EXECLOG_FLUSH_INTERVAL_MS", 500, "How often the SDK exports spans", "int"),
    Setting("capture_code", "EXECLOG_CAPTURE_CODE", True, "Record source code of executions and steps", "bool"),
    Setting("redact_keys", "EXECLOG_REDACT_KEYS",
            ("password", "passwd", "secret", "token", "authorization", "api_key", "apikey", "cookie",
             "private_key", "credential"),
            "Comma-separated key fragments whose values are masked in payloads", "list"),
    Setting("automations", "EXECLOG_AUTOMATIONS", (),
            "Comma-separated module:function callables run as automations", "list"),
    Setting("max_attempts", "EXECLOG_MAX_ATTEMPTS", 3, "Attempts per execution, first included", "int"),
    Setting("retry_secret", "EXECLOG_RETRY_SECRET", "", "Shared secret signing retry requests"),
    Setting("retry_allowed_urls", "EXECLOG_RETRY_ALLOWED_URLS", (),
            "Comma-separated URLs of runners' retry listeners the viewer may call: same scheme, host and port, "
            "path equal or below (empty: only loopback listeners, and only while the viewer listens on "
            "loopback)", "list"),
    Setting("retry_listen", "EXECLOG_RETRY_LISTEN", "",
            "host:port where the runner's retry listener listens (empty: no listener)"),
    Setting("auth_token", "EXECLOG_AUTH_TOKEN", "", "Token protecting the viewer and API"),
    Setting("ingest_token", "EXECLOG_INGEST_TOKEN", "", "Token required by the OTLP receiver"),
    Setting("query_timeout_s", "EXECLOG_QUERY_TIMEOUT_S", 10.0, "Longest a viewer query may run", "float"),
    Setting("base_url", "EXECLOG_BASE_URL", "", "Public URL of the viewer, for permalinks"),
    Setting("auth_users", "EXECLOG_AUTH_USERS", (),
            "Comma-separated user:password-hash pairs allowed to sign in to the viewer "
            "(hashes from `execlog hash-password`)", "list"),
    Setting("secret_key", "EXECLOG_SECRET_KEY", "",
            "Key signing viewer sessions and CSRF tokens (default: random per start; sign-ins end at restart)"),
    Setting("trusted_proxies", "EXECLOG_TRUSTED_PROXIES", (),
            "Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For/-Proto/-Host "
            "headers are believed (client address for rate limits, https for Secure cookies); others' are "
            "dropped", "list"),
    Setting("insecure_allow_remote", "EXECLOG_INSECURE_ALLOW_REMOTE", False,
            "Let execlog serve/viewer listen on a non-loopback address without authentication", "bool"),
    Setting("max_attribute_bytes", "EXECLOG_MAX_ATTRIBUTE_BYTES", 1024 * 1024,
            "Longest attribute value the receiver stores; longer ones are cut and marked <key>.truncated "
            "(0: no cap)", "int"),
    Setting("spool_dir", "EXECLOG_SPOOL_DIR", "",
            "Directory of the write-ahead log every accepted request is fsynced to before it is acknowledged "
            "(default DATA_DIR/spool; the direct exporter keeps its own in <dir>/exporter)"),
    Setting("spool_max_bytes", "EXECLOG_SPOOL_MAX_BYTES", 256 * 1024 * 1024,
            "Largest size of the write-ahead log; past it the oldest spans are dropped, counted and logged "
            "(0: no log, each request is inserted before it is answered)", "int"),
    Setting("max_spans_per_request", "EXECLOG_MAX_SPANS_PER_REQUEST", 100_000,
            "Most spans one OTLP request may carry; larger requests are refused with 413 before decoding "
            "(bounds the memory of one request; 0: no limit)", "int"),
    Setting("log_batch_spans", "EXECLOG_LOG_BATCH_SPANS", 50_000,
            "Most spans per insert of the log's writer", "int"),
    Setting("log_linger_ms", "EXECLOG_LOG_LINGER_MS", 1000,
            "Least time between two inserts of a busy log writer (each carries what arrived meanwhile); "
            "an idle writer inserts at once, and the end of a burst after a fifth of it "
            "(at most once per 5 lingers)", "int"),
    Setting("async_insert", "EXECLOG_ASYNC_INSERT", True,
            "Inserts into a ClickHouse server (http(s) URL) use async_insert=1, wait_for_async_insert=1 "
            "(false: plain inserts); the embedded store always takes plain inserts", "bool"),
    Setting("auth_file", "EXECLOG_AUTH_FILE", "",
            "TOML file of users, API tokens and ingest tokens with a role per project (see README, Projects and "
            "roles); EXECLOG_AUTH_USERS stay admins"),
    Setting("prices_file", "EXECLOG_PRICES_FILE", "",
            "TOML (or JSON) file of model prices that replace or add to the shipped ones (format of "
            "execlog_otel/prices.toml; loaded when the store is opened; `execlog prices` lists them)"),
)


def settings_table() -> str:
    """Every setting as a Markdown table, for README."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for s in SETTINGS:
        default = ",".join(s.default) if isinstance(s.default, tuple) else s.default
        if isinstance(default, bool):
            default = str(default).lower()
        shown = f"`{default}`" if default not in ("", None) else "(empty)"
        lines.append(f"| `{s.env}` | {shown} | {s.help.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


_POSITIVE = ("retention_days", "max_attempts", "log_batch_spans")


@dataclass(frozen=True)
class Settings:
    clickhouse_url: str = ""
    data_dir: str = ""
    database: str = "otel"
    retention_days: int = 30
    read_url: str = ""
    host: str = "127.0.0.1"
    port: int = 4318
    clickhouse_http_port: str = ""
    max_body_bytes: int = 16 * 1024 * 1024
    endpoint: str = ""
    service_name: str = ""
    project: str = ""
    payload_cap_bytes: int = 64 * 1024
    flush_interval_ms: int = 500
    capture_code: bool = True
    redact_keys: tuple[str, ...] = field(default_factory=tuple)
    automations: tuple[str, ...] = field(default_factory=tuple)
    max_attempts: int = 3
    retry_secret: str = ""
    retry_allowed_urls: tuple[str, ...] = field(default_factory=tuple)
    retry_listen: str = ""
    auth_token: str = ""
    ingest_token: str = ""
    query_timeout_s: float = 10.0
    base_url: str = ""
    auth_users: tuple[str, ...] = field(default_factory=tuple)
    secret_key: str = ""
    trusted_proxies: tuple[str, ...] = field(default_factory=tuple)
    insecure_allow_remote: bool = False
    max_attribute_bytes: int = 1024 * 1024
    spool_dir: str = ""
    spool_max_bytes: int = 256 * 1024 * 1024
    max_spans_per_request: int = 100_000
    log_batch_spans: int = 50_000
    log_linger_ms: int = 1000
    async_insert: bool = True
    prices_file: str = ""
    auth_file: str = ""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for s in SETTINGS:
            raw = env.get(s.env)
            if raw is None:
                values[s.attr] = s.default
                continue
            if s.parse == "int":
                values[s.attr] = _int(s.env, raw, minimum=1 if s.attr in _POSITIVE else 0)
            elif s.parse == "float":
                values[s.attr] = _float(s.env, raw)
            elif s.parse == "bool":
                values[s.attr] = _bool(s.env, raw)
            elif s.parse == "list":
                values[s.attr] = tuple(p.strip() for p in raw.split(",") if p.strip())
            else:
                values[s.attr] = raw.strip()
        if not values["service_name"]:
            values["service_name"] = env.get("OTEL_SERVICE_NAME", "")
        if not values["endpoint"]:
            values["endpoint"] = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "") or "http://127.0.0.1:4318"
        settings = cls(**values)
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **clean) if clean else settings

    @property
    def resolved_data_dir(self) -> Path:
        return Path(self.data_dir).expanduser() if self.data_dir else default_data_dir()

    @property
    def resolved_spool_dir(self) -> Path:
        return Path(self.spool_dir).expanduser() if self.spool_dir else self.resolved_data_dir / "spool"

    @property
    def insert_settings(self) -> dict[str, Any]:
        """Settings of every insert the writers make (see ``ingest.sink.insert_settings``)."""
        from execlog_otel.ingest.sink import insert_settings

        return insert_settings(self.store_url, self.async_insert)

    @property
    def auth_enabled(self) -> bool:
        return bool(self.auth_token or self.auth_users or self.auth_file)

    @property
    def store_url(self) -> str:
        """The clickhouse-connect DSN of the store: explicit URL, or chDB in the data directory."""
        if self.clickhouse_url:
            return self.clickhouse_url
        return f"chdb://{self.resolved_data_dir / 'clickhouse'}"

    @property
    def read_store_url(self) -> str:
        """Where the viewer reads: EXECLOG_READ_URL, else the store."""
        return self.read_url or self.store_url

    @property
    def embedded(self) -> bool:
        return self.store_url.startswith("chdb:")

    def public(self) -> dict[str, Any]:
        """Settings safe to show: secrets masked, passwords stripped from URLs."""
        from execlog_otel.store.client import redact_url

        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("retry_secret", "auth_token", "ingest_token", "secret_key"):
                value = "***" if value else ""
            elif f.name == "auth_users":
                value = tuple(u.split(":", 1)[0] + ":***" for u in value)
                value = "***" if value else ""
            elif f.name == "clickhouse_url":
                value = redact_url(value)
            out[f.name] = value
        return out
