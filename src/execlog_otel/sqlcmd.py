"""``execlog sql "…"``: a read-only SQL query over the execution log, printed as a table, CSV or JSON.

Where the query runs:

* ``--server URL`` or, with the embedded store, the ``execlog serve`` that owns the data directory
  (found through its lock file): ``GET /api/sql`` on that server (``viewer/sql_api.py``), which
  is protected like the rest of the API (``--token`` / ``EXECLOG_AUTH_TOKEN`` is sent as a bearer
  token);
* ``--clickhouse URL`` (a ClickHouse server), or an embedded data directory nobody has open:
  directly, through a client of its own.

Either way the query runs on a read-only client (``read_only_client``): ClickHouse itself refuses
writes, DDL, ``SET readonly`` and — for the embedded engine, where a table function could read any
file the process can — table functions like ``file()`` and ``url()``. A statement that is not a
read (INSERT, ALTER, DROP …) is refused before it is sent, with a message saying so. Tables can be
named without their database: the query runs in the store's database (``EXECLOG_DATABASE``).
"""

from __future__ import annotations

import base64
import csv
import io
import ipaddress
import json
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlparse
from urllib.request import Request, urlopen

import click
import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from execlog_otel.config import ConfigError, Settings
from execlog_otel.store import errors as store_errors
from execlog_otel.store.client import DataDirLock, StoreError, chdb_path, connect, redact_url

MAX_QUERY_CHARS = 100_000
DEFAULT_MAX_ROWS = 10_000
MAX_ROWS_LIMIT = 100_000
FORMATS = ("table", "csv", "json")
# Statements that only read. Anything else is refused before it reaches ClickHouse (which would
# refuse it too: the client is read-only).
READ_STATEMENTS = ("SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS", "(")
_LEADING_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|#[^\n]*(?:\n|$)|/\*.*?\*/)*", re.S)
# Local files: `INTO OUTFILE` (the embedded engine would write it) and the file() function, which
# readonly=1 does not stop (it does stop the file() *table* function). Matched on ClickHouse's own
# formatting of the query, so comments, quoting and case cannot hide them.
_LOCAL_FILES = re.compile(r"\bINTO\s+OUTFILE\b|\bfile\s*\(", re.I)


class SqlError(ValueError):
    """The query cannot run; the message says why and what to do (shown to the user as is)."""


class SqlTimeout(SqlError):
    """ClickHouse cancelled the query at its time limit."""


WRITE_REFUSED = ("execlog sql is read-only: {what} is refused. Query with SELECT (or SHOW, DESCRIBE, "
                 "EXPLAIN); to change data or the schema, use a ClickHouse client with a user allowed to write.")


@dataclass
class QueryResult:
    columns: list[str]
    types: list[str]
    rows: list[list[Any]]
    truncated: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"columns": self.columns, "types": self.types, "rows": self.rows, "truncated": self.truncated}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QueryResult:
        return cls(list(data["columns"]), list(data["types"]), [list(r) for r in data["rows"]],
                   bool(data.get("truncated")))


# --- checking and running ------------------------------------------------------------------------
def check_query(sql: str | None) -> str:
    """The query, trimmed, if it is one read statement; SqlError otherwise."""
    text = (sql or "").strip()
    if not text:
        raise SqlError('no query given: execlog sql "SELECT count() FROM execlog_executions"')
    if len(text) > MAX_QUERY_CHARS:
        raise SqlError(f"the query is {len(text)} characters long; the limit is {MAX_QUERY_CHARS}")
    text = text.rstrip().rstrip(";").rstrip()
    body = _LEADING_COMMENTS.sub("", text, count=1)
    word = re.match(r"\(|[A-Za-z]+", body)
    keyword = word.group(0).upper() if word else ""
    if keyword not in READ_STATEMENTS:
        raise SqlError(WRITE_REFUSED.format(what=f"{keyword or 'this'} statement"))
    return text


def read_only_client(url: str, database: str, timeout_s: float = 30.0, max_rows: int = MAX_ROWS_LIMIT) -> Client:
    """A client whose session is read-only in ClickHouse itself.

    Embedded (chDB): the session gets the query limits first and ``readonly=1`` last — after it no
    setting can change, and table functions (``file()``, ``url()`` …, which could read any local
    file) are refused along with every write. A server (HTTP): ``readonly=2``, which refuses writes
    and DDL but lets the client send its per-query settings; give the server user read-only
    rights as well.
    """
    limits = {"max_execution_time": max(int(timeout_s), 1), "max_result_rows": max_rows + 1,
              "result_overflow_mode": "break"}
    if urlparse(url).scheme == "chdb":
        try:
            return clickhouse_connect.get_client(dsn=url, database=database, settings={**limits, "readonly": 1})
        except Exception as exc:  # noqa: BLE001 - one clear line instead of a driver traceback
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StoreError(f"cannot open {redact_url(url)} read-only: {reason}") from None
    client = connect(url, database=database, settings={"readonly": 2}, readonly=True)
    for key, value in limits.items():
        client.set_client_setting(key, value)
    return client


