"""The ``execlog`` command."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from execlog_otel.config import ConfigError, Settings
from execlog_otel.sqlcmd import sql as sql_command
from execlog_otel.store.client import StoreError
from execlog_otel.store.schema import SchemaError

_DIRECTORIES = "execlog.directories"  # (name, value, path) of the directories a command uses: _directory_problem


def _note_directory(name: str, value: str, path: Path) -> None:
    """Remember a directory the command uses, so a failure to make or open it names its setting."""
    context = click.get_current_context(silent=True)
    if context is not None:
        context.meta.setdefault(_DIRECTORIES, []).insert(0, (name, value, path))  # the most specific first


def _settings(**overrides) -> Settings:
    settings = Settings.from_env(**overrides)  # a ConfigError ends the command in one line (_Commands)
    _note_directory("--data" if overrides.get("data_dir") else "EXECLOG_DATA_DIR", settings.data_dir,
                    settings.resolved_data_dir)
    if settings.spool_dir:
        _note_directory("EXECLOG_SPOOL_DIR", settings.spool_dir, settings.resolved_spool_dir)
    return settings


def _within(path: Path, directory: Path) -> bool:
    """Whether ``path`` is ``directory``, inside it, or one of the directories it would be made in."""
    return path == directory or directory in path.parents or path in directory.parents


def _directory_problem(exc: OSError, directories: list[tuple[str, str, Path]]) -> str | None:
    """A one-line message naming the setting, when ``exc`` is about a directory the command uses."""
    if not exc.filename:
        return None
    path = Path(os.fsdecode(exc.filename)).expanduser().absolute()
    for name, value, directory in directories:
        directory = directory.expanduser().absolute()
        if _within(path, directory):
            shown = f"{name}={value}" if value else f"{name} (default {directory})"
            return (f"{shown}: cannot make or use {directory} ({exc.strerror}); name a directory execlog can "
                    "create and write to")
    return None


class _Commands(click.Group):
    """execlog's commands: a setting, store or directory that cannot be used ends any of them with one line
    (the message names what to change), never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ConfigError, SchemaError, StoreError) as exc:
            _fail(str(exc))
        except OSError as exc:
            message = _directory_problem(exc, ctx.meta.get(_DIRECTORIES, []))
            if message is None:
                raise
            _fail(message)


def _announce(running) -> None:
    """What the server is, for people; then one JSON line for scripts and tests to wait on:
    ``{"event": "ready", "url": ..., "pid": ...}`` (it listens at ``url``, receiver included)."""
    from execlog_otel import server

    click.echo(server.describe(running), nl=False)
    click.echo(json.dumps({"event": "ready", "url": running.url, "pid": os.getpid()}))
    sys.stdout.flush()


def _fail(message: str) -> None:
    click.echo(f"execlog: {message}", err=True)
    sys.exit(1)


store_options = [
    click.option("--data", "data_dir", metavar="DIR", help="Data directory of the embedded store "
                 "[EXECLOG_DATA_DIR]."),
    click.option("--clickhouse", "clickhouse_url", metavar="URL",
                 help="ClickHouse URL, e.g. http://user:pass@host:8123/otel [EXECLOG_CLICKHOUSE_URL]."),
    click.option("--database", metavar="NAME", help="Database holding otel_traces [EXECLOG_DATABASE]."),
    click.option("--retention-days", type=int, metavar="N", help="Days to keep spans [EXECLOG_RETENTION_DAYS]."),
]


