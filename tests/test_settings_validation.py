"""Settings that cannot work are refused when they are read, with one line naming the variable (or option)
and what to write; every execlog command says so without a traceback."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks.common import clean_env
from click.testing import CliRunner

from execlog_otel import server as server_mod
from execlog_otel.cli import main
from execlog_otel.config import MAX_RETENTION_DAYS, SETTINGS, ConfigError, Settings
from execlog_otel.store import schema
from execlog_otel.viewer.auth import hash_password, parse_users

FILE = "{file}"  # replaced by the path of a file, where a directory is expected

# (variable, value, what the message says besides the variable)
REFUSED = [
    # DateTime ends in 2106: a longer TTL wraps around to the 1970s and deleted every span at once.
    ("EXECLOG_RETENTION_DAYS", "36500", "must be at most 20,000: a later TTL passes the end of ClickHouse's "
                                        "DateTime (2106-02-07)"),
    ("EXECLOG_RETENTION_DAYS", str(MAX_RETENTION_DAYS + 1), "must be at most 20,000"),
    ("EXECLOG_RETENTION_DAYS", "0", "must be at least 1"),
    # NaN and infinity passed "> 0" (inf) or every comparison (nan); every read then failed with 500.
    ("EXECLOG_QUERY_TIMEOUT_S", "nan", "expected a positive, finite number"),
    ("EXECLOG_QUERY_TIMEOUT_S", "inf", "expected a positive, finite number"),
    ("EXECLOG_QUERY_TIMEOUT_S", "-inf", "expected a positive, finite number"),
    ("EXECLOG_QUERY_TIMEOUT_S", "0", "expected a positive, finite number"),
    ("EXECLOG_QUERY_TIMEOUT_S", "1e300", "must be at most 86,400"),
    ("EXECLOG_PORT", "99999", "must be at most 65,535"),
    ("EXECLOG_PORT", "-1", "must be at least 0"),
    ("EXECLOG_CLICKHOUSE_HTTP_PORT", "99999", "expected a port number (0 to 65535; 0: any free port) or off"),
    ("EXECLOG_CLICKHOUSE_HTTP_PORT", "http", "expected a port number"),
    ("EXECLOG_MAX_BODY_BYTES", "0", "must be at least 1: it is the size of the largest request accepted"),
    ("EXECLOG_MAX_BODY_BYTES", str(2 ** 63), "must be at most 1,073,741,824"),
    ("EXECLOG_LOG_LINGER_MS", "99999999999999", "must be at most 60,000"),
    ("EXECLOG_LOG_LINGER_MS", "-5", "must be at least 0"),
    ("EXECLOG_FLUSH_INTERVAL_MS", "0", "must be at least 1"),
    ("EXECLOG_FLUSH_INTERVAL_MS", "600000", "must be at most 60,000"),
    ("EXECLOG_PAYLOAD_CAP", "100", "must be at least 256 (or 0: no cap)"),
    ("EXECLOG_MAX_ATTEMPTS", "0", "must be at least 1"),
    ("EXECLOG_MAX_ATTEMPTS", "99999999999999999999999", "must be at most 1,000"),
    ("EXECLOG_LOG_BATCH_SPANS", "0", "must be at least 1"),
    ("EXECLOG_SPOOL_MAX_BYTES", "-1", "must be at least 0"),
    ("EXECLOG_MAX_ATTRIBUTE_BYTES", "-1", "must be at least 0"),
    ("EXECLOG_MAX_SPANS_PER_REQUEST", "-1", "must be at least 0"),
    ("EXECLOG_DATABASE", "my db", "expected a ClickHouse database name: letters, digits and underscores"),
    ("EXECLOG_DATABASE", "otel;DROP", "expected a ClickHouse database name"),
    ("EXECLOG_CLICKHOUSE_URL", "http://[::1", "not a valid URL (Invalid IPv6 URL); expected chdb:///path or "
                                             "http(s)://user:password@host:port/database"),
    ("EXECLOG_CLICKHOUSE_URL", "http://ch:99999/otel", "not a valid URL"),
    ("EXECLOG_CLICKHOUSE_URL", "ftp://ch/otel", "expected chdb:///path or http(s)://"),
    ("EXECLOG_READ_URL", "https://[replica", "not a valid URL"),
    ("EXECLOG_BASE_URL", "http://[::1", "not a valid URL"),
    ("EXECLOG_BASE_URL", "execlog.example.com", "expected the viewer's public http(s) URL"),
    ("EXECLOG_RETRY_ALLOWED_URLS", "notaurl", "'notaurl' is not an http(s) URL; expected comma-separated "
                                              "http(s)://host:port/path URLs"),
    ("EXECLOG_RETRY_ALLOWED_URLS", "http://127.0.0.1:4319/retry,http://[::1", "is not a valid URL"),
    ("EXECLOG_DATA_DIR", FILE, "is a file, not a directory"),
    ("EXECLOG_SPOOL_DIR", FILE, "is a file, not a directory"),
]

# (variable, value, attribute, value read): the edges of what is accepted, and what 0 means where it means something
ACCEPTED = [
    ("EXECLOG_RETENTION_DAYS", str(MAX_RETENTION_DAYS), "retention_days", MAX_RETENTION_DAYS),
    ("EXECLOG_RETENTION_DAYS", "1", "retention_days", 1),
    ("EXECLOG_PORT", "0", "port", 0),
    ("EXECLOG_PORT", "65535", "port", 65535),
    ("EXECLOG_CLICKHOUSE_HTTP_PORT", "off", "clickhouse_http_port", "off"),
    ("EXECLOG_CLICKHOUSE_HTTP_PORT", "0", "clickhouse_http_port", "0"),
    ("EXECLOG_CLICKHOUSE_HTTP_PORT", "65535", "clickhouse_http_port", "65535"),
    ("EXECLOG_QUERY_TIMEOUT_S", "0.5", "query_timeout_s", 0.5),
    ("EXECLOG_MAX_BODY_BYTES", "1", "max_body_bytes", 1),
    ("EXECLOG_LOG_LINGER_MS", "0", "log_linger_ms", 0),
    ("EXECLOG_LOG_LINGER_MS", "60000", "log_linger_ms", 60_000),
    ("EXECLOG_PAYLOAD_CAP", "0", "payload_cap_bytes", 0),
    ("EXECLOG_PAYLOAD_CAP", "256", "payload_cap_bytes", 256),
    ("EXECLOG_SPOOL_MAX_BYTES", "0", "spool_max_bytes", 0),
    ("EXECLOG_MAX_ATTRIBUTE_BYTES", "0", "max_attribute_bytes", 0),
    ("EXECLOG_MAX_SPANS_PER_REQUEST", "0", "max_spans_per_request", 0),
    ("EXECLOG_DATABASE", "my_db_2", "database", "my_db_2"),
    ("EXECLOG_CLICKHOUSE_URL", "http://u:pw@[::1]:8123/otel", "clickhouse_url", "http://u:pw@[::1]:8123/otel"),
    ("EXECLOG_CLICKHOUSE_URL", "chdb:///tmp/x", "clickhouse_url", "chdb:///tmp/x"),
    ("EXECLOG_BASE_URL", "https://execlog.example.com/", "base_url", "https://execlog.example.com/"),
    ("EXECLOG_RETRY_ALLOWED_URLS", "http://10.0.0.5:4319/retry", "retry_allowed_urls",
     ("http://10.0.0.5:4319/retry",)),
]


@pytest.fixture(autouse=True)
def no_execlog_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only the test's own settings; the embedded store, if a command gets that far, in the test's directory."""
    import os

    for name in list(os.environ):
        if name.startswith(("EXECLOG_", "OTEL_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("EXECLOG_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def a_file(tmp_path: Path) -> str:
    path = tmp_path / "a-file"
    path.write_text("not a directory\n")
    return str(path)


@pytest.mark.parametrize(("variable", "value", "says"), REFUSED, ids=[f"{v}={x[:20]}" for v, x, _ in REFUSED])
def test_a_value_that_cannot_work_is_refused_naming_the_variable(variable, value, says, a_file):
    value = value.replace(FILE, a_file)
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(environ={variable: value})
    message = str(refused.value)
    assert message.startswith(f"{variable}"), message
    assert says in message
    assert "\n" not in message


@pytest.mark.parametrize(("variable", "value", "attr", "read"), ACCEPTED, ids=[f"{v}={x}" for v, x, _, _ in ACCEPTED])
def test_values_at_the_bounds_are_accepted(variable, value, attr, read):
    assert getattr(Settings.from_env(environ={variable: value}), attr) == read


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.parse in ("int", "float")], ids=lambda s: s.env)
def test_every_numeric_setting_refuses_negative_not_finite_and_too_large_values(setting):
    refused = ["-1", "nan", "inf", "-inf"] if setting.parse == "float" else ["-1"]
    if setting.most is not None:
        refused.append(str(setting.most + 1))
    for value in refused:
        with pytest.raises(ConfigError, match=setting.env):
            Settings.from_env(environ={setting.env: value})


