"""Cost: the price table in ClickHouse, the view that applies it, and the cost the API shows.

Executions are written with the real OTel SDK through the real exporter into the test's store;
prices are the shipped table plus override files loaded as `execlog serve` loads them. Expected
costs are worked out by hand from the shipped prices (USD per million tokens).
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.datastructures import MultiDict

from execlog_otel import pricing, sqlcmd
from execlog_otel import semconv as sc
from execlog_otel.cli import main
from execlog_otel.store import schema
from execlog_otel.store.errors import QueryError
from execlog_otel.store.filters import ListFilter
from execlog_otel.store.repository import Repository
from execlog_otel.store.scope import ProjectScope
from execlog_otel.store.sqlfiles import statement
from execlog_otel.viewer import presenters
from execlog_otel.viewer.params import list_filter
from viewer_support import SECOND, SpanWriter, StepSpec, now_ns


def llm(model: str, tin: int = 0, tout: int = 0, cache_read: int = 0, cache_write: int = 0, reasoning: int = 0,
        **more) -> StepSpec:
    attrs = {sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT, sc.GEN_AI_RESPONSE_MODEL: model,
             sc.GEN_AI_USAGE_INPUT_TOKENS: tin, sc.GEN_AI_USAGE_OUTPUT_TOKENS: tout, **more}
    for key, value in ((sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, cache_read),
                       (sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, cache_write),
                       (sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, reasoning)):
        if value:
            attrs[key] = value
    return StepSpec(f"chat {model}", kind=sc.StepKind.LLM.value, attrs=attrs)


M = 1_000_000
# (step, expected USD) per model family, by hand from prices.toml.
PRICED = [
    # OpenAI, dated and prefixed: 600k uncached x 0.15 + 400k cached x 0.075 + 1M out x 0.60
    (llm("openai/gpt-4o-mini-2024-07-18", M, M, cache_read=400_000), 0.09 + 0.03 + 0.60),
    # OpenAI reasoning model: reasoning tokens are part of the output and billed as output, once
    (llm("o3-mini-2025-01-31", 0, M, reasoning=800_000), 4.40),
    # A dated snapshot priced apart from its family
    (llm("gpt-4o-2024-05-13", M, 0), 5.00),
    # Anthropic counting cache tokens apart from input (input < cached): 1000 x 3 + 5000 x 0.30 + 100 x 3.75
    # + 2000 x 15, per million
    (llm("claude-3-5-sonnet-20241022", 1000, 2000, cache_read=5000, cache_write=100), 0.034875),
    # Bedrock name
    (llm("anthropic.claude-3-5-sonnet-20240620-v1:0", M, 0), 3.00),
    # Google, with a separately priced reasoning rate: 600k x 0.60 + 400k x 3.50
    (llm("models/gemini-2.5-flash-preview-04-17", 0, M, reasoning=400_000), 0.36 + 1.40),
    (llm("gemini-2.0-flash-001", M, M), 0.10 + 0.40),
    # OpenInference token names
    (StepSpec("openinference llm", kind="llm", attrs={
        sc.LLM_MODEL_NAME: "gpt-4o", sc.LLM_TOKEN_COUNT_PROMPT: M, sc.LLM_TOKEN_COUNT_COMPLETION: 0,
        sc.LLM_TOKEN_COUNT_CACHE_READ: M}), 1.25),
]
REPORTED = 0.25


@pytest.fixture
def written(store):
    return write_executions(store)


def write_executions(store) -> dict[str, str]:
    """Executions: one with every priced family plus a reported cost, one with an unknown model only,
    one mixing both, and a retried one (two attempts)."""
    w = SpanWriter(store)
    t = now_ns() - 600 * SECOND
    ids = {}
    ids["priced"], _ = w.execution("priced-agent", "agent", start_ns=t, steps=[
        *(spec for spec, _ in PRICED),
        StepSpec("paid lookup", kind="connector", attrs={sc.CONNECTOR: "clearbit", sc.COST_USD: REPORTED})])
    ids["unknown"], _ = w.execution("unknown-agent", "agent", start_ns=t + SECOND,
                                    steps=[llm("mystery-model-9", 1000, 1000)])
    ids["mixed"], _ = w.execution("mixed-agent", "agent", start_ns=t + 2 * SECOND,
                                  steps=[llm("mystery-model-9", 10, 10), llm("gpt-4o", M, 0)])
    first, _ = w.execution("retried-agent", "agent", "Failed", start_ns=t + 3 * SECOND, error="boom",
                           steps=[llm("gpt-4o", 400_000, 0)], attrs={sc.ATTEMPT: "1"})
    second, _ = w.execution("retried-agent", "agent", start_ns=t + 10 * SECOND,
                            steps=[llm("gpt-4o-mini", M, 0)],
                            attrs={sc.ATTEMPT: "2", sc.RETRY_OF: first, sc.EXECUTION_START: str(t + 3 * SECOND)})
    ids["retried"], ids["retried_attempt2"] = first, second
    ids["plain"], _ = w.execution("no-llm", "automation", start_ns=t + 4 * SECOND, steps=[StepSpec("copy")])
    w.close()
    return ids


def detail(store, eid: str, attempt: int | None = None) -> dict:
    """The detail page's JSON, as the API answers it."""
    return presenters.detail(Repository(store).detail(eid, attempt))


