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


def test_top_level_langgraph_invocation_gives_the_explanatory_file(server, tmp_path):
    """The LangGraph example invokes its graph from main() under auto-instrumentation: the execution is
    that library call (its code is LangGraph's, not recorded; main() around it is not the execution), so
    its file carries the context and says why nothing can re-execute.
    (The same graph invoked inside an @agent function replays: test_replay_sdk.py.)"""
    _run_example("langgraph", server)
    results = _replay_all(server, tmp_path, "travel-agent", 2)
    for logged, run, text in results:
        assert run.returncode == 2, run.stderr
        assert "this execution is the library call at line" in run.stderr, run.stderr
        assert "agent.invoke(" in run.stderr or "failing.invoke(" in run.stderr
        assert "inside a function decorated with @agent" in run.stderr
        assert "This execution cannot be re-executed" in text
        if logged["status"] == "Success":
            assert "In Paris it is nice" in run.stdout  # the logged output is in the file
