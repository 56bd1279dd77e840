"""Full-text search of payloads, opt-in with ``in:payload`` in the search text: executions whose root or step
input or output holds the text (any script, case-insensitive), over the last 7 days or the listing's range."""

from __future__ import annotations

import json

from execlog_otel import semconv as sc
from viewer_support import SECOND, SpanWriter, StepSpec, now_ns

DAY = 86_400 * SECOND


def _raw(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)  # as the SDK writes payloads: UTF-8, not \\u escapes


def _ids(client, **query) -> list[str]:
    page = client.get("/api/executions", query_string=query)
    assert page.status_code == 200, page.get_data(as_text=True)
    return sorted(it["id"] for it in page.get_json()["items"])


def test_in_payload_finds_text_in_inputs_and_outputs_in_any_script(store, client):
    w = SpanWriter(store)
    t = now_ns()
    step_hit, _ = w.execution("greeter", start_ns=t - 60 * SECOND, steps=[
        StepSpec("translate", attrs={sc.INPUT: _raw({"text": "Привет, мир"}), sc.OUTPUT: _raw({"en": "hello"})})])
    root_hit, _ = w.execution("weather", start_ns=t - 50 * SECOND, attrs={sc.INPUT: _raw({"city": "東京の天気"})})
    output_hit, _ = w.execution("reporter", start_ns=t - 40 * SECOND, steps=[
        StepSpec("summarise", attrs={sc.OUTPUT: _raw({"summary": "Ελληνικά ΚΕΊΜΕΝΟ"})})])
    old_hit, _ = w.execution("greeter", start_ns=t - 10 * DAY, steps=[
        StepSpec("translate", attrs={sc.INPUT: _raw({"text": "привет из прошлого"})})])
    w.execution("plain", start_ns=t - 30 * SECOND, input={"text": "nothing to see"})
    w.close()
    assert _ids(client, q="ПРИВЕТ in:payload") == [step_hit]  # Cyrillic, either case; the last 7 days
    assert _ids(client, q="東京 in:payload") == [root_hit]
    assert _ids(client, q="in:payload κείμενο") == [output_hit]
    # Without the flag payloads are not searched; the listing's range widens the payload search.
    assert _ids(client, q="Привет") == []
    assert _ids(client, q="привет in:payload", **{"from": str((t - 12 * DAY) // 10**6)}) == sorted(
        [step_hit, old_hit])
    # The flag alone is no search; names still match with it.
    assert len(_ids(client, q="in:payload")) == 5
    assert _ids(client, q="weather in:payload") == [root_hit]


def test_in_payload_finds_a_retry_attempts_steps_and_other_dialects_payloads(store, client):
    # Payloads as the detail page shows them (the span facts' input and output, every dialect's), matched
    # to the execution through its attempts: a retry attempt is a trace of its own.
    w = SpanWriter(store)
    t = now_ns()
    first, _ = w.execution("billing", status="Failed", start_ns=t - 90 * SECOND, steps=[
        StepSpec("charge", attrs={sc.INPUT: _raw({"card": "visa"})})])
    retry, _ = w.execution("billing", start_ns=t - 80 * SECOND, attrs={
        sc.ATTEMPT: "2", sc.RETRY_OF: first, sc.EXECUTION_START: str(t - 90 * SECOND)}, steps=[
        StepSpec("charge", attrs={sc.OUTPUT: _raw({"receipt": "Quittung Nummer 4711"})})])
    openinference, _ = w.execution("rag", start_ns=t - 70 * SECOND, steps=[
        StepSpec("retrieve", attrs={"input.value": "где мой заказ?", "openinference.span.kind": "RETRIEVER"})])
    w.close()
    assert retry != first
    assert _ids(client, q="quittung nummer in:payload") == [first]  # the execution, not the retry's trace
    assert _ids(client, q="МОЙ ЗАКАЗ in:payload") == [openinference]
    assert _ids(client, q="quittung nummer") == []


def test_many_payload_matches_give_the_same_listing_totals_and_counts(store, client, monkeypatch):
    # Past PAYLOAD_MAX_IDS matching executions the ids are not bound: the condition is the query itself.
    from execlog_otel.store import repository

    w = SpanWriter(store)
    t = now_ns()
    hits = sorted(w.execution(f"job-{i}", status="Failed" if i % 2 else "Success", start_ns=t - (60 - i) * SECOND,
                              input={"note": f"needle {i}"})[0] for i in range(6))
    w.execution("other", start_ns=t - 30 * SECOND, input={"note": "haystack"})
    w.close()

    def listing() -> tuple:
        query = {"q": "NEEDLE in:payload", "limit": "4"}
        first = client.get("/api/executions", query_string=query).get_json()
        rest = client.get("/api/executions", query_string={**query, "cursor": first["next_cursor"]}).get_json()
        totals = client.get("/api/totals", query_string=query).get_json()
        facets = client.get("/api/facets", query_string=query).get_json()
        return ([it["id"] for it in first["items"] + rest["items"]], first["count"], rest["next_cursor"],
                totals["executions"], totals["failed"], facets)

    bound = listing()
    assert sorted(bound[0]) == hits and bound[1:5] == (6, None, 6, 3)
    monkeypatch.setattr(repository, "PAYLOAD_MAX_IDS", 5)
    assert listing() == bound