def listing(store, cursor: str | None = None, **f) -> dict:
    """A listing page's JSON, as the API answers it."""
    cur = presenters.decode_cursor(cursor) if cursor else None
    return presenters.page(Repository(store).page(ListFilter(cursor=cur, **f)))


def test_cost_per_model_family_with_cached_and_reasoning_tokens(store, written):
    item = detail(store, written["priced"])
    by_name = {st["name"]: st for st in item["steps"]}
    for spec, usd in PRICED:
        cost = by_name[spec.name]["cost"]
        assert cost["usd"] == pytest.approx(usd, rel=1e-9), spec.name
        assert cost["unpriced_steps"] == 0
    assert by_name["chat openai/gpt-4o-mini-2024-07-18"]["cost"]["priced_as"] == "gpt-4o-mini"
    assert by_name["chat anthropic.claude-3-5-sonnet-20240620-v1:0"]["cost"]["priced_as"] == "claude-3-5-sonnet"
    assert by_name["chat gpt-4o-2024-05-13"]["cost"]["priced_as"] == "gpt-4o-2024-05-13"
    # Token breakdown: each kind once (cached input out of input, reasoning out of output).
    mini = by_name["chat openai/gpt-4o-mini-2024-07-18"]["cost"]
    assert (mini["input_tokens"], mini["cache_read_tokens"], mini["output_tokens"]) == (600_000, 400_000, M)
    assert mini["total_tokens"] == 2 * M
    o3 = by_name["chat o3-mini-2025-01-31"]["cost"]
    assert (o3["output_tokens"], o3["reasoning_tokens"], o3["total_tokens"]) == (200_000, 800_000, M)
    # A runner-reported cost is its step's cost and is summed with the rest.
    assert by_name["paid lookup"]["cost"]["usd"] == pytest.approx(REPORTED)
    assert by_name["paid lookup"]["cost"]["reported_usd"] == pytest.approx(REPORTED)
    assert item["cost_usd"] == pytest.approx(sum(usd for _, usd in PRICED) + REPORTED, rel=1e-9)
    assert item["cost"]["unpriced_steps"] == 0


def test_unknown_models_have_no_price_not_zero(store, written):
    unknown = detail(store, written["unknown"])
    assert unknown["cost_usd"] is None and unknown["cost"]["unpriced_steps"] == 1
    assert unknown["steps"][0]["cost"]["usd"] is None and unknown["steps"][0]["cost"]["priced_as"] is None
    mixed = detail(store, written["mixed"])
    assert mixed["cost_usd"] == pytest.approx(2.50) and mixed["cost"]["unpriced_steps"] == 1
    plain = detail(store, written["plain"])
    assert plain["cost_usd"] == 0.0 and plain["steps"][0]["cost"] is None


def test_execution_cost_is_the_sum_over_attempts_and_each_attempt_is_shown(store, written):
    item = detail(store, written["retried"])
    per_attempt = {a["attempt"]: a["cost_usd"] for a in item["attempts"]}
    assert per_attempt == {1: pytest.approx(1.00), 2: pytest.approx(0.15)}
    assert item["cost_usd"] == pytest.approx(1.15)
    assert item["attempt_cost"]["usd"] == pytest.approx(0.15)  # the attempt shown: the latest
    older = detail(store, written["retried"], attempt=1)
    assert older["attempt_cost"]["usd"] == pytest.approx(1.00)
    assert older["steps"][0]["cost"]["usd"] == pytest.approx(1.00)
    listed = {it["name"]: it for it in listing(store)["items"]}
    assert listed["retried-agent"]["cost_usd"] == pytest.approx(1.15)
    assert listed["unknown-agent"]["cost_usd"] is None


