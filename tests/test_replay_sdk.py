"""Download Code with the real SDK: decorated executions and steps, ``with step()`` blocks and a
``with agent()`` block, sent over OTLP/HTTP to the real server, downloaded and replayed offline."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from tests.replay_support import attachment_name, fetch, run_replay

import execlog_otel as ex

DISCOUNTS = {"gold": 0.1, "silver": 0.05}


class PaymentsClient:
    """Stands for a remote payment API: the replay cannot reach it."""

    def charge(self, customer: str, amount: float) -> dict:
        return {"charge_id": f"ch_{customer}_{int(amount * 100)}", "captured": True}


class ChatModel:
    """Stands for an LLM client: the replay cannot reach it."""

    def complete(self, prompt: str) -> dict:
        return {"content": f"Summary: {prompt[:24]}", "tokens": len(prompt.split())}


PAYMENTS = PaymentsClient()
MODEL = ChatModel()


@ex.step(kind="connector", connector="CRM")
def load_customer(customer: str) -> dict:
    return {"id": customer, "tier": "gold" if customer.startswith("g") else "silver", "cart": [12.5, 7.25, 30.0]}


def price(cart: list[float], tier: str) -> float:
    return round(sum(cart) * (1 - DISCOUNTS.get(tier, 0.0)), 2)


@ex.automation("checkout", trigger="http")
def checkout(customer: str) -> dict:
    profile = load_customer(customer)
    amount = price(profile["cart"], profile["tier"])
    with ex.step("Charge card", kind="connector", connector="Payments") as s:
        charge = PAYMENTS.charge(customer, amount)
        s.set_output(charge)
    return {"customer": customer, "amount": amount, "charge": charge["charge_id"], "items": len(profile["cart"])}


def answer(question: str) -> None:
    with ex.agent("qa-agent", input={"question": question}) as run:
        with ex.step("chat", kind="llm") as s:
            reply = MODEL.complete(question)
            s.record_llm(model="fake-1", input_tokens=reply["tokens"], output_tokens=5)
            s.set_output(reply)
        run.set_output({"answer": reply["content"].upper(), "words": reply["tokens"]})


def support_bot(question: str) -> None:
    """The README's agent pattern: the block's input names the argument differently."""
    with ex.agent("support-bot", input={"prompt": question}) as run:
        with ex.step("chat", kind="llm") as s:
            reply = MODEL.complete(question)
            s.set_output(reply)
        run.set_output({"answer": reply["content"]})


def shouting_bot(question: str) -> None:
    """The block's input is computed from the argument: the log cannot give the argument back."""
    with ex.agent("shouting-bot", input={"prompt": question.upper()}) as run:
        run.set_output({"answer": question.upper() + "!"})


def _wait_for_execution(server, name: str) -> dict:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        items = json.loads(urllib.request.urlopen(f"{server.url}/api/executions?name={name}").read())["items"]
        if items and items[0]["status"] not in ("Running", "Pending", "Queued"):
            return json.loads(urllib.request.urlopen(f"{server.url}/api/executions/{items[0]['id']}").read())
        time.sleep(0.1)
    raise AssertionError(f"{name} never finished in the store")


def _download_and_run(server, execution: dict, tmp_path):
    body, headers = fetch(f"{server.url}/executions/{execution['id']}/code")
    path = tmp_path / attachment_name(headers)
    path.write_bytes(body)
    return path, run_replay(path, tmp_path)


def test_decorated_automation_with_step_block_replays(telemetry, server, tmp_path):
    checkout("gina")
    telemetry.force_flush()
    execution = _wait_for_execution(server, "checkout")
    path, run = _download_and_run(server, execution, tmp_path)
    assert run.returncode == 0, path.read_text() + run.stderr
    assert json.loads(run.stdout) == execution["output"]["value"]
    assert "PAYMENTS.charge(...) answered with the logged result of step 'Charge card'" in run.stderr
    text = path.read_text()
    assert "load_customer = _logged_step(" in text and "def price(" in text


def test_with_agent_block_replays_its_set_output(telemetry, server, tmp_path):
    answer("why is the sky blue today")
    telemetry.force_flush()
    execution = _wait_for_execution(server, "qa-agent")
    assert execution["output"]["value"]["answer"].startswith("SUMMARY:")
    path, run = _download_and_run(server, execution, tmp_path)
    assert run.returncode == 0, path.read_text() + run.stderr
    assert json.loads(run.stdout) == execution["output"]["value"]


def test_agent_block_whose_input_renames_the_argument_replays(telemetry, server, tmp_path):
    """Issue #18 item 1: support_bot(question) with input={"prompt": question} is called with
    question=<the logged prompt>, not with prompt=... (a TypeError reported as DIFFERENT)."""
    support_bot("how do I reset my password")
    telemetry.force_flush()
    execution = _wait_for_execution(server, "support-bot")
    path, run = _download_and_run(server, execution, tmp_path)
    assert run.returncode == 0, path.read_text() + run.stderr
    assert json.loads(run.stdout) == execution["output"]["value"]
    assert "TypeError" not in run.stderr


