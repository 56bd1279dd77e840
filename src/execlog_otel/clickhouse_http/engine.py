"""Read-only sessions on the store's engine, and running one checked statement in a requested FORMAT.

The endpoint runs inside ``execlog serve``, the process owning the embedded store: each session is a
chDB connection to the same engine (chDB lets one process open any number of them; they share the
data, not their settings). A session starts in the store's database with the query limits, then
``readonly=2``: ClickHouse refuses writes and DDL, lets a query lower limits and set format settings
(Grafana's ad-hoc filters need ``SETTINGS additional_table_filters``), and the guard of ``execlog sql``
(``sqlcmd.confine``) refuses what readonly=2 still allows: table functions, other databases, settings
outside the safe subset.

The engine writes the result in the client's FORMAT and the bytes go out as they are: formats whose
blocks concatenate (Native, TabSeparated, CSV, RowBinary, JSONEachRow…) stream block by block; the
others (JSON, Parquet, Arrow, *WithNames…) are one buffer, handed out as a view of the engine's
memory, not copied.
"""

from __future__ import annotations

import os
import queue
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import chdb

from execlog_otel import sqlcmd
from execlog_otel.clickhouse_http.errors import READONLY, SYNTAX_ERROR, ChError
from execlog_otel.store.client import chdb_path

# Result limits of every query (a query may lower them, never raise them).
MAX_RESULT_ROWS = 10_000_000
MAX_RESULT_BYTES = 512 * 1024 * 1024
# Formats whose per-block outputs concatenate into one valid stream (no header, footer or separators).
STREAMED_FORMATS = frozenset({"native", "tabseparated", "tsv", "tabseparatedraw", "tsvraw", "csv", "rowbinary",
                              "jsoneachrow", "jsoncompacteachrow", "jsonstringseachrow", "jsoncompactstringseachrow",
                              "ndjson", "jsonlines", "tskv", "lineasstring"})


