"""Settings from the environment and the command line, read in one place.

Every ``EXECLOG_*`` variable the project understands is listed in ``SETTINGS``
(name, default, meaning); README's configuration table is generated from the
same list (``execlog settings``). Command-line options override the
environment through ``Settings.from_env(**overrides)``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlsplit, urlunparse


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message says which and why."""


# ClickHouse's DateTime ends at 2106-02-07: a TTL of Timestamp + N days past it wraps around to the 1970s
# and deletes every row at once. 20,000 days (about 55 years) keeps today's spans' TTL well before it.
MAX_RETENTION_DAYS = 20_000
# The SDK's longest export interval (sdk.telemetry checks configure()'s argument against the same bound).
MAX_FLUSH_INTERVAL_MS = 60_000


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


def _int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a whole number") from None


def _float(name: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a number") from None


def _list(raw: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def _parse(setting: Setting, raw: str) -> Any:
    """The value of a variable as set, in the setting's type (not yet checked against its range)."""
    parse = {"int": _int, "float": _float, "bool": _bool}.get(setting.parse)
    if parse is not None:
        return parse(setting.env, raw)
    return _list(raw) if setting.parse == "list" else raw.strip()


@dataclass(frozen=True)
class Setting:
    attr: str
    env: str
    default: Any
    help: str
    parse: str = "str"  # str | int | float | bool | list
    # int and float settings: the least and largest value accepted (``least_why``, ``why``: the reasons, told
    # with them); ``zero`` says what 0 means where 0 is accepted below ``least``. A float must be positive.
    least: int = 0
    most: int | None = None
    why: str = ""
    least_why: str = ""
    zero: str = ""
    option: str = ""  # the command-line option overriding the setting, named when its value is refused

    def check(self, value: Any, name: str, shown: str) -> None:
        """ConfigError unless ``value`` is one the setting accepts. ``name`` is the variable or option it came
        from, ``shown`` that with the value as given (``EXECLOG_PORT='99999'``)."""
        extra = _CHECKS.get(self.attr)
        if extra is not None:
            extra(value, name, shown)
        if self.parse not in ("int", "float"):
            return
        if self.parse == "float" and (not math.isfinite(value) or value <= 0):
            raise ConfigError(f"{shown}: expected a positive, finite number")
        if self.parse == "int" and value < self.least and not (value == 0 and self.zero):
            zero = f" (or 0: {self.zero})" if self.zero else ""
            why = f": {self.least_why}" if self.least_why else ""
            raise ConfigError(f"{shown}: must be at least {self.least:,}{zero}{why}")
        if self.most is not None and value > self.most:
            raise ConfigError(f"{shown}: must be at most {self.most:,}" + (f": {self.why}" if self.why else ""))


SETTINGS: tuple[Setting, ...] = (
    Setting("clickhouse_url", "EXECLOG_CLICKHOUSE_URL", "",
            "Store URL: empty for the embedded store in the data directory, chdb:///path, "
            "or http(s)://user:password@host:port/database for a ClickHouse server", option="--clickhouse"),
    Setting("read_url", "EXECLOG_READ_URL", "",
            "ClickHouse server URL the viewer reads from (a replica, or a user with read-only rights) while ingest "
            "writes to EXECLOG_CLICKHOUSE_URL (empty: reads go to EXECLOG_CLICKHOUSE_URL too)"),
    Setting("data_dir", "EXECLOG_DATA_DIR", "", "Data directory of the embedded store "
            "(default ~/.local/share/execlog)", option="--data"),
    Setting("database", "EXECLOG_DATABASE", "otel", "ClickHouse database holding otel_traces", option="--database"),
    Setting("retention_days", "EXECLOG_RETENTION_DAYS", 30,
            f"Days spans are kept (TTL of every table; 1 to {MAX_RETENTION_DAYS:,})", "int", least=1,
            most=MAX_RETENTION_DAYS, option="--retention-days",
            why="a later TTL passes the end of ClickHouse's DateTime (2106-02-07), wraps around to the 1970s "
                "and deletes every span at once"),
    Setting("host", "EXECLOG_HOST", "127.0.0.1", "Address execlog serve binds", option="--host"),
    Setting("port", "EXECLOG_PORT", 4318, "Port of execlog serve (OTLP/HTTP, API and viewer; 0: any free port)",
            "int", most=65535, why="ports go up to 65535", option="--port"),
    Setting("clickhouse_http_port", "EXECLOG_CLICKHOUSE_HTTP_PORT", "",
            "Port of execlog serve's ClickHouse HTTP endpoint for Grafana and ClickHouse clients (empty: 8123, "
            "or a free port when 8123 is taken; 0: any free port; off: no endpoint)", option="--clickhouse-http-port"),
    Setting("max_body_bytes", "EXECLOG_MAX_BODY_BYTES", 16 * 1024 * 1024,
            "Largest OTLP request body accepted, after decompression (1 byte to 1 GiB)", "int", least=1,
            most=1024 ** 3, why="a request is held in memory while it is decoded",
            least_why="it is the size of the largest request accepted; 0 would refuse every request"),
    Setting("endpoint", "EXECLOG_ENDPOINT", "",
            "Where the SDK sends OTLP/HTTP (default OTEL_EXPORTER_OTLP_ENDPOINT or http://127.0.0.1:4318)"),
    Setting("service_name", "EXECLOG_SERVICE_NAME", "", "service.name of the runner (default OTEL_SERVICE_NAME)"),
    Setting("project", "EXECLOG_PROJECT", "",
            "Project of the runner's executions (resource attribute execlog.project; default service.namespace, "
            "else default)"),
    Setting("payload_cap_bytes", "EXECLOG_PAYLOAD_CAP", 64 * 1024,
            "Largest payload kept per attribute (at least 256; 0: no cap)", "int", least=256, zero="no cap"),
    Setting("flush_interval_ms", "EXECLOG_FLUSH_INTERVAL_MS", 500, "How often the SDK exports spans "
            f"(1 to {MAX_FLUSH_INTERVAL_MS:,} ms)", "int", least=1, most=MAX_FLUSH_INTERVAL_MS,
            why="spans would wait that long in the process before they are sent"),
    Setting("capture_code", "EXECLOG_CAPTURE_CODE", True, "Record source code of executions and steps", "bool"),
    Setting("redact_keys", "EXECLOG_REDACT_KEYS",
            ("password", "passwd", "secret", "token", "authorization", "api_key", "apikey", "cookie",
             "private_key", "credential"),
            "Comma-separated key fragments whose values are masked in payloads", "list"),
    Setting("automations", "EXECLOG_AUTOMATIONS", (),
            "Comma-separated module:function callables run as automations", "list"),
    Setting("max_attempts", "EXECLOG_MAX_ATTEMPTS", 3, "Attempts per execution, first included (1 to 1,000)",
            "int", least=1, most=1000, why="an execution retried more often is a loop, not a retry policy"),
    Setting("retry_secret", "EXECLOG_RETRY_SECRET", "", "Shared secret signing retry requests"),
    Setting("retry_allowed_urls", "EXECLOG_RETRY_ALLOWED_URLS", (),
            "Comma-separated URLs of runners' retry listeners the viewer may call: same scheme, host and port, "
            "path equal or below (empty: only loopback listeners, and only while the viewer listens on "
            "loopback)", "list"),
    Setting("retry_listen", "EXECLOG_RETRY_LISTEN", "",
            "host:port where the runner's retry listener listens (empty: no listener)"),
    Setting("auth_token", "EXECLOG_AUTH_TOKEN", "", "Token protecting the viewer and API"),
    Setting("ingest_token", "EXECLOG_INGEST_TOKEN", "", "Token required by the OTLP receiver"),
    Setting("query_timeout_s", "EXECLOG_QUERY_TIMEOUT_S", 10.0,
            "Longest a viewer query may run, in seconds (at most 86,400)", "float", most=86_400,
            why="ClickHouse refuses timeouts far larger, and every read would fail"),
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
            "Most spans per insert of the log's writer", "int", least=1),
    Setting("log_linger_ms", "EXECLOG_LOG_LINGER_MS", 1000,
            "Least time between two inserts of a busy log writer (each carries what arrived meanwhile); "
            "an idle writer inserts at once, and the end of a burst after a fifth of it "
            "(at most once per 5 lingers; 0 to 60,000 ms)", "int", most=60_000,
            why="accepted spans would wait that long before they are stored"),
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


STORE_URL_FORMS = "chdb:///path or http(s)://user:password@host:port/database"


_URL_PASSWORD = re.compile(r"(//[^/@:\s]*:)[^/@\s]*@")


def redact_text(text: str) -> str:
    """``text`` with the password of every URL in it replaced (a message quoting a URL that may not parse)."""
    return _URL_PASSWORD.sub(r"\1***@", text)


def redact_url(url: str) -> str:
    """The URL without its password, for messages and logs (one that does not parse: by its text)."""
    if not url:
        return url
    try:
        p = urlparse(url)
        password = p.password
    except ValueError:
        return redact_text(url)
    if password is None:
        return url
    netloc = p.netloc.rsplit("@", 1)[1]
    return urlunparse(p._replace(netloc=f"{p.username or ''}:***@{netloc}"))


def port_or_off(raw: Any, default: int) -> int | None:
    """A port setting that may be off: None for off (off, none, false, -1), ``default`` when empty, else the
    port (0: any free one); ValueError for anything else."""
    word = ("" if raw is None else str(raw)).strip().lower()
    if word in ("off", "none", "false", "-1"):
        return None
    if not word:
        return default
    if not (word.isascii() and word.isdigit()) or int(word) > 65535:
        raise ValueError(f"{raw!r} is no port")
    return int(word)


def _check_database(value: str, name: str, shown: str) -> None:
    from execlog_otel.store.schema import SchemaError, check_identifier

    try:
        check_identifier(value, "database name")
    except SchemaError:  # names go into DDL unquoted, so they are checked, not escaped
        raise ConfigError(f"{shown}: expected a ClickHouse database name: letters, digits and underscores, "
                          "not starting with a digit, at most 63 characters") from None


def _check_store_url(value: str, name: str, shown: str) -> None:
    if not value:
        return
    shown = f"{name}={redact_url(value)!r}"  # never the password
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ConfigError(f"{shown}: not a valid URL ({exc}); expected {STORE_URL_FORMS}") from None
    if parts.scheme.lower() not in ("chdb", "http", "https"):
        raise ConfigError(f"{shown}: expected {STORE_URL_FORMS}")


def _check_base_url(value: str, name: str, shown: str) -> None:
    if not value:
        return
    expected = "expected the viewer's public http(s) URL, e.g. https://execlog.example.com/"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ConfigError(f"{shown}: not a valid URL ({exc}); {expected}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{shown}: {expected}")


def _check_retry_urls(value: tuple[str, ...], name: str, shown: str) -> None:
    if not value:
        return
    from execlog_otel.retry.targets import TargetRefused, parse

    for url in value:
        try:
            parse(url)
        except TargetRefused as exc:
            raise ConfigError(f"{name}: {redact_text(str(exc))}; expected comma-separated http(s)://host:port/path "
                              "URLs of runners' retry listeners") from None


def _check_port_or_off(value: str, name: str, shown: str) -> None:
    try:
        port_or_off(value, 0)
    except ValueError:
        raise ConfigError(f"{shown}: expected a port number (0 to 65535; 0: any free port) or off") from None


def _check_directory(value: str, name: str, shown: str) -> None:
    # A file in the way fails deep inside the store or the log; say so here. (A directory that cannot be
    # created is only known when it is made: the command line reports that with the variable too.)
    if value and Path(value).expanduser().exists() and not Path(value).expanduser().is_dir():
        raise ConfigError(f"{shown}: {value} is a file, not a directory; name a directory (created when missing)")


# Checks of the settings that are not numbers (numbers are checked against Setting.least/most).
_CHECKS: dict[str, Callable[[Any, str, str], None]] = {
    "database": _check_database,
    "clickhouse_url": _check_store_url,
    "read_url": _check_store_url,
    "base_url": _check_base_url,
    "retry_allowed_urls": _check_retry_urls,
    "clickhouse_http_port": _check_port_or_off,
    "data_dir": _check_directory,
    "spool_dir": _check_directory,
}
_BY_ATTR = {s.attr: s for s in SETTINGS}


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

    def __post_init__(self) -> None:
        # Every way of making settings (from_env, replace(), the SDK's arguments) gets only usable values.
        for s in SETTINGS:
            value = getattr(self, s.attr)
            s.check(value, s.env, f"{s.env}={value!r}")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        clean = {k: v for k, v in overrides.items() if v is not None}
        values: dict[str, Any] = {}
        for s in SETTINGS:
            raw = env.get(s.env)
            if raw is None:
                values[s.attr] = s.default
                continue
            values[s.attr] = _parse(s, raw)
            if s.attr not in clean:  # the message names the variable and its text as set
                s.check(values[s.attr], s.env, f"{s.env}={raw!r}")
        for attr, value in clean.items():  # ... or the option it came from
            s = _BY_ATTR.get(attr)
            if s is not None:
                name = s.option or s.env
                s.check(value, name, f"{name}={value!r}")
        if not values["service_name"]:
            values["service_name"] = env.get("OTEL_SERVICE_NAME", "")
        if not values["endpoint"]:
            values["endpoint"] = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "") or "http://127.0.0.1:4318"
        return cls(**{**values, **clean})

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