def test_agent_block_whose_argument_cannot_be_recovered_exits_2_with_the_reason(telemetry, server, tmp_path):
    shouting_bot("hello")
    telemetry.force_flush()
    execution = _wait_for_execution(server, "shouting-bot")
    path, run = _download_and_run(server, execution, tmp_path)
    assert run.returncode == 2, path.read_text() + run.stderr
    assert "DIFFERENT" not in run.stderr
    assert "shouting_bot() needs question" in run.stderr


WRAPPED_LANGGRAPH = '''
import sys
sys.path.insert(0, {examples!r})
from langchain_core.messages import HumanMessage
from execlog_otel import agent
import agent as travel

@agent("trip-planner")
def plan_trip(question: str, city: str = "Paris") -> dict:
    graph = travel.build_agent(travel.script(city, "USD"))
    result = graph.invoke({{"messages": [HumanMessage(question)]}})
    last = result["messages"][-1]
    return {{"answer": last.content, "messages": len(result["messages"])}}

print(plan_trip("Weather in Paris, and 100 EUR in USD?"))
'''


def test_langgraph_agent_called_from_an_agent_function_replays(server, tmp_path):
    """The LangGraph example's graph, invoked inside an @agent function under auto-instrumentation:
    graph.invoke(...) is answered from the graph's logged step, the function re-runs around it."""
    from tests.test_examples import EXAMPLES, run_instrumented

    script = tmp_path / "trip.py"
    script.write_text(WRAPPED_LANGGRAPH.format(examples=str(EXAMPLES / "agent_langgraph")), encoding="utf-8")
    proc = run_instrumented(script, server.url, "trip-planner")
    assert "In Paris it is nice" in proc.stdout
    execution = _wait_for_execution(server, "trip-planner")
    path, run = _download_and_run(server, execution, tmp_path)
    assert run.returncode == 0, path.read_text() + run.stderr
    assert json.loads(run.stdout) == execution["output"]["value"]
    assert ".invoke(...) answered with the logged result of step 'travel-agent'" in run.stderr


@ex.automation("quiet-job")
def quiet_job(n: int) -> int:
    return n * 2


def test_capture_code_off_gives_the_explanatory_file(server, tmp_path):
    handle = ex.configure(endpoint=server.url, flush_interval_ms=100, service_name="replay-sdk-tests",
                          capture_code=False)
    try:
        quiet_job(21)
        handle.force_flush()
        execution = _wait_for_execution(server, "quiet-job")
    finally:
        handle.shutdown()
    assert execution["code"]["source"] == "" and execution["output"]["value"] == 42
    path, run = _download_and_run(server, execution, tmp_path)
    assert run.returncode == 2
    assert "no source code was recorded" in run.stderr and "42" in run.stdout


def test_zip_by_post_needs_the_csrf_token(telemetry, server, tmp_path):
    import http.cookiejar

    checkout("gus")
    checkout("gail")
    telemetry.force_flush()
    items = json.loads(urllib.request.urlopen(f"{server.url}/api/executions?name=checkout").read())["items"]
    ids = [i["id"] for i in items]
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    token = json.loads(opener.open(f"{server.url}/api/session").read())["csrf_token"]
    body = json.dumps({"ids": ids}).encode()
    request = urllib.request.Request(f"{server.url}/api/executions/code.zip", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as err:
        opener.open(request)
    assert err.value.code == 403
    request.add_header("X-CSRF-Token", token)
    from tests.replay_support import unzip

    files = unzip(opener.open(request).read())
    assert len(files) == len(ids) == 2


@ex.automation("long-job")
def long_job(n: int) -> dict:
    """A function whose source is longer than the payload cap of the test below (256 bytes), so that the
    SDK records its location and marks the source as cut instead of recording it."""
    total = sum(range(n))
    return {"n": n, "total": total, "label": "a label long enough to push this source past the cap"}


def test_source_over_the_payload_cap_is_not_recorded_and_the_file_says_so(server, tmp_path):
    handle = ex.configure(endpoint=server.url, flush_interval_ms=100, service_name="replay-sdk-tests",
                          payload_cap_bytes=256)
    try:
        long_job(10)
        handle.force_flush()
        execution = _wait_for_execution(server, "long-job")
    finally:
        handle.shutdown()
    assert execution["attributes"]["execlog.code.source.truncated"] == "true"
    path, run = _download_and_run(server, execution, tmp_path)
    assert run.returncode == 2
    assert "larger than the payload cap" in run.stderr