def test_settings_made_in_code_are_checked_too():
    """replace() and the constructor (the SDK's arguments, tests, create_app callers) meet the same checks."""
    with pytest.raises(ConfigError, match=r"EXECLOG_PORT=70000: must be at most 65,535"):
        dataclasses.replace(Settings(), port=70000)
    with pytest.raises(ConfigError, match="EXECLOG_QUERY_TIMEOUT_S=nan: expected a positive, finite number"):
        Settings(query_timeout_s=math.nan)
    with pytest.raises(ConfigError, match="EXECLOG_LOG_LINGER_MS"):
        dataclasses.replace(Settings(), log_linger_ms=99_999_999_999_999)


def test_an_option_is_named_when_its_value_is_refused_and_overrides_the_variable():
    with pytest.raises(ConfigError, match=r"^--retention-days=36500: must be at most 20,000"):
        Settings.from_env(environ={}, retention_days=36500)
    with pytest.raises(ConfigError, match=r"^--database='my db': expected a ClickHouse database name"):
        Settings.from_env(environ={}, database="my db")
    # The option wins over the variable, so the variable's value does not matter then.
    assert Settings.from_env(environ={"EXECLOG_PORT": "99999"}, port=4000).port == 4000


def test_a_store_url_that_does_not_parse_is_refused_without_its_password():
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(environ={"EXECLOG_CLICKHOUSE_URL": "http://ingest:hunter2@[::1:8123/otel"})
    assert "hunter2" not in str(refused.value)
    assert "EXECLOG_CLICKHOUSE_URL='http://ingest:***@[::1:8123/otel': not a valid URL" in str(refused.value)