def _cell(value: Any) -> Any:
    """A value as JSON can carry it."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (Decimal, uuid.UUID, ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {str(_cell(k)): _cell(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_cell(v) for v in value]
    return str(value)


def _rejected(exc: ClickHouseError) -> SqlError:
    message = str(exc)
    if store_errors.is_readonly_refusal(exc):
        return SqlError(WRITE_REFUSED.format(what="a statement that writes, changes settings or reads "
                                                  "files or URLs"))
    if store_errors.is_timeout(exc):
        return SqlTimeout("the query ran past its time limit and was cancelled; narrow it "
                          "(a time filter on Start or Timestamp) or raise EXECLOG_QUERY_TIMEOUT_S")
    first = next((line for line in message.splitlines() if line.strip()), type(exc).__name__)
    first = re.sub(r"^.*?DB::Exception: ", "", first)
    return SqlError(f"ClickHouse rejected the query: {first}")


def check_with_parser(client: Client, text: str) -> None:
    """Parse the statement with ClickHouse (formatQuerySingleLine) and refuse local file access."""
    try:
        formatted = client.query("SELECT formatQuerySingleLine({q:String})", parameters={"q": text}).result_rows[0][0]
    except ClickHouseError as exc:
        if store_errors.is_unknown_function(exc):
            return  # a server older than formatQuery; it has no OUTFILE and confines file() to user_files
        raise _rejected(exc) from None
    if _LOCAL_FILES.search(formatted):
        raise SqlError(WRITE_REFUSED.format(what="reading or writing local files (file(), INTO OUTFILE)"))


def run_read_only(client: Client, sql: str, max_rows: int = DEFAULT_MAX_ROWS) -> QueryResult:
    """Run one read statement on a read-only client; errors become SqlError with ClickHouse's reason."""
    text = check_query(sql)
    if not 1 <= max_rows <= MAX_ROWS_LIMIT:
        raise SqlError(f"max rows must be between 1 and {MAX_ROWS_LIMIT}, got {max_rows}")
    check_with_parser(client, text)
    try:
        result = client.query(text)
    except ClickHouseError as exc:
        raise _rejected(exc) from None
    rows = result.result_rows
    truncated = len(rows) > max_rows
    return QueryResult(list(result.column_names), [t.name for t in result.column_types],
                       [[_cell(v) for v in row] for row in rows[:max_rows]], truncated)


