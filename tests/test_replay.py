"""Download Code on real spans: record executions through the OpenTelemetry SDK into the store,
download their replay files over HTTP from the real server and run them as a user would
(``python3 -I file.py`` in an empty directory with a clean environment)."""

from __future__ import annotations

import ast
import asyncio
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date

import pytest
from opentelemetry.trace import Status, StatusCode
from tests.replay_support import Recorder, attachment_name, fetch, recorded_step, run_replay, unzip

from execlog_otel import semconv as sc
from execlog_otel.replay import replay_file

TAX_RATE = 0.2
SKU = re.compile(r"^[A-Z]{3}-\d+$")
REGIONS = {"eu": "Europe", "us": "United States"}


@dataclass
class Line:
    sku: str
    qty: int
    price: float


def line_total(line: Line) -> float:
    return round(line.qty * line.price * (1 + TAX_RATE), 2)


class OrderService:
    """Stands for a remote API: the replay has no access to it, so fetch_order must come from the log."""

    orders: dict[int, dict] = {}

    def get(self, order_id: int) -> dict:
        return self.orders[order_id]


ORDERS_API = OrderService()


@recorded_step("connector")
def fetch_order(order_id: int) -> dict:
    return ORDERS_API.get(order_id)


@recorded_step("connector")
def notify(channel: str, text: str) -> dict:
    raise ConnectionError("503 from chat service")


def sync_order(order_id: int, region: str = "eu", api_token: str = "") -> dict:
    order = fetch_order(order_id)
    lines = [Line(**x) for x in order["lines"] if SKU.match(x["sku"])]
    total = round(sum(line_total(x) for x in lines), 2)
    try:
        notify("#orders", f"order {order_id}: {total}")
        notified = True
    except ConnectionError:
        notified = False
    return {"order": order_id, "region": REGIONS[region], "lines": len(lines), "total": total,
            "notified": notified, "day": date(2026, 1, 2), "skus": {x.sku for x in lines}, "api_token": api_token}


def failing_import(path: str) -> int:
    rows = path.split("/")
    if len(rows) < 3:
        raise ValueError(f"not enough rows in {path!r}")
    return len(rows)


async def summarize(text: str) -> dict:
    words = await count_words(text)
    return {"words": words, "upper": text.upper()}


@recorded_step("llm")
async def count_words(text: str) -> int:
    await asyncio.sleep(0)
    return len(text.split())


@pytest.fixture
def recorder(store):
    rec = Recorder(store)
    yield rec
    rec.close()


def _record_sync_order(recorder: Recorder, order_id: int = 7) -> str:
    OrderService.orders[order_id] = {"id": order_id, "lines": [{"sku": "ABC-1", "qty": 2, "price": 9.99},
                                                               {"sku": "bad", "qty": 1, "price": 1.0},
                                                               {"sku": "XYZ-22", "qty": 1, "price": 100.0}]}
    return recorder.run(sync_order, "sync order", order_id=order_id, region="eu", api_token="s3cret")


def _download(server, execution_id: str, tmp_path):
    body, headers = fetch(f"{server.url}/executions/{execution_id}/code")
    name = attachment_name(headers)
    path = tmp_path / name
    path.write_bytes(body)
    return path, body.decode("utf-8"), headers


