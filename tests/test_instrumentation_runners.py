"""OpenAI client (official GenAI instrumentation, local fake OpenAI-compatible server), EXECLOG_AUTOMATIONS
callables, and the distro/configurator as opentelemetry-instrument loads them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import openai
import pytest

import execlog_otel as ex
from execlog_otel.instrumentation import instrument_all
from execlog_otel.instrumentation.callables import CallablesInstrumentor, parse_targets
from execlog_otel.instrumentation.openai import OpenAIInstrumentor
from execlog_otel.store.repository import Repository
from sdk_support import Api

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))
import fake_openai  # noqa: E402 - from the examples directory


@pytest.fixture
def openai_url():
    srv, url = fake_openai.start()
    yield url
    srv.shutdown()


def test_openai_calls_are_llm_steps_with_model_and_tokens(telemetry, server, openai_url):
    api = Api(server.url)
    OpenAIInstrumentor().instrument()
    client = openai.OpenAI(base_url=openai_url, api_key="sk-test")

    with ex.agent("summariser", input={"prompt": "two calls"}):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "one two three"}])
        client.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "four five"}])
    with pytest.raises(openai.NotFoundError):
        with ex.agent("broken-call"):
            openai.OpenAI(base_url=openai_url.replace("/v1", "/nope"), api_key="k").chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    telemetry.force_flush()
    item = api.wait_status("summariser", "Success")
    assert item["models"] == ["gpt-4.1-2024-07-18", "gpt-4o-mini-2024-07-18"]
    assert item["input_tokens"] == 3 + 2
    steps = api.detail(item["id"])["steps"]
    assert [(s["kind"], s["model"]) for s in steps] == [("llm", "gpt-4o-mini-2024-07-18"),
                                                        ("llm", "gpt-4.1-2024-07-18")]
    assert all(s["output_tokens"] > 0 for s in steps)
    broken = api.wait_status("broken-call", "Failed")
    assert broken["status_message"].startswith("NotFoundError")
    assert api.detail(broken["id"])["steps"][0]["status"] == "Failed"


def test_execlog_automations_patches_modules_before_and_after_import(telemetry, server, tmp_path, monkeypatch):
    api = Api(server.url)
    pkg = tmp_path / "xjobs_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "early.py").write_text(textwrap.dedent("""
        def ping(n):
            return n + 1
    """))
    (pkg / "late.py").write_text(textwrap.dedent("""
        class Importer:
            def run(self, rows):
                if not rows:
                    raise ValueError("no rows")
                return len(rows)

        def helper():
            return Importer().run([1, 2])
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    import xjobs_pkg.early

    monkeypatch.setenv("EXECLOG_AUTOMATIONS", "xjobs_pkg.early:ping, xjobs_pkg.late:Importer.run")
    instrumentor = CallablesInstrumentor()
    instrumentor.instrument()
    try:
        from xjobs_pkg.late import Importer, helper  # imported after instrument(): the post-import hook patched it

        assert xjobs_pkg.early.ping(1) == 2
        assert helper() == 2
        with pytest.raises(ValueError, match="no rows"):
            Importer().run([])
    finally:
        instrumentor.uninstrument()
    assert xjobs_pkg.early.ping(5) == 6  # unpatched again: not recorded
    telemetry.force_flush()
    ping = api.wait_status("ping", "Success")
    assert ping["retry_target"] == "xjobs_pkg.early:ping"
    runs = [i for i in api.list(name="Importer.run") if not i["live"]]
    assert sorted(i["status"] for i in runs) == ["Failed", "Success"]
    pings = api.list(name="ping")
    assert len(pings) == 1
    root = next(r for r in Repository(_store(server)).trace_spans(ping["trace_id"]) if not r["ParentSpanId"])
    assert json.loads(root["SpanAttributes"]["execlog.input"]) == {"n": 1}
    assert json.loads(root["SpanAttributes"]["execlog.output"]) == 2


def _store(server):
    return server.store


def test_execlog_automations_bad_entries_say_what_to_write():
    with pytest.raises(ValueError, match="expected module:function"):
        parse_targets(["jobs.nightly"])
    with pytest.raises(ValueError, match="__main__"):
        parse_targets(["__main__:main"])
    assert parse_targets(["a.b:c", " ", "d:E.f"]) == [("a.b", "c"), ("d", "E.f")]


def test_instrument_all_turns_on_every_installed_runner(telemetry):
    names = instrument_all()
    assert set(names) == {"celery", "langchain", "openai", "callables"}
    from execlog_otel.instrumentation.celery import CeleryInstrumentor
    from execlog_otel.instrumentation.langchain import LangChainInstrumentor

    for cls in (CeleryInstrumentor, LangChainInstrumentor, OpenAIInstrumentor, CallablesInstrumentor):
        assert cls().is_instrumented_by_opentelemetry
        cls().uninstrument()


def test_distro_configures_execlog_under_opentelemetry_instrument(server, tmp_path):
    """No configure() in the program: the distro's configurator points it at execlog serve; a bad setting
    is reported and the program still runs."""
    app = tmp_path / "hello_app.py"
    app.write_text(textwrap.dedent("""
        from opentelemetry import trace
        import execlog_otel
        from execlog_otel.sdk import telemetry
        handle = telemetry.current()
        print("configured:", handle is not None and handle.target)
        with execlog_otel.automation("hello-distro", request_id="rq-distro"):
            pass
    """))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EXECLOG_", "OTEL_"))}
    env.update(OTEL_PYTHON_DISTRO="execlog", EXECLOG_ENDPOINT=server.url, EXECLOG_PROJECT="distro-project")
    cmd = [str(Path(sys.executable).parent / "opentelemetry-instrument"), sys.executable, str(app)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"configured: OTLP/HTTP {server.url}/v1/traces" in proc.stdout
    item = Api(server.url).wait_status("hello-distro", "Success")
    assert item["request_id"] == "rq-distro"
    assert item["project"] == "distro-project"  # EXECLOG_PROJECT under auto-instrumentation
    bad = subprocess.run(cmd, env={**env, "EXECLOG_FLUSH_INTERVAL_MS": "soon"}, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 0
    assert "EXECLOG_FLUSH_INTERVAL_MS='soon': expected a whole number" in bad.stderr
    assert "configured: False" in bad.stdout
    assert "Traceback" not in bad.stderr  # said once, by the configurator (the callables' instrumentor too, before)


def test_execlog_instrument_wrapper_runs_a_program_instrumented(server, tmp_path):
    jobs = tmp_path / "wrapjobs.py"
    jobs.write_text("def tally(items):\n    return sum(items)\n")
    app = tmp_path / "wrapped_app.py"
    app.write_text("import wrapjobs\nprint(wrapjobs.tally([1, 2, 3]))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EXECLOG_", "OTEL_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(tmp_path)
    execlog = str(Path(sys.executable).parent / "execlog")
    proc = subprocess.run([execlog, "instrument", "--endpoint", server.url, "--automations", "wrapjobs:tally", "--",
                           "python", str(app)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "6"
    item = Api(server.url).wait_status("tally", "Success")
    root = next(r for r in Repository(server.store).trace_spans(item["trace_id"]) if not r["ParentSpanId"])
    assert json.loads(root["SpanAttributes"]["execlog.input"]) == {"items": [1, 2, 3]}
    missing = subprocess.run([execlog, "instrument", "--", "no-such-program-here"], env=env, capture_output=True,
                             text=True, timeout=60)
    assert missing.returncode == 1 and "no such program" in missing.stderr