def test_the_schema_refuses_a_retention_past_the_end_of_datetime():
    """execlog schema --retention-days and every other DDL path (render) check it too, not only the settings."""
    with pytest.raises(schema.SchemaError, match=r"from 1 to 20,000, got 36500 \(a longer one passes the end of "
                                                 r"ClickHouse's DateTime, 2106-02-07"):
        schema.ddl("otel", 36500)
    assert f"toIntervalDay({MAX_RETENTION_DAYS})" in schema.ddl("otel", MAX_RETENTION_DAYS)


def test_the_retention_bound_keeps_the_ttl_before_datetime_wraps(ch_client):
    """Why the bound: the TTL of a span stored today stays after today at MAX_RETENTION_DAYS; at 36,500 days it
    lands in the past (DateTime wraps after 2106-02-07), so ClickHouse dropped every span at the next merge."""
    ttl = "toDateTime(now()) + toIntervalDay({days:UInt32})"
    assert ch_client.query(f"SELECT {ttl} > now()", parameters={"days": MAX_RETENTION_DAYS}).result_rows == [(1,)]
    assert ch_client.query(f"SELECT {ttl} > now()", parameters={"days": 36_500}).result_rows == [(0,)]


def test_a_plain_password_in_auth_users_is_refused_without_showing_it():
    with pytest.raises(ValueError, match=r"the entry of user 'bob' is not a password hash: .*`execlog hash-password`") \
            as refused:
        parse_users(("bob:hunter2",))
    assert "hunter2" not in str(refused.value)
    from werkzeug.security import generate_password_hash

    scrypt, pbkdf2 = hash_password("s3cret"), generate_password_hash("s3cret", method="pbkdf2")
    assert parse_users((f"ana:{scrypt}", f"bob:{pbkdf2}")) == {"ana": scrypt, "bob": pbkdf2}


def test_serve_refuses_a_plain_password_in_auth_users_at_start(settings, store):
    """It started, and every sign-in failed."""
    with pytest.raises(ConfigError, match="EXECLOG_AUTH_USERS: the entry of user 'bob' is not a password hash"):
        server_mod.start(dataclasses.replace(settings, auth_users=("bob:hunter2",), auth_token="t" * 32),
                         store=store)