def with_store_options(func):
    for option in reversed(store_options):
        func = option(func)
    return func


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
def main(verbose: bool) -> None:
    """execlog: an execution log for AI agents and workflow automations."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:
        # Driver retries are reported once, as our own one-line error.
        for noisy in ("urllib3", "clickhouse_connect"):
            logging.getLogger(noisy).setLevel(logging.ERROR)


@main.command()
@with_store_options
@click.option("--host", help="Address to bind [EXECLOG_HOST, default 127.0.0.1].")
@click.option("--port", type=int, help="Port [EXECLOG_PORT, default 4318; 0 picks a free one].")
@click.option("--clickhouse-http-port", metavar="PORT", help="Port of the ClickHouse HTTP endpoint for Grafana "
              "and ClickHouse clients [EXECLOG_CLICKHOUSE_HTTP_PORT, default 8123 when free; 0: any; off].")
@click.option("--insecure-allow-remote", is_flag=True, default=None,
              help="Listen on a non-loopback address without authentication [EXECLOG_INSECURE_ALLOW_REMOTE].")
def serve(host, port, clickhouse_http_port, insecure_allow_remote, **store_opts) -> None:
    """Serve the OTLP/HTTP receiver, the JSON API and the viewer on one port; ClickHouse's HTTP interface
    over the embedded store on another."""
    from execlog_otel import server

    settings = _settings(host=host, port=port, clickhouse_http_port=clickhouse_http_port,
                         insecure_allow_remote=insecure_allow_remote, **store_opts)
    server.tune_garbage_collection()
    try:
        running = server.start(settings)
    except (StoreError, ConfigError) as exc:
        _fail(str(exc))
    server.install_signal_handlers()
    _announce(running)
    running.serve_forever()
    click.echo("execlog: stopped; everything received is stored.")


@main.command()
@with_store_options
@click.option("--host", help="Address to bind [default 127.0.0.1].")
@click.option("--port", type=int, help="Port [default 4318; 0 picks a free one].")
@click.option("--clickhouse-http-port", metavar="PORT", help="Port of the ClickHouse HTTP endpoint "
              "[default 8123 when free; 0: any; off].")
@click.option("--runs", type=int, default=1, show_default=True, help="Rounds of sample executions to feed.")
@click.option("--exit", "exit_after", is_flag=True, help="Exit once the samples are stored (for scripts).")
@click.option("--auth", "with_auth", is_flag=True, help="Turn sign-in on with three demo users (an admin, an "
              "operator and a viewer of the demo's projects) and print their passwords.")
def demo(host, port, clickhouse_http_port, runs, exit_after, with_auth, **store_opts) -> None:
    """Start serve on an embedded store and feed it sample agent and automation runs."""
    import secrets
    from dataclasses import replace

    from execlog_otel import clickhouse_http, server
    from execlog_otel import demo as demo_mod

    settings = _settings(host=host, port=port, clickhouse_http_port=clickhouse_http_port, **store_opts)
    # The viewer and the demo's retry listener share a secret, so Retry works on the sample executions.
    settings = replace(settings, retry_secret=settings.retry_secret or secrets.token_urlsafe(32))
    sign_ins: list[str] = []
    if with_auth:
        people_file, sign_ins = demo_mod.people_file(settings.resolved_data_dir)
        settings = replace(settings, auth_file=str(people_file))
    server.tune_garbage_collection()
    try:
        running = server.start(settings)
    except (StoreError, ConfigError) as exc:
        _fail(str(exc))
    server.install_signal_handlers()
    running.start_background()
    _announce(running)
    click.echo(clickhouse_http.grafana_settings(running.clickhouse_http, settings), nl=False)
    try:
        count = demo_mod.feed(running.url, rounds=runs, retry_secret=settings.retry_secret)
        click.echo(f"execlog demo: sent {count} sample executions in projects {demo_mod.AGENTS_PROJECT} and "
                   f"{demo_mod.AUTOMATIONS_PROJECT}. Open {running.url}/projects to see them.")
        if sign_ins:
            click.echo(f"Sign in at {running.url}/login as:")
            for line in sign_ins:
                click.echo(f"  {line}")
        elif settings.auth_enabled:
            click.echo(f"Sign in at {running.url}/login with a user of EXECLOG_AUTH_FILE / EXECLOG_AUTH_USERS "
                       "(or run `execlog demo --auth` for demo users of each role).")
        sys.stdout.flush()
        if exit_after:
            return
        click.echo("Press Ctrl-C to stop.")
        while True:
            demo_mod.sleep_forever()
    except KeyboardInterrupt:
        pass
    finally:
        demo_mod.stop()
        running.close()


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--endpoint", metavar="URL", help="execlog serve or Collector to send to [EXECLOG_ENDPOINT].")
@click.option("--clickhouse", "clickhouse_url", metavar="URL", help="Write straight to ClickHouse "
              "[EXECLOG_CLICKHOUSE_URL].")
@click.option("--automations", metavar="MOD:FN,...", help="Callables to run as automations [EXECLOG_AUTOMATIONS].")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
def instrument(endpoint, clickhouse_url, automations, command) -> None:
    """Run a program with execlog auto-instrumentation: execlog instrument -- python app.py

    Same as OTEL_PYTHON_DISTRO=execlog opentelemetry-instrument python app.py."""
    import os
    import shutil

    # opentelemetry-instrument's code run by this interpreter, so the environment execlog is installed in
    # is the one that loads the instrumentors (not whichever opentelemetry-instrument comes first on PATH).
    runner = [sys.executable, "-c", "from opentelemetry.instrumentation.auto_instrumentation import run; run()"]
    if shutil.which(command[0]) is None:
        _fail(f"{command[0]!r}: no such program on PATH")
    env = dict(os.environ, OTEL_PYTHON_DISTRO="execlog")
    for key, value in (("EXECLOG_ENDPOINT", endpoint), ("EXECLOG_CLICKHOUSE_URL", clickhouse_url),
                       ("EXECLOG_AUTOMATIONS", automations)):
        if value:
            env[key] = value
    # The program's settings, checked here: inside it a bad one is reported by each instrumentor, with
    # tracebacks. The program still runs (a job must not stop for its recording), without instrumentation.
    try:
        Settings.from_env(env)
    except ConfigError as exc:
        click.echo(f"execlog: not recording executions: {exc} (the program runs without instrumentation)",
                   err=True)
        env = {k: v for k, v in env.items() if k != "OTEL_PYTHON_DISTRO"}
        os.execvpe(command[0], list(command), env)
        return  # not reached: exec replaces this process
    os.execve(sys.executable, [*runner, *command], env)


@main.command()
@click.option("--database", default=None, metavar="NAME", help="Database name [EXECLOG_DATABASE, default otel].")
@click.option("--retention-days", type=int, default=None, metavar="N", help="TTL in days [default 30].")
@click.option("--cluster", metavar="NAME", help="Print ON CLUSTER DDL with Replicated engines.")
@click.option("--shards", is_flag=True, help="With --cluster: local Replicated tables on every shard and Distributed "
              "tables over them, spans sharded by execution id (see docs/operations.md).")
@click.option("--local-database", metavar="NAME", help="With --shards: database of the local tables "
              "[default <database>_local].")
@click.option("--since", type=int, default=None, metavar="VERSION", help="With --shards: only the migrations after "
              "this version (upgrading a cluster: the highest Version in execlog_schema_migrations).")
@click.option("--bloom-filters", is_flag=True, help="Bloom filter indexes instead of text indexes, for ClickHouse "
              "older than 26.2 (as the Collector's exporter does).")
@click.option("--reprice", is_flag=True, help="Print only the statements that price the stored costs again with the "
              "prices in force (after changing prices on a store whose DDL you apply yourself).")
def schema(database, retention_days, cluster, shards, local_database, since, bloom_filters, reprice) -> None:
    """Print the DDL of every table, view and materialized view."""
    from execlog_otel.store import cluster as cluster_mod
    from execlog_otel.store import schema as schema_mod

    settings = _settings(database=database, retention_days=retention_days)
    if cluster is not None and not cluster.strip():
        _fail("--cluster: expected the name of a cluster (without --cluster the DDL is for a single server)")
    if (shards or local_database or since is not None) and not cluster:
        _fail("--shards, --local-database and --since need --cluster NAME")
    if (local_database or since is not None) and not shards:
        _fail("--local-database and --since need --shards")
    try:
        if reprice:
            found = (cluster_mod.reprice_statements(settings.database, cluster, local_database) if shards
                     else schema_mod.reprice_statements(settings.database, cluster))
            text = "".join(stmt + ";\n" for stmt in found)
        elif shards:
            text = cluster_mod.ddl(settings.database, cluster, local_database, settings.retention_days,
                                   full_text_search=not bloom_filters, prices_file=settings.prices_file,
                                   since=-1 if since is None else since)
        else:
            text = schema_mod.ddl(settings.database, settings.retention_days, cluster,
                                  full_text_search=not bloom_filters, prices_file=settings.prices_file)
        click.echo(text, nl=False)
    except (schema_mod.SchemaError, ConfigError) as exc:
        _fail(str(exc))


@main.command("settings")
def settings_cmd() -> None:
    """Print every EXECLOG_* setting as a Markdown table (README's configuration table)."""
    from execlog_otel.config import settings_table

    click.echo(settings_table(), nl=False)


@main.command()
@with_store_options
@click.option("--host", help="Address to bind [default 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [default 8080].")
@click.option("--insecure-allow-remote", is_flag=True, default=None,
              help="Listen on a non-loopback address without authentication [EXECLOG_INSECURE_ALLOW_REMOTE].")
def viewer(host, port, insecure_allow_remote, **store_opts) -> None:
    """Serve only the viewer and API over any ClickHouse URL (no receiver), read-only on a server."""
    from waitress import create_server

    from execlog_otel import connections
    from execlog_otel.server import THREADS, check_bind, tune_garbage_collection, viewer_store
    from execlog_otel.viewer.app import create_app
    from execlog_otel.viewer.guess_screen import GuessScreen

    settings = _settings(host=host, port=port if port is not None else 8080,
                         insecure_allow_remote=insecure_allow_remote, **store_opts)
    try:
        check_bind(settings, receiver=False)
        store = viewer_store(settings)
    except (StoreError, ConfigError) as exc:
        _fail(str(exc))
    app = create_app(settings, store, receiver=False)
    tune_garbage_collection()
    click.echo(f"execlog viewer on http://{settings.host}:{settings.port}/")
    server = connections.install(create_server(app, host=settings.host, port=settings.port, threads=THREADS,
                                               ident="execlog",
                                               **connections.waitress_options(settings.trusted_proxies)),
                                 screen=GuessScreen(app))
    try:
        server.run()
    except KeyboardInterrupt:
        pass


@main.command()
@with_store_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(as_json, **store_opts) -> None:
    """Show the store, the retention in force, the write-ahead log (backlog, lag, dropped) and spans written."""
    from execlog_otel.status import status_command

    status_command(_settings(**store_opts), as_json)


@main.group("dead-letter")
def dead_letter_group() -> None:
    """Spans the store refused (isolated so later spans never wait): list, export or re-queue them."""


_log_dir_options = [
    click.option("--data", "data_dir", metavar="DIR", help="Data directory [EXECLOG_DATA_DIR]."),
    click.option("--log-dir", metavar="DIR", help="The write-ahead log directory [EXECLOG_SPOOL_DIR, default "
                 "DATA_DIR/spool; the direct exporter's is <that>/exporter]."),
]


def _log_dir(data_dir: str | None, log_dir: str | None) -> Path:
    if log_dir:
        _note_directory("--log-dir", log_dir, Path(log_dir).expanduser())
        return Path(log_dir).expanduser()
    return _settings(data_dir=data_dir).resolved_spool_dir


def with_log_dir(func):
    for option in reversed(_log_dir_options):
        func = option(func)
    return func


@dead_letter_group.command("list")
@with_log_dir
def dead_letter_list(data_dir, log_dir) -> None:
    """One line per refused span: id, when, table, span, reason."""
    from execlog_otel.ingest import dead_letter

    directory = _log_dir(data_dir, log_dir)
    count = 0
    for e in dead_letter.entries(directory):
        row = e.get("row", {})
        what = f"{row.get('SpanName', '')!s:.40} trace {row.get('TraceId', '')!s:.32}" if "SpanName" in row else ""
        line = f"{e.get('id')}  {e.get('at')}  {e.get('table')}  {what}  {e.get('reason', '')[:160]}"
        click.echo(line.encode("utf-8", "backslashreplace").decode())  # refused text may not be valid Unicode
        count += 1
    click.echo(f"{count} spans in the dead-letter file of {directory}", err=True)


@dead_letter_group.command("export")
@with_log_dir
@click.option("--out", type=click.File("w"), default="-", show_default=True, help="Where to write the JSON lines.")
def dead_letter_export(data_dir, log_dir, out) -> None:
    """Write every entry as one JSON line (id, at, table, reason, row)."""
    import json

    from execlog_otel.ingest import dead_letter

    for e in dead_letter.entries(_log_dir(data_dir, log_dir)):
        out.write(json.dumps(e, ensure_ascii=True) + "\n")


@dead_letter_group.command("requeue")
@with_log_dir
@click.option("--id", "ids", multiple=True, metavar="ID", help="An entry to re-queue (repeatable).")
@click.option("--all", "every", is_flag=True, help="Re-queue every entry.")
def dead_letter_requeue(data_dir, log_dir, ids, every) -> None:
    """Put entries back into the write-ahead log (after fixing what made the store refuse them)."""
    import time

    from execlog_otel.ingest import dead_letter
    from execlog_otel.ingest.wal import Wal, WalError
    from execlog_otel.ingest.writer import requeue_into

    if not ids and not every:
        raise click.UsageError("name entries with --id ID, or pass --all")
    directory = _log_dir(data_dir, log_dir)
    wanted = None if every else set(ids)
    settings = _settings(data_dir=data_dir)
    try:
        wal = Wal(directory, settings.spool_max_bytes or 256 * 1024 * 1024)
    except WalError:
        # A running process owns the log: its writer takes the request within about a second.
        request = dead_letter.request_requeue(directory, None if every else sorted(ids))
        deadline = time.monotonic() + 30
        while request.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        if request.exists():
            _fail(f"the process owning {directory} did not take the request within 30 s; it stays queued")
        click.echo(f"re-queued through the running process owning {directory}")
        return
    try:
        n = requeue_into(wal, dead_letter.DeadLetter(directory), wanted)
    finally:
        wal.close()
    click.echo(f"re-queued {n} spans into {directory}; they are written at the next start of execlog serve")


@main.command("hash-password")
@click.password_option(prompt="Password", help="The password (prompted when omitted).")
def hash_password(password) -> None:
    """Print a password hash for EXECLOG_AUTH_USERS=user:<hash>."""
    from execlog_otel.viewer.auth import hash_password as make_hash

    click.echo(make_hash(password))


@main.command()
@with_store_options
@click.option("--format", "-f", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True,
              help="Output format.")
@click.option("--server", metavar="URL", help="URL of a running execlog serve (default: the server owning the "
              "embedded store).")
def prices(fmt, server, **store_opts) -> None:
    """List the model prices in force (USD per million tokens) and the models seen without a price.

    Prices come from the package's prices.toml and EXECLOG_PRICES_FILE, loaded into the store's
    execlog_prices table when execlog serve starts; every stored cost is priced again when they change."""
    import json

    from execlog_otel import sqlcmd
    from execlog_otel.store.sqlfiles import statement

    settings = _settings(**store_opts)
    try:
        in_force = sqlcmd.run(settings, statement("read/prices_in_force"), server=server,
                              max_rows=sqlcmd.MAX_ROWS_LIMIT)
        unpriced = sqlcmd.run(settings, statement("read/models_without_price"), server=server,
                              max_rows=sqlcmd.MAX_ROWS_LIMIT)
    except (sqlcmd.SqlError, StoreError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps({"prices": [dict(zip(in_force.columns, r, strict=True)) for r in in_force.rows],
                               "unpriced": [dict(zip(unpriced.columns, r, strict=True)) for r in unpriced.rows]},
                              indent=2))
        return
    click.echo("Prices in force (USD per million tokens; empty rate: priced as plain input or output):")
    click.echo(sqlcmd.format_table(in_force), nl=False)
    click.echo("\nModels without a price (add them to EXECLOG_PRICES_FILE; past executions follow):")
    click.echo(sqlcmd.format_table(unpriced) if unpriced.rows else "(none)\n", nl=False)


main.add_command(sql_command)  # execlog sql "…" (execlog_otel/sqlcmd.py)

if __name__ == "__main__":  # pragma: no cover
    main()
