"""Download Code for the examples: each example runs for real under auto-instrumentation, then the
replay file of each of its executions is downloaded over HTTP and run offline (``python3 -I``, clean
environment, empty directory). A file that can re-execute must print the logged output and exit 0."""

from __future__ import annotations

import json
import urllib.request

import pytest
from tests.replay_support import attachment_name, fetch, run_replay, unzip
from tests.test_examples import EXAMPLES, run_instrumented, wait_items

EXAMPLE_RUNS = {
    # example script, service name, execution name, finished executions it makes
    "langgraph": ("agent_langgraph/agent.py", "travel-agents", "travel-agent", 2),
    "celery": ("automation_celery/app.py", "shop-worker", "shop.sync_order", 4),
    "plain-nightly": ("plain_script/app.py", "plain-jobs", "nightly_sync", 1),
    "plain-import": ("plain_script/app.py", "plain-jobs", "import_orders", 2),
}


def _replay_all(server, tmp_path, name: str, count: int) -> list[tuple[dict, object, str]]:
    results = []
    for item in wait_items(server.url, count, name=name):
        body, headers = fetch(f"{server.url}/executions/{item['id']}/code")
        path = tmp_path / attachment_name(headers)
        path.write_bytes(body)
        logged = json.loads(urllib.request.urlopen(f"{server.url}/api/executions/{item['id']}").read())
        results.append((logged, run_replay(path, tmp_path), path.read_text(encoding="utf-8")))
    return results


def _run_example(example: str, server) -> None:
    script, service, _, _ = EXAMPLE_RUNS[example]
    env = {}
    if "plain" in example:
        # LLM replies are answered from the log when the GenAI instrumentation records message content.
        env = {"EXECLOG_AUTOMATIONS": "jobs:nightly_sync,jobs:import_orders",
               "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_ONLY",
               "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental"}
    run_instrumented(EXAMPLES / script, server.url, service, **env)


@pytest.mark.slow
@pytest.mark.parametrize("example", ["celery", "plain-import", "plain-nightly"])
def test_every_example_execution_replays_offline(example, server, tmp_path):
    _, _, name, count = EXAMPLE_RUNS[example]
    _run_example(example, server)
    results = _replay_all(server, tmp_path, name, count)
    assert len(results) == count
    for logged, run, _text in results:
        where = f"{example} {logged['status']} {logged['id']}\n{run.stderr[-3000:]}"
        assert run.returncode == 0, where
        assert "reproduces the logged" in run.stderr, where
        if logged.get("output"):
            assert json.loads(run.stdout) == logged["output"]["value"], where
    if example == "celery":
        # Edited: the file says it no longer matches, with a diff.
        logged, _, text = next(r for r in results if r[0]["status"] == "Success")
        edited = tmp_path / "edited.py"
        edited.write_text(text.replace('return {"order": order_id, "posted": posted}',
                                       'return {"order": order_id, "posted": posted, "edited": True}'),
                          encoding="utf-8")
        run = run_replay(edited, tmp_path)
        assert run.returncode == 1, run.stderr
        assert '+  "edited": true' in run.stderr and "--- logged" in run.stderr
        # A Zip of three: three runnable files.
        ids = [r[0]["id"] for r in results][:3]
        body, _ = fetch(f"{server.url}/api/executions/code.zip?" + "&".join(f"id={i}" for i in ids))
        files = unzip(body)
        assert len(files) == 3
        for file_name, file_text in files.items():
            (tmp_path / file_name).write_text(file_text, encoding="utf-8")
            assert run_replay(tmp_path / file_name, tmp_path).returncode == 0, file_name


def test_langgraph_executions_replay_their_tools_offline(server, tmp_path):
    """The LangGraph example invokes its graph from main() under auto-instrumentation (no execlog code):
    each file rebuilds the logged run with the tools re-executed from their recorded code and logged input,
    the model's replies answered from the log, and needs neither LangChain nor LangGraph."""
    _run_example("langgraph", server)
    results = _replay_all(server, tmp_path, "travel-agent", 2)
    by_status = {logged["status"]: (logged, run, text) for logged, run, text in results}
    assert set(by_status) == {"Success", "Failed"}
    for logged, run, text in results:
        where = f"{logged['status']} {logged['id']}\n{run.stderr[-3000:]}"
        assert run.returncode == 0, where
        assert "import langchain" not in text and "import langgraph" not in text and "from lang" not in text
        assert "RE-EXECUTED: the tool functions" in text and "ANSWERED FROM THE LOG" in text
        assert "def get_weather(city: str) -> str:" in text
        assert "re-executed get_weather(city=" in run.stderr and "(same as logged)" in run.stderr, where
    logged, run, text = by_status["Success"]
    assert "OK: the replay reproduces the logged output." in run.stderr
    assert json.loads(run.stdout) == logged["output"]["value"]
    assert json.loads(run.stdout)["messages"][-1]["content"] == "In Paris it is nice; 100 EUR is some USD."
    assert "re-executed convert_currency(amount=100.0, to='USD')" in run.stderr
    failed, failed_run, _ = by_status["Failed"]
    assert "OK: the replay reproduces the logged error." in failed_run.stderr
    assert "raised RuntimeError: generator raised StopIteration" in failed_run.stderr
    assert failed["validation_message"] == "RuntimeError: generator raised StopIteration"

    # Edited tool body: the tool's result and the final output differ from the log, with diffs.
    code_line = '{"Paris": "sunny, 21 C", "Oslo": "rain, 9 C"}.get(city, "unknown")'
    assert text.count(code_line) == 1
    edited = tmp_path / "edited_agent.py"
    edited.write_text(text.replace(code_line, code_line.replace("sunny, 21 C", "cloudy, 15 C")), encoding="utf-8")
    run = run_replay(edited, tmp_path)
    assert run.returncode == 1, run.stderr
    assert "--- logged tool 'get_weather'" in run.stderr and '+"cloudy, 15 C"' in run.stderr
    assert "--- logged" in run.stderr and '+      "content": "cloudy, 15 C",' in run.stderr
    assert json.loads(run.stdout)["messages"][2]["content"] == "cloudy, 15 C"


def test_langgraph_without_recorded_code_gives_the_explanatory_file(server, tmp_path):
    """With code capture off, nothing of the tools' code is in the log: the file says why it cannot
    re-execute and carries what the log holds."""
    script, service, _, _ = EXAMPLE_RUNS["langgraph"]
    run_instrumented(EXAMPLES / script, server.url, service, EXECLOG_CAPTURE_CODE="false")
    results = _replay_all(server, tmp_path, "travel-agent", 2)
    for logged, run, text in results:
        assert run.returncode == 2, run.stderr
        assert "This execution cannot be re-executed" in text
        assert "code capture was off" in run.stderr, run.stderr
        assert "def get_weather" not in text
        if logged["status"] == "Success":
            assert "In Paris it is nice" in run.stdout  # the logged output is in the file