# --- every command: one line naming the setting, exit status 1, no traceback ----------------------------------
CLI_REFUSED = [
    (["serve"], {"EXECLOG_RETENTION_DAYS": "36500"}, "EXECLOG_RETENTION_DAYS='36500': must be at most 20,000"),
    (["schema", "--retention-days", "36500"], {}, "--retention-days=36500: must be at most 20,000"),
    (["schema"], {"EXECLOG_RETENTION_DAYS": "36500"}, "EXECLOG_RETENTION_DAYS='36500'"),
    (["schema", "--cluster", ""], {}, "--cluster: expected the name of a cluster"),
    (["serve"], {"EXECLOG_QUERY_TIMEOUT_S": "nan"}, "EXECLOG_QUERY_TIMEOUT_S='nan': expected a positive, finite"),
    (["serve"], {"EXECLOG_DATABASE": "my db"}, "EXECLOG_DATABASE='my db': expected a ClickHouse database name"),
    (["status"], {"EXECLOG_DATABASE": "my db"}, "EXECLOG_DATABASE='my db'"),
    (["serve"], {"EXECLOG_CLICKHOUSE_URL": "http://[::1"}, "EXECLOG_CLICKHOUSE_URL='http://[::1': not a valid URL"),
    (["status"], {"EXECLOG_CLICKHOUSE_URL": "http://[::1"}, "EXECLOG_CLICKHOUSE_URL='http://[::1'"),
    (["prices"], {"EXECLOG_CLICKHOUSE_URL": "http://[::1"}, "EXECLOG_CLICKHOUSE_URL='http://[::1'"),
    (["viewer"], {"EXECLOG_BASE_URL": "http://[::1"}, "EXECLOG_BASE_URL='http://[::1': not a valid URL"),
    (["serve"], {"EXECLOG_RETRY_ALLOWED_URLS": "notaurl"}, "EXECLOG_RETRY_ALLOWED_URLS: 'notaurl' is not an"),
    (["serve"], {"EXECLOG_PORT": "99999"}, "EXECLOG_PORT='99999': must be at most 65,535"),
    (["serve", "--port", "99999"], {}, "--port=99999: must be at most 65,535"),
    (["serve"], {"EXECLOG_CLICKHOUSE_HTTP_PORT": "70000"}, "EXECLOG_CLICKHOUSE_HTTP_PORT='70000'"),
    (["serve"], {"EXECLOG_MAX_BODY_BYTES": "0"}, "EXECLOG_MAX_BODY_BYTES='0': must be at least 1"),
    (["serve"], {"EXECLOG_LOG_LINGER_MS": "99999999999999"}, "EXECLOG_LOG_LINGER_MS='99999999999999': must be at"),
    (["serve"], {"EXECLOG_DATA_DIR": FILE}, "is a file, not a directory"),
    (["serve"], {"EXECLOG_SPOOL_DIR": FILE}, "EXECLOG_SPOOL_DIR="),
    # A directory that cannot be made is only known when it is made: the command names its setting then.
    (["serve", "--port", "0"], {"EXECLOG_DATA_DIR": FILE + "/data"}, "EXECLOG_DATA_DIR={file}/data: cannot make "
                                                                    "or use {file}/data (Not a directory)"),
    (["serve", "--port", "0", "--data", FILE + "/data"], {}, "--data={file}/data: cannot make or use"),
    (["dead-letter", "requeue", "--all"], {"EXECLOG_SPOOL_DIR": FILE + "/log"}, "EXECLOG_SPOOL_DIR={file}/log: "
                                                                              "cannot make or use {file}/log"),
    (["dead-letter", "list", "--log-dir", FILE], {}, "--log-dir={file}: cannot make or use {file}"),
    (["dead-letter", "requeue", "--all", "--log-dir", FILE + "/log"], {}, "--log-dir={file}/log: cannot make"),
]

INSTRUMENT_REFUSED = [
    (["instrument", "--", sys.executable, "-c", "pass"], {"EXECLOG_FLUSH_INTERVAL_MS": "abc"},
     "EXECLOG_FLUSH_INTERVAL_MS='abc': expected a whole number"),
    (["instrument", "--clickhouse", "http://[::1", "--", sys.executable, "-c", "pass"], {},
     "EXECLOG_CLICKHOUSE_URL='http://[::1': not a valid URL"),
]


