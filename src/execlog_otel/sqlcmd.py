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
import difflib
import io
import ipaddress
import json
import re
import sys
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

from execlog_otel.config import ConfigError, Settings, redact_url
from execlog_otel.store import errors as store_errors
from execlog_otel.store.client import DataDirLock, StoreError, chdb_path, connect

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


# Statements that change data or the schema: refused as writes. A word that is neither (a typo such as
# SELEC) is reported as an unknown statement, not as a write.
WRITE_STATEMENTS = ("INSERT", "ALTER", "DROP", "CREATE", "DELETE", "UPDATE", "TRUNCATE", "RENAME", "OPTIMIZE",
                    "SYSTEM", "KILL", "GRANT", "REVOKE", "ATTACH", "DETACH", "SET", "USE", "EXCHANGE", "UNDROP",
                    "MOVE", "BACKUP", "RESTORE", "REPLACE", "CHECK", "UPSERT", "MERGE")
UNKNOWN_STATEMENT = ("{word!r} is not a statement execlog sql runs{hint}: start the query with SELECT "
                     "(or WITH, SHOW, DESCRIBE, EXPLAIN, EXISTS).")
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
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # bytes that were not UTF-8 in the command line's argument
        raise SqlError(f"the query is not UTF-8 text (at character {exc.start}); write other bytes as escapes: "
                       "'\\xff'") from None
    body = _LEADING_COMMENTS.sub("", text, count=1)
    word = re.match(r"\(|[A-Za-z]+", body)
    keyword = word.group(0).upper() if word else ""
    if keyword not in READ_STATEMENTS:
        if keyword and keyword not in WRITE_STATEMENTS:
            close = difflib.get_close_matches(keyword, [w for w in READ_STATEMENTS if w != "("], n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise SqlError(UNKNOWN_STATEMENT.format(word=word.group(0), hint=hint))
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


def check_with_parser(client: Client, text: str, database: str | None = None) -> None:
    """Parse the statement with ClickHouse (formatQuerySingleLine, EXPLAIN AST) and refuse what reaches
    outside the store: local files, table functions, other databases (``confine``)."""
    try:
        formatted = client.query("SELECT formatQuerySingleLine({q:String})", parameters={"q": text}).result_rows[0][0]
    except ClickHouseError as exc:
        if store_errors.is_unknown_function(exc):
            return  # a server older than formatQuery; it has no OUTFILE and confines file() to user_files
        raise _rejected(exc) from None
    refuse_local_files(formatted)
    try:  # only once the whole text parsed as one statement: the engine would run a second one
        ast = "\n".join(r[0] for r in client.query(f"EXPLAIN AST {text}").result_rows)
    except ClickHouseError as exc:
        raise _rejected(exc) from None
    confine(formatted, ast, database or getattr(client, "database", None) or "")


# --- confinement: what a read may reach -----------------------------------------------------------
# Table functions that only compute; every other one (file, url, s3, remote, mysql, executable, python,
# merge, …) reaches files, URLs, other servers, the shell or other databases, and is refused. ClickHouse
# refuses them too under readonly=1, but not under readonly=2 (needed for per-query SETTINGS such as
# Grafana's ad-hoc filters), and DESCRIBE url(…) fetches the URL even under readonly=1.
SAFE_TABLE_FUNCTIONS = frozenset({"numbers", "numbers_mt", "zeros", "zeros_mt", "generate_series",
                                  "generateseries", "values", "null", "one"})
# Databases readable besides the store's: metadata only (clients list tables and settings).
METADATA_DATABASES = frozenset({"system", "information_schema"})
# The functions ``IN`` and its variants parse to; their right-hand side may name a table.
IN_FUNCTIONS = frozenset({"in", "notin", "globalin", "globalnotin", "nullin", "notnullin", "globalnullin",
                          "globalnotnullin"})
# Per-query settings a read may change. Limits only downwards (checked against the session's cap);
# format and display settings freely; everything else is refused.
LIMIT_SETTINGS = frozenset({"max_execution_time", "max_result_rows", "max_result_bytes", "max_rows_to_read",
                            "max_bytes_to_read", "max_memory_usage", "max_threads", "max_block_size",
                            "max_rows_to_group_by", "max_bytes_before_external_group_by"})
FREE_SETTINGS = frozenset({"result_overflow_mode", "timeout_overflow_mode", "read_overflow_mode",
                           "date_time_output_format", "date_time_input_format", "session_timezone",
                           "join_use_nulls", "limit", "offset", "additional_table_filters",
                           "enable_analyzer", "allow_experimental_analyzer", "use_query_cache_for_reads",
                           "extremes", "totals_mode", "group_by_overflow_mode", "prefer_column_name_to_alias",
                           "aggregate_functions_null_for_empty", "cast_keep_nullable", "output_format_pretty_color",
                           "http_write_exception_in_output_format", "allow_experimental_object_type",
                           "allow_experimental_json_type", "allow_suspicious_low_cardinality_types",
                           "low_cardinality_allow_in_native_format", "date_time_overflow_behavior",
                           "cast_string_to_dynamic_use_inference", "use_client_time_zone",
                           "query_plan_enable_optimizations",
                           "max_query_size", "log_comment", "workload", "priority", "optimize_read_in_order",
                           "optimize_aggregation_in_order", "transform_null_in", "any_join_distinct_right_table_keys",
                           "joined_subquery_requires_alias", "data_type_default_nullable",
                           "http_max_field_value_size", "send_profile_events"})
FREE_SETTING_PREFIXES = ("output_format_", "format_csv_", "format_tsv_", "format_custom_", "format_regexp_escaping",
                         "format_display_secrets", "input_format_")
# Format settings naming files on this machine.
FILE_SETTINGS = frozenset({"format_schema", "format_template_resultset", "format_template_row",
                           "format_template_rows_between_delimiter", "output_format_schema"})
_AST_LINE = re.compile(r"^( *)(\S+)(?: (.*))?$")
_FORMAT_CLAUSE = re.compile(r"\sFORMAT\s+(\w+)$")
_LIMIT_VALUE = re.compile(r"^'?(\d+(?:\.\d+)?)'?$")
_SETTING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Confinement:
    """What ``confine`` found: the statement's own FORMAT and SETTINGS (name -> literal as formatted)."""

    format: str | None
    settings: dict[str, str]
    formatted: str = ""


def refuse_local_files(formatted: str) -> None:
    """Refuse ``INTO OUTFILE`` and ``file()`` — before anything runs the statement, even ``EXPLAIN``."""
    if _LOCAL_FILES.search(formatted):
        raise SqlError(WRITE_REFUSED.format(what="reading or writing local files (file(), INTO OUTFILE)"))


def _ast_nodes(ast: str) -> list[tuple[int, str, str]]:
    nodes = []
    for line in ast.splitlines():
        m = _AST_LINE.match(line)
        if m:
            nodes.append((len(m.group(1)), m.group(2), (m.group(3) or "").split(" (")[0]))
    return nodes


def _database_of(name: str) -> str | None:
    """``db`` of a ``db.table`` identifier as EXPLAIN AST prints it (quotes stripped); None when unqualified."""
    parts = re.findall(r"`(?:[^`\\]|\\.)*`|\"(?:[^\"\\]|\\.)*\"|[^.]+", name)
    if len(parts) < 2:
        return None
    return parts[0].strip("`\"")


def confine(formatted: str, ast: str, database: str, limits: dict[str, int] | None = None) -> Confinement:
    """Refuse a statement that reaches beyond ``database`` (and the metadata databases), calls a table
    function other than ``SAFE_TABLE_FUNCTIONS``, or sets a setting outside the allowed subset.

    ``formatted`` is ClickHouse's own single-line formatting of the statement and ``ast`` its EXPLAIN AST,
    so comments, quoting and case cannot hide anything. ``limits`` are the session's caps; a limit
    setting may only lower them."""
    nodes = _ast_nodes(ast)
    _check_reach(nodes, database)
    refuse_local_files(formatted)
    clauses = settings_clauses(formatted)
    if len(clauses) != sum(1 for _, kind, _ in nodes if kind == "Set"):
        raise SqlError("the statement's SETTINGS could not be checked; write them as SETTINGS name = value, …")
    settings: dict[str, str] = {}
    for name, value in (pair for clause in clauses for pair in clause):
        check_setting(name, value, limits or {})
        settings[name] = value
    fmt = _FORMAT_CLAUSE.search(formatted)
    return Confinement(fmt.group(1) if fmt else None, settings, formatted)


def _check_reach(nodes: list[tuple[int, str, str]], database: str) -> None:
    """Table functions, ``file()``-like functions and tables of other databases, in the AST."""
    allowed_dbs = {database.lower(), *METADATA_DATABASES} if database else None
    for i, (depth, kind, arg) in enumerate(nodes):
        parent = next((nodes[j][1] for j in range(i - 1, -1, -1) if nodes[j][0] < depth), "")
        name = arg.split(" ")[0]
        if kind == "Function" and parent == "TableExpression" and name.lower() not in SAFE_TABLE_FUNCTIONS:
            raise SqlError(f"table function {name}() is refused: it reaches outside the execution "
                           "log (files, URLs, other servers or databases). Query the tables of the store.")
        if kind == "Function" and name.lower() in ("file", "joinget", "joingetornull"):
            raise SqlError(f"{name}() is refused: it reads outside the execution log")
        reads_table = kind == "TableIdentifier" or (kind == "Identifier" and parent == "ExpressionList"
                                                      and _in_rhs(nodes, i))
        db = _database_of(arg) if reads_table and allowed_dbs is not None else None
        if db is not None and db.lower() not in allowed_dbs:
            raise SqlError(f"database {db} is out of reach: only the execution log's database {database} "
                           f"(and {', '.join(sorted(METADATA_DATABASES))} for metadata) can be read")


def _in_rhs(nodes: list[tuple[int, str, str]], i: int) -> bool:
    """Whether node ``i`` is the right-hand side of IN (``x IN db.table`` reads that table).

    Only the IN family and only its second argument: ``indexOf(Events.Name, …)`` or ``s.TraceId IN (…)``
    name columns, not tables."""
    depth = nodes[i][0]
    earlier_siblings = 0
    for j in range(i - 1, -1, -1):
        if nodes[j][0] == depth:
            earlier_siblings += 1
        elif nodes[j][0] == depth - 1:  # the ExpressionList
            owner = next((nodes[k] for k in range(j - 1, -1, -1) if nodes[k][0] == depth - 2), None)
            return (earlier_siblings == 1 and owner is not None and owner[1] == "Function"
                    and owner[2].split(" ")[0].lower() in IN_FUNCTIONS)
    return False


def setting_name(name: str) -> str:
    """``name`` when it can be a setting's name (letters, digits, underscores), else SqlError: a session is
    given its settings by ``SET name = value`` text, where a name is not quoted (a parameter cannot name a
    setting) — a name with anything else in it would write its own statements there."""
    if not _SETTING_NAME.fullmatch(name):
        raise SqlError(f"setting {name[:80]!r} is refused: a setting's name has letters, digits and "
                       "underscores only")
    return name


def check_setting(name: str, value: str, limits: dict[str, int]) -> None:
    """Refuse a setting outside the allowed subset, or a limit raised above the session's cap."""
    lower = setting_name(name).lower()
    if lower in FILE_SETTINGS or lower.startswith("format_template"):
        raise SqlError(f"setting {name} is refused: it names a file on the server")
    if lower == "readonly" and value.strip("'") not in ("1", "2"):
        raise SqlError(f"setting readonly={value} is refused: queries here are read-only (1 or 2)")
    if lower in LIMIT_SETTINGS:
        number = _LIMIT_VALUE.match(value.strip())
        cap = limits.get(lower)
        if number is None:
            raise SqlError(f"setting {name}={value}: expected a number")
        if cap is not None and (float(number.group(1)) > cap or float(number.group(1)) == 0):  # 0: no limit
            raise SqlError(f"setting {name}={value} is refused: the limit here is {cap}; it can only be lowered")
        return
    if lower == "readonly" or lower in FREE_SETTINGS or lower.startswith(FREE_SETTING_PREFIXES):
        if lower == "additional_table_filters":
            _check_table_filters(value)
        return
    raise SqlError(f"setting {name} is refused: the read-only endpoint allows limits (lowered only), "
                   "format and display settings, and additional_table_filters")


def clamp_limit(name: str, value: str, limits: dict[str, int]) -> str:
    """A limit sent alongside a query (a client's URL setting) capped at the session's own: clients such as
    Grafana send their own timeout as ``max_execution_time`` with every query, and the cap applies anyway."""
    number = _LIMIT_VALUE.match(value.strip())
    cap = limits.get(name.lower())
    if cap is not None and number is not None and (float(number.group(1)) > cap or float(number.group(1)) == 0):
        return str(cap)
    return value


def _check_table_filters(value: str) -> None:
    """``additional_table_filters`` holds SQL expressions the engine parses later: no subquery, no other
    table, no file in them — plain conditions (what Grafana's ad-hoc filters write)."""
    if re.search(r"\bselect\b|\bfile\s*\(|\bjoinget|\bdictget|\bIN\s+[A-Za-z_`\"]", value, re.I):
        raise SqlError("additional_table_filters may hold plain conditions only (no subqueries, tables, "
                       "dictionaries or files)")


def settings_clauses(formatted: str) -> list[list[tuple[str, str]]]:
    """Every ``SETTINGS name = value, …`` clause of a formatted statement, outside string literals."""
    clauses: list[list[tuple[str, str]]] = []
    tokens = _tokens(formatted)
    i = 0
    while i < len(tokens):
        kind, text, depth = tokens[i]
        if kind == "word" and text.upper() == "SETTINGS" and (i == 0 or tokens[i - 1][1] != ".") \
                and i + 2 < len(tokens) and tokens[i + 1][0] == "word" and tokens[i + 2][1] == "=":
            clause: list[tuple[str, str]] = []
            i += 1
            while i + 1 < len(tokens) and tokens[i][0] == "word" and tokens[i + 1][1] == "=":
                name, i = tokens[i][1], i + 2
                start = i
                while i < len(tokens) and not (tokens[i][2] == depth and (tokens[i][1] == "," or (
                        tokens[i][0] == "word" and tokens[i][1].upper() == "FORMAT"))) and tokens[i][2] >= depth \
                        and not (tokens[i][1] == ")" and tokens[i][2] == depth):
                    i += 1
                clause.append((name, " ".join(t[1] for t in tokens[start:i])))
                if i < len(tokens) and tokens[i][1] == ",":
                    i += 1
                else:
                    break
            clauses.append(clause)
            continue
        i += 1
    return clauses


_TOKEN = re.compile(r"'(?:[^'\\]|\\.|'')*'|`(?:[^`\\]|\\.)*`|\"(?:[^\"\\]|\\.)*\"|[A-Za-z_][A-Za-z0-9_]*|\d[\w.]*|"
                    r"[()\[\]{}]|,|=|[^\s\w'`\"()\[\]{},=]+")


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, bracket depth) of each token; string literals stay whole."""
    out, depth = [], 0
    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        if tok in ")]}":
            depth -= 1
        kind = "word" if re.match(r"[A-Za-z_]", tok) else "str" if tok[0] in "'`\"" else "sym"
        out.append((kind, tok, depth))
        if tok in "([{":
            depth += 1
    return out


def run_read_only(client: Client, sql: str, max_rows: int = DEFAULT_MAX_ROWS,
                  database: str | None = None) -> QueryResult:
    """Run one read statement on a read-only client (or pool of them) in ``database`` (default: the client's);
    errors become SqlError with ClickHouse's reason."""
    text = check_query(sql)
    if not 1 <= max_rows <= MAX_ROWS_LIMIT:
        raise SqlError(f"max rows must be between 1 and {MAX_ROWS_LIMIT}, got {max_rows}")
    check_with_parser(client, text, database)
    try:
        result = client.query(text)
        names = list(result.column_names)
    except ClickHouseError as exc:
        raise _rejected(exc) from None
    except UnicodeDecodeError:
        result, names = _with_names_made_valid(client, text)
    rows = result.result_rows
    truncated = len(rows) > max_rows
    return QueryResult(names, [t.name for t in result.column_types],
                       [[_cell(v) for v in row] for row in rows[:max_rows]], truncated)


NAMES_NOT_UTF8 = ("a column name or type of the result is not UTF-8 text: name the columns with AS "
                  "(SELECT '\\xff' AS name), cast such types to String")


def _with_names_made_valid(client: Client, text: str) -> tuple[Any, list[str]]:
    """The result of ``text`` and its column names, when a name is not UTF-8 (``SELECT '\\xff'``).

    clickhouse-connect decodes names strictly, so such a name fails the whole result. ClickHouse says the
    names instead (its plan's header, as JSON; the bytes that are not UTF-8 replaced by U+FFFD), and the
    values come under positional names."""
    try:
        plan = client.query(f"EXPLAIN json = 1, header = 1, description = 0 {text}").result_rows[0][0]
        if not plan.startswith("["):  # a String that is not UTF-8 comes as the hex of its bytes
            plan = bytes.fromhex(plan).decode("utf-8", errors="replace")
        names = [str(c["Name"]) for c in json.loads(plan)[0]["Plan"]["Header"]]
        positional = ", ".join(f"c{i}" for i in range(1, len(names) + 1))
        result = client.query(f"SELECT * FROM ({text}) AS execlog_result({positional})")
    except ClickHouseError as exc:  # e.g. a server without column aliases: ask for names that are text
        refused = _rejected(exc)
        raise refused if isinstance(refused, SqlTimeout) else SqlError(NAMES_NOT_UTF8) from None
    except (UnicodeDecodeError, ValueError, LookupError, TypeError):  # a type not UTF-8 either (an Enum's)
        raise SqlError(NAMES_NOT_UTF8) from None
    if len(result.column_names) != len(names):
        raise SqlError(NAMES_NOT_UTF8)
    return result, names


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
        raw = sys.stdin.buffer.read()  # bytes: ClickHouse takes UTF-8, whatever the locale says
        try:
            query = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise click.ClickException(f"the query on standard input is not UTF-8 text (byte {raw[exc.start]:#04x} "
                                       f"at offset {exc.start}); write other bytes as escapes: '\\xff'") from None
    try:
        settings = Settings.from_env(data_dir=data_dir, clickhouse_url=clickhouse_url, database=database)
        result = run(settings, query or "", server=server, token=token, max_rows=max_rows)
    except (SqlError, StoreError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(FORMATTERS[fmt](result), nl=False)
    if result.truncated and fmt != "table":
        click.echo(f"execlog sql: output truncated to {max_rows} rows (--max-rows)", err=True)