def escape_param(value: str) -> str:
    """A parameter value in the escaped text form the engine reads (as ClickHouse's HTTP params)."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass
class Result:
    """A running statement's output: its format, the chunks (bytes or views), the engine's counters."""

    format: str
    chunks: Iterator[Any]
    summary: dict[str, str] = field(default_factory=dict)
    length: int | None = None  # known for a result made in one piece


class Engine:
    """A pool of read-only sessions over the store at ``store_url`` (``chdb://``)."""

    def __init__(self, store_url: str, database: str, timeout_s: float, size: int = 8):
        path = chdb_path(store_url)
        if path is None:
            raise ValueError("the ClickHouse HTTP endpoint serves the embedded store (chdb://) only")
        # The same spelling clickhouse-connect gives chDB: the engine compares paths literally.
        self._conn_str = os.path.realpath(path)
        self.database = database
        self.limits = {"max_execution_time": max(int(timeout_s), 1), "max_result_rows": MAX_RESULT_ROWS,
                       "max_result_bytes": MAX_RESULT_BYTES}
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self._closed = False
        with self._session({}) as conn:
            row = conn.query("SELECT displayName(), version(), timezone()", "TabSeparatedRaw").bytes()
        self.display_name, self.version, self.timezone = row.decode().rstrip("\n").split("\t")

    def _open(self, settings: dict[str, str]) -> Any:
        conn = chdb.connect(self._conn_str)
        try:
            conn.query(f"USE {self.database}", "TabSeparated")  # a checked identifier (store.schema)
            # readonly goes last: after it no limit can be raised. A client may ask for 1 (stricter), not 0.
            readonly = "1" if settings.get("readonly", "").strip("'") == "1" else "2"
            chosen = {k: v for k, v in settings.items() if k != "readonly"}
            for name, value in {**self.limits, "result_overflow_mode": "throw", **chosen}.items():
                conn.query(f"SET {sqlcmd.setting_name(name)} = {_quote(str(value))}", "TabSeparated")
            conn.query(f"SET readonly = {readonly}", "TabSeparated")
        except Exception:
            conn.close()
            raise
        return conn

    @contextmanager
    def _session(self, settings: dict[str, str]) -> Iterator[Any]:
        """A session: a pooled one, or a fresh one with the request's own settings (closed afterwards)."""
        if not self._slots.acquire(timeout=30):
            raise ChError(202, "TOO_MANY_SIMULTANEOUS_QUERIES", "too many simultaneous queries; try again")
        conn = None
        try:
            if settings:
                conn = self._open(settings)
            else:
                try:
                    conn = self._idle.get_nowait()
                except queue.Empty:
                    conn = self._open({})
            yield conn
        finally:
            if conn is not None:
                if settings or self._closed:
                    conn.close()
                else:
                    self._idle.put(conn)
            self._slots.release()

    def check(self, conn: Any, text: str, params: dict[str, str]) -> sqlcmd.Confinement:
        """``execlog sql``'s guard on ClickHouse's own parse of the statement."""
        try:  # the engine's parser first: a typo is a syntax error, as ClickHouse says it
            formatted = conn.query("SELECT formatQuerySingleLine({q:String})", "TabSeparatedRaw",
                                   params={"q": escape_param(text)}).bytes().decode().rstrip("\n")
        except Exception as exc:  # noqa: BLE001 - the engine's parse error, as ClickHouse words it
            raise ChError.from_engine(exc) from None
        try:
            statement = sqlcmd.check_query(text)
            sqlcmd.refuse_local_files(formatted)
        except sqlcmd.SqlError as exc:
            raise ChError.of(READONLY if "read-only" in str(exc) else SYNTAX_ERROR, str(exc)) from None
        try:  # only once the text parsed as one statement (formatQuerySingleLine refuses several)
            ast = conn.query(f"EXPLAIN AST {statement}", "TabSeparatedRaw", params=params).bytes().decode()
        except Exception as exc:  # noqa: BLE001
            raise ChError.from_engine(exc) from None
        try:
            return sqlcmd.confine(formatted, ast, self.database, self.limits)
        except sqlcmd.SqlError as exc:
            raise ChError.of(READONLY, str(exc)) from None

    @contextmanager
    def run(self, text: str, default_format: str, params: dict[str, str], settings: dict[str, str]
            ) -> Iterator[Result]:
        """Check and start ``text``; the result's chunks are valid inside the ``with`` block."""
        settings = {name: sqlcmd.clamp_limit(name, value, self.limits) for name, value in settings.items()}
        for name, value in settings.items():
            try:
                sqlcmd.check_setting(name, value, self.limits)
            except sqlcmd.SqlError as exc:
                raise ChError.of(READONLY, str(exc)) from None
        with self._session(settings) as conn:
            confinement = self.check(conn, text, params)
            fmt = confinement.format or default_format
            statement = sqlcmd.check_query(text)
            try:
                # chDB streams SELECTs only (SHOW, DESCRIBE, EXPLAIN answer in one piece).
                if fmt.lower() in STREAMED_FORMATS and re.match(r"\(*\s*(SELECT|WITH)\b", confinement.formatted):
                    stream = conn.send_query(statement, fmt, params=params)
                    try:
                        yield Result(fmt, _streamed(stream))
                    finally:
                        stream.close()
                else:
                    result = conn.query(statement, fmt, params=params)
                    view = result.get_memview()
                    size = view.size()
                    yield Result(fmt, iter([view.view()] if size else []), _summary(result), size)
            except ChError:
                raise
            except Exception as exc:  # noqa: BLE001 - the engine refused or failed the query
                raise ChError.from_engine(exc) from None

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
            except Exception:  # noqa: BLE001 - closing must never raise
                pass


def _streamed(stream: Any) -> Iterator[bytes]:
    for chunk in stream:
        data = chunk.bytes()
        if data:
            yield data


def _summary(result: Any) -> dict[str, str]:
    try:
        return {"read_rows": str(result.rows_read()), "read_bytes": str(result.bytes_read()),
                "elapsed_ns": str(int(result.elapsed() * 1e9))}
    except Exception:  # noqa: BLE001 - counters are informative only
        return {}