def test_overrides_add_and_change_prices_and_past_executions_follow(store, written, tmp_path: Path):
    before = detail(store, written["mixed"])
    assert before["cost"]["unpriced_steps"] == 1
    override = tmp_path / "prices.toml"
    override.write_text('[[model]]\nname = "mystery-model-9"\ninput = 100\noutput = 200\n\n'
                        '[[model]]\nname = "gpt-4o"\nprovider = "openai"\ninput = 3.0\noutput = 12.0\n')
    store.prices_file = str(override)
    store.migrate()  # what a restart of execlog serve does
    after = detail(store, written["mixed"])
    # 10 x 100 + 10 x 200 per million, plus 1M x 3.0 (the changed gpt-4o rate)
    assert after["cost_usd"] == pytest.approx(0.003 + 3.0) and after["cost"]["unpriced_steps"] == 0
    assert detail(store, written["unknown"])["cost_usd"] == pytest.approx(0.3)
    # The other shipped prices stay in force.
    assert detail(store, written["retried"])["attempts"][1]["cost_usd"] == pytest.approx(0.15)


def test_a_bad_override_file_is_refused_clearly_and_prices_stay(store, written, tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[model]]\nname = "x"\ninput = -1\noutput = 1\n')
    with pytest.raises(pricing.PriceFileError, match=r"model 'x': input=-1: expected a number >= 0"):
        pricing.install(store, bad)
    bad.write_text('[[model]]\nname = "x"\ninput = 1\noutput = 1\ncache_reed = 1\n')
    with pytest.raises(pricing.PriceFileError, match="unknown key.*cache_reed"):
        pricing.install(store, bad)
    with pytest.raises(pricing.PriceFileError, match="cannot read it"):
        pricing.install(store, tmp_path / "missing.toml")
    assert detail(store, written["mixed"])["cost_usd"] == pytest.approx(2.50)


def test_shipped_prices_name_their_source_and_date():
    prices = pricing.shipped()
    providers = {p.provider for p in prices}
    assert {"openai", "anthropic", "google"} <= providers
    assert all(p.checked and p.source.startswith("https://") for p in prices)
    assert len({p.model for p in prices}) == len(prices)


def test_same_cost_from_the_api_execlog_sql_and_the_docs_query(store, written, server, chdb_url):
    with urllib.request.urlopen(f"{server.url}/api/executions/{written['priced']}", timeout=10) as resp:
        api = json.loads(resp.read())
    sql = (f"SELECT sum(CostUsd) FROM execlog_llm_costs WHERE TraceId = '{written['priced']}'")
    client = sqlcmd.read_only_client(chdb_url, store.database)
    try:
        via_sql = sqlcmd.run_read_only(client, sql).rows[0][0]
        listed = sqlcmd.run_read_only(client, statement("read/models_without_price")).rows
    finally:
        client.close()
    assert api["cost_usd"] == pytest.approx(via_sql, rel=1e-12)
    assert [r[0] for r in listed] == ["mystery-model-9"]