@pytest.mark.parametrize(("args", "env", "says"), INSTRUMENT_REFUSED)
def test_instrument_with_a_bad_setting_runs_the_program_unrecorded_saying_why(args, env, says, monkeypatch):
    """A job must not stop for its recording: one line says what to fix, and the program runs without the
    instrumentation (inside it, each instrumentor printed a traceback of the same setting)."""
    ran: list[tuple] = []
    monkeypatch.setattr("os.execve", lambda *a: ran.append(("instrumented", *a)))
    monkeypatch.setattr("os.execvpe", lambda *a: ran.append(("plain", *a)))
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert says in result.output and "not recording executions" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert [(r[0], r[2]) for r in ran] == [("plain", [sys.executable, "-c", "pass"])]
    assert "OTEL_PYTHON_DISTRO" not in ran[0][3]


@pytest.mark.parametrize(("args", "env", "says"), CLI_REFUSED, ids=[" ".join(a[:3]) + " " + " ".join(e)
                                                                   for a, e, _ in CLI_REFUSED])
def test_every_command_refuses_a_bad_setting_in_one_line(args, env, says, a_file, monkeypatch):
    def refuse(what: str):
        def went_on(*_: object, **__: object) -> None:
            raise AssertionError(f"{what} with settings that cannot work")
        return went_on

    # Were a setting let through, the command must stop here: not run the program, nor open a store in this
    # process (chDB opens one data directory per process) and serve.
    monkeypatch.setattr("os.execve", refuse("the program ran"))
    monkeypatch.setattr("clickhouse_connect.get_client", refuse("a store was opened"))
    args = [a.replace(FILE, a_file) for a in args]
    env = {k: v.replace(FILE, a_file) for k, v in env.items()}
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert says.replace(FILE, a_file) in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_serve_refuses_a_plain_password_in_auth_users_in_one_line(tmp_path):
    run = subprocess.run([sys.executable, "-m", "execlog_otel.cli", "serve", "--port", "0"], capture_output=True,
                         text=True, timeout=120,
                         env=clean_env(EXECLOG_DATA_DIR=str(tmp_path / "data"), EXECLOG_CLICKHOUSE_HTTP_PORT="off",
                                       EXECLOG_AUTH_USERS="bob:hunter2"))
    assert run.returncode == 1, run.stdout
    assert run.stderr.strip() == ("execlog: EXECLOG_AUTH_USERS: the entry of user 'bob' is not a password hash: "
                                  "write bob:<hash>, the hash made by `execlog hash-password`")


# --- execlog sql and text that is not UTF-8 -------------------------------------------------------------------
def test_sql_from_standard_input_that_is_not_utf8_is_one_line():
    result = CliRunner().invoke(main, ["sql", "-"], input=b"SELECT \xff", catch_exceptions=False)
    assert result.exit_code == 1
    assert result.output.strip() == ("Error: the query on standard input is not UTF-8 text (byte 0xff at offset 7); "
                                     "write other bytes as escapes: '\\xff'")


def test_sql_argument_that_is_not_utf8_is_one_line():
    """The command line's bytes that are not UTF-8 arrive as surrogates; ClickHouse's driver failed on them."""
    result = CliRunner().invoke(main, ["sql", "SELECT '\udcff'"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "the query is not UTF-8 text (at character 8)" in result.output


def test_sql_shows_a_column_name_that_is_not_utf8_with_replacement_characters(chdb_url, store, server):
    """SELECT '\\xff' names its column with the byte 0xff: it said "internal error" (through a server) or
    printed a UnicodeDecodeError traceback (directly)."""
    query = "SELECT '\\xff', 1 AS n, 'a\\xffb' AS `c\\xff`"
    for where in (["--clickhouse", chdb_url, "--database", store.database], ["--server", server.url]):
        result = CliRunner().invoke(main, ["sql", "-f", "json", *where, query], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        # Values that are not UTF-8 come as their hex, as before; names with U+FFFD for the bad bytes.
        assert result.output == '[\n  {\n    "\'\ufffd\'": "ff",\n    "n": 1,\n    "c\ufffd": "61ff62"\n  }\n]\n'
    result = CliRunner().invoke(main, ["sql", "--clickhouse", chdb_url, "--database", store.database,
                                       "SELECT CAST(1 AS Enum8('\\xff' = 1)) AS e"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "a column name or type of the result is not UTF-8 text: name the columns with AS" in result.output
