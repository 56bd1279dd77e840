"""Download Code for the examples: each example runs for real under auto-instrumentation, then the
replay file of each of its executions is downloaded over HTTP and run offline (``python3 -I``, clean
environment, empty directory). A file that can re-execute must print the logged output and exit 0."""

from __future__ import annotations

import json
import urllib.request

import pytest
from tests.replay_support import attachment_name, fetch, run_replay
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


@pytest.mark.parametrize("example", sorted(EXAMPLE_RUNS))
def test_every_example_execution_replays_offline(example, server, tmp_path):
    script, service, name, count = EXAMPLE_RUNS[example]
    env = {}
    if "plain" in example:
        # LLM replies are answered from the log when the GenAI instrumentation records message content.
        env = {"EXECLOG_AUTOMATIONS": "jobs:nightly_sync,jobs:import_orders",
               "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_ONLY",
               "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental"}
    run_instrumented(EXAMPLES / script, server.url, service, **env)
    results = _replay_all(server, tmp_path, name, count)
    assert len(results) == count
    for logged, run, _text in results:
        where = f"{example} {logged['status']} {logged['id']}\n{run.stderr[-3000:]}"
        assert run.returncode == 0, where
        if logged.get("output"):
            assert json.loads(run.stdout) == logged["output"]["value"], where