def test_execlog_prices_lists_prices_in_force_and_models_without_one(store, written, chdb_url, tmp_path):
    env = {"EXECLOG_CLICKHOUSE_URL": chdb_url, "EXECLOG_DATABASE": store.database, "EXECLOG_AUTH_TOKEN": ""}
    res = CliRunner().invoke(main, ["prices"], env=env, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "gpt-4o-mini" in res.output and "claude-3-5-sonnet" in res.output and "gemini-2.5-pro" in res.output
    assert "Models without a price" in res.output and "mystery-model-9" in res.output
    res = CliRunner().invoke(main, ["prices", "--format", "json"], env=env, catch_exceptions=False)
    data = json.loads(res.output)
    assert data["unpriced"][0]["Model"] == "mystery-model-9"
    assert any(p["Model"] == "gpt-4o" and p["InputPerM"] == 2.5 for p in data["prices"])


def test_step_cost_usd_in_the_sdk_is_summed_with_token_costs(server):
    import execlog_otel as ex
    from sdk_support import Api

    with pytest.raises(ValueError, match="cost_usd"):
        ex.step("x", cost_usd=-1)
    with pytest.raises(ValueError, match="cost_usd"):
        ex.step("x", cost_usd=float("nan"))
    handle = ex.configure(endpoint=server.url, flush_interval_ms=100, service_name="cost-tests")
    try:
        with ex.agent("paying-agent"):
            with ex.step("geocode", kind="connector", connector="maps", cost_usd=0.005):
                pass
            with ex.step("enrich", kind="connector", connector="clearbit") as s:
                s.set_cost(0.02)
            with ex.step("answer", kind="llm") as s:
                s.record_llm(model="gpt-4o-mini", input_tokens=M, output_tokens=0)
        handle.force_flush()
    finally:
        handle.shutdown()
    api = Api(server.url)
    item = api.wait_until("paying-agent", lambda i: i.get("cost_usd"), "the agent's cost")
    assert item["cost_usd"] == pytest.approx(0.005 + 0.02 + 0.15)
    steps = {st["name"]: st["cost_usd"] for st in api.detail(item["id"])["steps"]}
    assert steps == {"geocode": pytest.approx(0.005), "enrich": pytest.approx(0.02), "answer": pytest.approx(0.15)}


def test_listing_sorts_filters_and_totals_by_cost(store, written):
    priced = sum(usd for _, usd in PRICED) + REPORTED
    page = listing(store, sort="cost", limit=2)
    assert [it["name"] for it in page["items"]] == ["priced-agent", "mixed-agent"]
    rest = listing(store, sort="cost", limit=2, cursor=page["next_cursor"])
    assert rest["items"][0]["name"] == "retried-agent" and rest["items"][0]["cost_usd"] == pytest.approx(1.15)
    ascending = listing(store, sort="cost", order="asc")["items"]
    assert ascending[-1]["name"] == "priced-agent"
    above = listing(store, cost_above=2.0)
    assert {it["name"] for it in above["items"]} == {"priced-agent", "mixed-agent"} and above["count"] == 2
    reads = Repository(store)
    assert reads.neighbors(ListFilter(sort="cost"), written["mixed"]).prev.name == "priced-agent"
    totals = presenters.totals(reads.totals(ListFilter()))
    assert (totals["executions"], totals["failed"], totals["unpriced_steps"]) == (5, 0, 2)
    assert totals["cost_usd"] == pytest.approx(priced + 2.50 + 1.15)
    only = presenters.totals(reads.totals(ListFilter(cost_above=2.0)))
    assert only["executions"] == 2 and only["cost_usd"] == pytest.approx(priced + 2.50)
    with pytest.raises(QueryError, match="cost_above"):
        list_filter(MultiDict({"cost_above": "lots"}), scope=ProjectScope())


def test_tokens_follow_cost_over_every_attempt(store, written):
    """An execution's Tokens and Cost count the same rows by one rule: every attempt, each token once
    (the listing's Tokens used to count only the latest attempt while its Cost counted all of them)."""
    listed = {it["name"]: it for it in listing(store)["items"]}
    retried = listed["retried-agent"]
    assert retried["cost_usd"] == pytest.approx(1.15)  # 400k gpt-4o tokens in attempt 1, 1M gpt-4o-mini in 2
    assert retried["total_tokens"] == retried["cost"]["total_tokens"] == 1_400_000
    assert (retried["input_tokens"], retried["output_tokens"]) == (1_400_000, 0)
    assert detail(store, written["retried"])["total_tokens"] == 1_400_000
    totals = presenters.totals(Repository(store).totals(ListFilter(name="retried-agent")))
    assert totals["tokens"] == retried["total_tokens"]
    # Cached and reasoning tokens are part of input and output, so they are counted once.
    priced = listed["priced-agent"]
    assert priced["total_tokens"] == priced["cost"]["total_tokens"] == sum(
        st["cost"]["total_tokens"] for st in detail(store, written["priced"])["steps"] if st["cost"])


def _hourly_and_per_attempt_totals(store) -> tuple:
    """The unfiltered listing's totals, which price the hourly totals (execlog_usage_hourly), and the totals of a
    filter selecting the same executions, which price every attempt's usage (execlog_trace_usage)."""
    reads = Repository(store)
    return reads.totals(ListFilter()), reads.totals(ListFilter(from_ns=1))


def test_hourly_totals_give_the_numbers_of_every_attempt(store, written, tmp_path: Path):
    hours = store.pool.query(f"SELECT count(), uniqExact(Hour, Project, Model) "
                             f"FROM {store.table('execlog_usage_hourly')} FINAL").result_rows[0]
    assert 0 < hours[0] == hours[1] <= 2 * 12  # a row per hour and model (12 models, within an hour or two)
    hourly, per_attempt = _hourly_and_per_attempt_totals(store)
    assert (hourly.executions, hourly.failed, hourly.tokens, hourly.unpriced_steps) == (
        per_attempt.executions, per_attempt.failed, per_attempt.tokens, per_attempt.unpriced_steps)
    assert hourly.cost_usd == pytest.approx(per_attempt.cost_usd, rel=1e-12)
    # Priced when read: a changed price reaches the hours already summed.
    override = tmp_path / "prices.toml"
    override.write_text('[[model]]\nname = "mystery-model-9"\ninput = 100\noutput = 200\n')
    store.prices_file = str(override)
    store.migrate()
    changed, per_attempt = _hourly_and_per_attempt_totals(store)
    assert changed.cost_usd == pytest.approx(hourly.cost_usd + (1010 * 100 + 1010 * 200) / M, rel=1e-12)
    assert (changed.cost_usd, changed.unpriced_steps) == (pytest.approx(per_attempt.cost_usd, rel=1e-12), 0)


def test_migration_back_fills_the_hourly_totals(ch_client):
    from tests.conftest import new_store

    store = new_store(ch_client, migrate=False)
    try:
        store.migrate(up_to=34)
        write_executions(store)
        assert "035_usage_hourly" in store.migrate()
        hourly, per_attempt = _hourly_and_per_attempt_totals(store)
        assert hourly.tokens == per_attempt.tokens > 0
        assert hourly.cost_usd == pytest.approx(per_attempt.cost_usd, rel=1e-12)
    finally:
        ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")


def _listed_costs(store) -> dict[str, tuple]:
    """execution id -> (cost, tokens, no-price steps) as the listing shows them."""
    return {i["id"]: (i["cost_usd"], i["total_tokens"], i["cost"]["unpriced_steps"])
            for i in listing(store, limit=100)["items"]}


def _view_costs(store) -> dict[str, tuple]:
    """The same, summed over every attempt from execlog_trace_costs (what `execlog sql` and Grafana read)."""
    rows = store.pool.query(
        f"SELECT a.ExecutionId, sum(c.CostUsd), sum(c.TotalTokens), sum(c.UnpricedSteps) "
        f"FROM {store.table('execlog_trace_costs')} AS c INNER JOIN "
        f"(SELECT DISTINCT TraceId, ExecutionId FROM {store.table('execlog_attempts')}) AS a USING (TraceId) "
        f"GROUP BY a.ExecutionId").result_rows
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def test_the_listing_reads_each_attempts_cost_from_its_rollup_also_after_an_upgrade_and_a_price_change(
        ch_client, tmp_path: Path):
    """The listing's costs come with the rollups (037): a store written before them gets them when it opens,
    a price change reaches them, and they equal the per-attempt view's sums over every attempt."""
    from tests.conftest import new_store

    store = new_store(ch_client, migrate=False)
    try:
        store.migrate(up_to=36)
        ids = write_executions(store)
        assert "037_rollup_costs" in store.migrate()
        listed, viewed = _listed_costs(store), _view_costs(store)
        priced = [e for e, cost in listed.items() if cost[0] is not None]
        assert len(priced) >= 3 and listed[ids["unknown"]][0] is None and listed[ids["unknown"]][2] > 0
        for eid, (usd, tokens, unpriced) in viewed.items():
            assert listed[eid][1:] == (tokens, unpriced)
            assert listed[eid][0] == (None if usd is None else pytest.approx(usd, rel=1e-9))
        # Summing in what the rollups lack is idempotent: again, nothing is inserted.
        rollups = f"SELECT count() FROM {store.table('execlog_trace_rollups')}"
        held = store.pool.query(rollups).result_rows[0][0]
        store.pool.command(schema.rollup_costs_statement(store.database))
        assert store.pool.query(rollups).result_rows[0][0] == held
        # A new price reaches the listing's costs of past executions, and they still equal the view's.
        override = tmp_path / "prices.toml"
        override.write_text('[[model]]\nname = "mystery-model-9"\ninput = 100\noutput = 200\n')
        store.prices_file = str(override)
        store.migrate()
        changed = _listed_costs(store)
        assert changed[ids["unknown"]][0] is not None and changed[ids["unknown"]][2] == 0
        for eid, (usd, _tokens, unpriced) in _view_costs(store).items():
            assert changed[eid][0] == (None if usd is None else pytest.approx(usd, rel=1e-9))
            assert changed[eid][2] == unpriced
    finally:
        ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")


def test_costs_stored_before_they_were_stored_are_priced_on_upgrade(ch_client):
    """Rows of a store from before migration 036 carry no cost: opening it prices them once (and the
    per-attempt, per-hour and per-span costs agree again), while an unchanged price table re-prices nothing."""
    from tests.conftest import new_store

    store = new_store(ch_client)
    try:
        write_executions(store)
        expected, per_attempt = _hourly_and_per_attempt_totals(store)
        assert expected.cost_usd > 0 and expected.cost_usd == pytest.approx(per_attempt.cost_usd, rel=1e-12)
        spans = "SELECT count(), countIf(PricedAs != ''), sum(TokenCostUsd) FROM {t}"
        before = store.pool.query(spans.format(t=store.table("execlog_llm_usage"))).result_rows[0]
        # What a store of the day before holds: no price names, no token costs, and 036 not applied.
        for table in ("execlog_llm_usage", "execlog_trace_usage", "execlog_usage_hourly"):
            store.pool.command(f"ALTER TABLE {store.table(table)} UPDATE PricedAs = '', TokenCostUsd = 0 WHERE 1",
                               settings={"mutations_sync": 2})
        store.pool.command(f"DELETE FROM {store.table('execlog_schema_migrations')} WHERE Version = 36")
        store.pool.command(f"DELETE FROM {store.table('execlog_meta')} WHERE Key = 'costs_priced_with'")
        assert _hourly_and_per_attempt_totals(store)[0].cost_usd != pytest.approx(expected.cost_usd)
        assert store.migrate() == ["036_stored_costs"]
        upgraded, per_attempt = _hourly_and_per_attempt_totals(store)
        assert upgraded.cost_usd == pytest.approx(expected.cost_usd, rel=1e-12)
        assert per_attempt.cost_usd == pytest.approx(expected.cost_usd, rel=1e-12)
        assert store.pool.query(spans.format(t=store.table("execlog_llm_usage"))).result_rows[0] == \
            pytest.approx(before)
        # The same prices again: nothing is rewritten (no mutation runs).
        mutations = f"SELECT count() FROM system.mutations WHERE database = '{store.database}'"
        ran = store.pool.query(mutations).result_rows[0][0]
        store.migrate()
        assert store.pool.query(mutations).result_rows[0][0] == ran
    finally:
        ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")


def test_a_price_change_interrupted_before_the_costs_were_priced_again_completes_at_the_next_open(
        ch_client, tmp_path: Path):
    """kill -9 between writing the new prices and pricing the stored costs again: the prices table already
    holds the new prices, so comparing prices alone would never re-price; the store's record of which prices
    its costs were priced with makes the next open finish the job."""
    from tests.conftest import new_store

    store = new_store(ch_client)
    try:
        write_executions(store)
        before = _hourly_and_per_attempt_totals(store)[1].cost_usd
        override = tmp_path / "prices.toml"
        override.write_text('[[model]]\nname = "mystery-model-9"\ninput = 100\noutput = 200\n')
        # What the killed process left: the new prices in the table, the stored costs priced with the old ones.
        table = store.table("execlog_prices")
        store.pool.command(f"TRUNCATE TABLE {table}")
        store.pool.insert(table, sorted((p.row() for p in pricing.in_force(override)), key=lambda r: r[0]),
                          column_names=pricing.COLUMNS)
        assert _hourly_and_per_attempt_totals(store)[1].cost_usd == pytest.approx(before, rel=1e-12)
        store.prices_file = str(override)
        store.migrate()
        hourly, per_attempt = _hourly_and_per_attempt_totals(store)
        assert per_attempt.cost_usd == pytest.approx(before + (1010 * 100 + 1010 * 200) / M, rel=1e-12)
        assert hourly.cost_usd == pytest.approx(per_attempt.cost_usd, rel=1e-12)
    finally:
        ch_client.command(f"DROP DATABASE IF EXISTS {store.database} SYNC")