def test_downloaded_file_replays_the_automation_offline(server, recorder, tmp_path):
    execution_id = _record_sync_order(recorder)
    path, text, headers = _download(server, execution_id, tmp_path)
    assert re.fullmatch(r"sync_order_\d{8}_\d{6}\.py", path.name), path.name
    assert headers["Content-Type"].startswith("text/x-python")
    ast.parse(text)
    assert f'Execution id: "{execution_id}"' in text
    assert f'Permalink:    "{server.url}/executions/{execution_id}"' in text
    assert 'Status:       "Success"' in text
    logged = json.loads(urllib.request.urlopen(f"{server.url}/api/executions/{execution_id}").read())
    run = run_replay(path, tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == logged["output"]["value"]
    assert logged["output"]["value"]["api_token"] == "***"  # masked in the log, masked in the replay
    assert logged["output"]["value"]["notified"] is False  # the failed step's error was replayed
    assert "reproduces the logged output" in run.stderr


def test_edited_file_exits_1_with_a_diff(server, recorder, tmp_path):
    execution_id = _record_sync_order(recorder)
    path, text, _ = _download(server, execution_id, tmp_path)
    assert "TAX_RATE = 0.2" in text
    path.write_text(text.replace("TAX_RATE = 0.2", "TAX_RATE = 0.25"), encoding="utf-8")
    run = run_replay(path, tmp_path)
    assert run.returncode == 1
    assert "--- logged" in run.stderr and "+++ replay" in run.stderr
    assert re.search(r'^-  "total": 143\.98,$', run.stderr, re.M), run.stderr
    assert re.search(r'^\+  "total": 149\.9\d,$', run.stderr, re.M), run.stderr


def test_extra_step_call_is_reported_as_divergence(server, recorder, tmp_path):
    execution_id = _record_sync_order(recorder)
    path, text, _ = _download(server, execution_id, tmp_path)
    edited = text.replace("    order = fetch_order(order_id)\n",
                          "    order = fetch_order(order_id)\n    fetch_order(order_id + 1)\n")
    assert edited != text
    path.write_text(edited, encoding="utf-8")
    run = run_replay(path, tmp_path)
    assert run.returncode == 1
    assert "fetch_order() was called 2 time(s), but the log recorded 1 call(s)" in run.stderr


def test_failed_execution_replays_its_error(server, recorder, tmp_path):
    execution_id = recorder.run(failing_import, "import rows", path="a/b")
    path, text, _ = _download(server, execution_id, tmp_path)
    run = run_replay(path, tmp_path)
    assert run.returncode == 0, run.stderr
    assert "ValueError: not enough rows in 'a/b'" in run.stderr
    assert "reproduces the logged error" in run.stderr
    # Fix the bug in the file: the error is gone, which no longer matches the log.
    path.write_text(text.replace("if len(rows) < 3:", "if len(rows) < 1:"), encoding="utf-8")
    run = run_replay(path, tmp_path)
    assert run.returncode == 1
    assert json.loads(run.stdout) == 2


def test_async_function_with_async_step(server, recorder, tmp_path):
    execution_id = recorder.run(summarize, "summarize", kind="agent", text="three little words")
    path, text, _ = _download(server, execution_id, tmp_path)
    assert "async def summarize" in text and "count_words = _logged_step(" in text
    run = run_replay(path, tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"words": 3, "upper": "THREE LITTLE WORDS"}


def test_span_without_code_gives_the_explanatory_file(server, store, recorder, tmp_path):
    # An OpenInference-style agent from another instrumentation: no code attributes at all.
    with recorder.tracer.start_as_current_span("agent run") as root:
        root.set_attributes({sc.OPENINFERENCE_SPAN_KIND: "AGENT", sc.INPUT_VALUE: json.dumps({"q": "hi"}),
                             sc.OUTPUT_VALUE: json.dumps({"answer": "hello"})})
        with recorder.tracer.start_as_current_span("llm") as llm:
            llm.set_attributes({sc.OPENINFERENCE_SPAN_KIND: "LLM", sc.LLM_MODEL_NAME: "gpt-x",
                                sc.OUTPUT_VALUE: "hello"})
        execution_id = format(root.get_span_context().trace_id, "032x")
    path, text, _ = _download(server, execution_id, tmp_path)
    ast.parse(text)
    assert "This execution cannot be re-executed" in text
    run = run_replay(path, tmp_path)
    assert run.returncode == 2
    assert "no source code was recorded" in run.stderr
    assert '"answer": "hello"' in run.stdout and "gpt-x" in run.stdout


def test_zip_of_three_has_three_runnable_files(server, recorder, tmp_path):
    ids = [_record_sync_order(recorder, order_id=n) for n in (1, 2, 3)]
    body, headers = fetch(f"{server.url}/api/executions/code.zip?" + "&".join(f"id={i}" for i in ids))
    assert headers["Content-Type"] == "application/zip"
    files = unzip(body)
    assert len(files) == 3 and all(name.endswith(".py") for name in files)
    for name, text in files.items():
        assert any(i in text for i in ids)
        (tmp_path / name).write_text(text, encoding="utf-8")
        run = run_replay(tmp_path / name, tmp_path)
        assert run.returncode == 0, (name, run.stderr)


def test_zip_and_download_answer_bad_requests_clearly(server):
    for url, status, message in [
        ("/api/executions/code.zip", 400, "name at least one execution"),
        ("/api/executions/code.zip?id=nothex", 400, "is not an execution id"),
        ("/api/executions/code.zip?id=" + "a" * 32, 404, "no execution " + "a" * 32),
        ("/executions/" + "b" * 32 + "/code", 404, "no execution"),
        ("/api/executions/" + "c" * 32 + "/code", 404, "no execution"),
        ("/executions/" + "b" * 32 + "/code?attempt=x", 400, "attempt="),
    ]:
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(server.url + url)
        assert err.value.code == status, url
        assert message in json.loads(err.value.read())["error"], url


def test_code_json_for_quick_view(server, recorder):
    execution_id = _record_sync_order(recorder)
    body = json.loads(urllib.request.urlopen(f"{server.url}/api/executions/{execution_id}/code").read())
    assert body["source"].startswith("def sync_order(")
    assert body["function"].endswith(".sync_order") and body["replayable"] is True
    assert body["download_url"] == f"/executions/{execution_id}/code"
    assert body["filename"].startswith("sync_order_")
    assert {s["name"] for s in body["steps"]} == {"fetch_order", "notify"}
    assert body["steps"][0]["source"].startswith("@recorded_step(")


HOSTILE = [
    'x"""\n__import__("os").system("touch PWNED")\n"""',
    "x'''\nimport os; os.system('touch PWNED')\n'''",
    "line\r# \nimport os\u2028\u0085\x00end",
    "\\",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_span_data_stays_inert(text, tmp_path):
    marker = tmp_path / "PWNED"
    execution = {
        "id": "d" * 32, "name": text, "kind": text, "status": text, "started_at": text, "service": text,
        "attributes": {sc.CODE_CONTEXT: json.dumps({
            "imports": [{"name": "os\nimport sys", "module": "os"}, {"name": "x", "module": "os; import sys"}],
            "constants": [{"name": "X", "kind": "literal", "literal": "__import__('os')"},
                          {"name": "Y", "kind": "regex", "pattern": text, "flags": 0}],
            "external": [{"name": "__builtins__", "type": text}, {"name": "_sys", "type": text},
                         {"name": "ok", "type": text, "kind": text}],
            "definitions": [{"name": "g", "source": "def g():\n    pass\nimport os; os.system('touch PWNED')\n"},
                            {"name": "h", "source": text, "line": text, "function": text}]})},
        "code": {"function": text, "source": "def f(a):\n    return a\n"},
        "input": {"value": {"a": text}}, "output": {"value": text},
        "steps": [{"span_id": "1", "name": text, "status": "Failed", "error": text, "code": {"function": text},
                   "events": [{"name": "exception", "attributes": {"exception.type": text}}]}],
    }
    for source in ("def f(a):\n    return a\n", "def f(a):\n    return a\nimport os; os.system('touch PWNED')\n",
                   text, None):
        execution["code"]["source"] = source
        body = replay_file(execution, "http://x/executions/" + "d" * 32 + text)
        ast.parse(body)
        header = body.split("\n\n", 1)[0]
        assert all(line.startswith("#") for line in header.splitlines()), header
        assert "Execution id:" in header and "Permalink:" in header
        (tmp_path / "f.py").write_text(body, encoding="utf-8")
        run = run_replay(tmp_path / "f.py", tmp_path)
        assert run.returncode in (0, 2), run.stderr
        assert not marker.exists()


def test_every_payload_is_embedded_as_a_literal_even_nan():
    execution = {"id": "e" * 32, "name": "n", "status": "Success", "attributes": {},
                 "code": {"source": "def f(x):\n    return x\n"},
                 "input": {"value": {"x": float("nan")}}, "output": {"value": [1, {"k": '"""'}]}, "steps": []}
    body = replay_file(execution, "")
    ast.parse(body)
    assert "_json.loads(" in body and "NaN" in body


def test_root_with_error_status_but_no_message(server, recorder, tmp_path):
    with recorder.tracer.start_as_current_span("x") as root:
        from execlog_otel.sdk.code_capture import code_attributes

        root.set_attributes({sc.KIND: "automation", sc.EXECUTION_NAME: "x", **code_attributes(failing_import),
                             sc.INPUT: json.dumps({"path": "a"}), sc.STATUS: "Failed"})
        root.set_status(Status(StatusCode.ERROR, "ValueError: not enough rows in 'a'"))
        execution_id = format(root.get_span_context().trace_id, "032x")
    path, _, _ = _download(server, execution_id, tmp_path)
    run = run_replay(path, tmp_path)
    assert run.returncode == 0, run.stderr


OPENAI_API_KEY = "sk-live-do-not-log"
SERVICE = {"url": "https://erp.example", "password": "hunter2", "retries": 3}


def uses_secrets(n: int) -> dict:
    return {"n": n, "key_length": len(OPENAI_API_KEY), "url": SERVICE["url"], "retries": SERVICE["retries"]}


def test_module_constants_are_masked_like_payloads(server, recorder, tmp_path):
    from execlog_otel.sdk.code_capture import code_attributes

    context = code_attributes(uses_secrets)[sc.CODE_CONTEXT]
    assert "sk-live-do-not-log" not in context and "hunter2" not in context
    execution_id = recorder.run(uses_secrets, "secrets", n=1)
    path, text, _ = _download(server, execution_id, tmp_path)
    assert "sk-live-do-not-log" not in text and "hunter2" not in text
    assert "OPENAI_API_KEY = '***'" in text
    run = run_replay(path, tmp_path)
    # The masked key has another length: the replay says so instead of leaking the secret.
    assert run.returncode == 1
    assert '-  "key_length": 18,' in run.stderr and '+  "key_length": 3,' in run.stderr