# --- output --------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def format_table(result: QueryResult, max_width: int = 80) -> str:
    def cell(v: Any) -> str:
        s = _text(v).replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    cells = [[cell(v) for v in row] for row in result.rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(result.columns)]
    numeric = [re.match(r"^(Nullable\()?(U?Int|Float|Decimal)", t) is not None for t in result.types]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    out = [line(result.columns), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    n = len(result.rows)
    out.append(f"({n} row{'s' if n != 1 else ''}{', truncated' if result.truncated else ''})")
    return "\n".join(out) + "\n"


def format_csv(result: QueryResult) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows([[_text(v) if v is not None else "" for v in row] for row in result.rows])
    return buf.getvalue()


def format_json(result: QueryResult) -> str:
    """One JSON object per row, in a list: what ``jq`` and scripts want."""
    rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


FORMATTERS = {"table": format_table, "csv": format_csv, "json": format_json}


# --- where the query runs -------------------------------------------------------------------------
def query_server(server_url: str, sql: str, token: str = "", max_rows: int = DEFAULT_MAX_ROWS,
                 timeout_s: float = 60.0) -> QueryResult:
    """Run the query through ``GET /api/sql`` of a running execlog server."""
    base = server_url.rstrip("/")
    if urlparse(base).scheme not in ("http", "https"):
        raise SqlError(f"--server {server_url!r}: expected an http(s):// URL of execlog serve")
    request = Request(f"{base}/api/sql?{urlencode({'query': sql, 'max_rows': max_rows})}",
                      headers={"Accept": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - the user's own server URL
            return QueryResult.from_json(json.loads(response.read()))
    except HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error") or exc.reason
        except (ValueError, AttributeError):
            message = exc.reason
        if exc.code == 401:
            raise SqlError(f"{base} needs authentication: pass --token or set EXECLOG_AUTH_TOKEN") from None
        if exc.code == 404:
            raise SqlError(f"{base} has no SQL endpoint (/api/sql): is it an up-to-date execlog serve?") from None
        if exc.code == 504:
            raise SqlTimeout(str(message)) from None
        raise SqlError(str(message)) from None
    except (URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SqlError(f"no execlog server answers at {base} ({reason}): start `execlog serve`, or query "
                       "ClickHouse directly with --clickhouse URL") from None
    except ValueError:
        raise SqlError(f"{base} did not answer with JSON: is it an execlog server?") from None


def query_direct(url: str, database: str, sql: str, max_rows: int, timeout_s: float) -> QueryResult:
    """Run the query on a read-only client of our own; an embedded directory is locked meanwhile."""
    lock = None
    path = chdb_path(url)
    if path is not None:
        data_dir = path.parent if path.name == "clickhouse" else path
        if not path.exists():
            raise SqlError(f"no embedded store in {data_dir}: start `execlog serve` (or `execlog demo`) first")
        lock = DataDirLock(data_dir)
        lock.acquire()
    try:
        client = read_only_client(url, database, timeout_s, MAX_ROWS_LIMIT)
        try:
            return run_read_only(client, sql, max_rows)
        finally:
            client.close()
    finally:
        if lock is not None:
            lock.release()


def run(settings: Settings, sql: str, server: str | None = None, token: str | None = None,
        max_rows: int = DEFAULT_MAX_ROWS) -> QueryResult:
    """Run through ``server``, the server owning the embedded store, or directly on the store URL."""
    check_query(sql)
    token = token if token is not None else settings.auth_token
    if server:
        return query_server(server, sql, token, max_rows)
    if not settings.embedded:
        return query_direct(settings.store_url, settings.database, sql, max_rows, settings.query_timeout_s)
    path = chdb_path(settings.store_url)
    data_dir = path.parent if path is not None and path.name == "clickhouse" else path
    owner = DataDirLock(data_dir).owner() if data_dir is not None else None
    if owner and owner.get("url"):
        return query_server(owner["url"], sql, token, max_rows)
    if owner:
        raise SqlError(f"the data directory {data_dir} is in use by process {owner.get('pid', '?')}, "
                       "which serves no HTTP; pass --server URL")
    return query_direct(settings.store_url, settings.database, sql, max_rows, settings.query_timeout_s)


@click.command("sql")
@click.argument("query", required=False)
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Output format.")
@click.option("--server", metavar="URL", help="URL of a running execlog serve / execlog viewer "
              "(default: the server owning the embedded store).")
@click.option("--token", metavar="TOKEN", help="Bearer token of that server [EXECLOG_AUTH_TOKEN].")
@click.option("--data", "data_dir", metavar="DIR", help="Data directory of the embedded store [EXECLOG_DATA_DIR].")
@click.option("--clickhouse", "clickhouse_url", metavar="URL",
              help="Query this ClickHouse directly, e.g. http://user:pass@host:8123/otel [EXECLOG_CLICKHOUSE_URL].")
@click.option("--database", metavar="NAME", help="Database holding the tables [EXECLOG_DATABASE].")
@click.option("--max-rows", type=int, default=DEFAULT_MAX_ROWS, show_default=True, help="Rows printed at most.")
def sql(query, fmt, server, token, data_dir, clickhouse_url, database, max_rows) -> None:
    """Run a read-only SQL query over the execution log and print the result.

    Tables: otel_traces, execlog_executions (query with FINAL), execlog_trace_rollups
    (sum(...) GROUP BY TraceId), otel_traces_trace_id_ts. Ready queries: docs/sql.md.
    Pass - as QUERY to read it from standard input.
    """
    if query == "-":
        query = click.get_text_stream("stdin").read()
    try:
        settings = Settings.from_env(data_dir=data_dir, clickhouse_url=clickhouse_url, database=database)
        result = run(settings, query or "", server=server, token=token, max_rows=max_rows)
    except (SqlError, StoreError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(FORMATTERS[fmt](result), nl=False)
    if result.truncated and fmt != "table":
        click.echo(f"execlog sql: output truncated to {max_rows} rows (--max-rows)", err=True)

