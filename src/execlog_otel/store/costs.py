"""Rows of the cost queries -> ``model.Cost``: nothing is priced here.

The views ``execlog_llm_costs`` (per step) and ``execlog_trace_costs`` (per attempt and model) give the
costs ClickHouse stored with the usage (each span priced as it arrived by the SQL facts that match models
to prices, and priced again when the prices change), so the viewer shows what ``execlog sql`` and the
dashboards compute. Here the per-attempt rows become costs and an execution's cost is their sum;
a cost whose steps with tokens all lack a price stays None ("no price"), never 0. An execution's tokens
follow the same rule as its cost: every attempt, each token once (``total_tokens``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from execlog_otel.store.model import Cost, construct

# The token counts summed over attempts; stated_*: input and output as the spans state them (cache reads inside
# input, reasoning inside output), attempts only.
_SUMMED = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens",
           "total_tokens", "stated_input_tokens", "stated_output_tokens")


def from_row(row: dict[str, Any]) -> Cost:
    """A cost row (``read/attempt_cost_columns.sql`` or ``read/costs_by_span.sql``)."""
    usd = row["CostUsd"]
    return construct(Cost, usd=None if usd is None else round(float(usd), 10),
                     unpriced_steps=int(row["UnpricedSteps"]),
                     reported_usd=round(float(row["ReportedCostUsd"] or 0), 10),
                     input_tokens=int(row["InputTokens"]), cache_read_tokens=int(row["CacheReadTokens"]),
                     cache_write_tokens=int(row["CacheWriteTokens"]), output_tokens=int(row["OutputTokens"]),
                     reasoning_tokens=int(row["ReasoningTokens"]), total_tokens=int(row["TotalTokens"]),
                     stated_input_tokens=int(row.get("StatedInputTokens") or 0),
                     stated_output_tokens=int(row.get("StatedOutputTokens") or 0),
                     model=row.get("Model", ""), priced_as=row.get("PricedAs") or None)


def total(parts: list[Cost]) -> Cost:
    """An execution's cost: the sum over its attempts (``usd`` None when nothing in it had a price)."""
    if not parts:
        return Cost()
    priced = [p.usd for p in parts if p.usd is not None]
    unpriced = sum(p.unpriced_steps for p in parts)
    usd = round(sum(priced), 10) if priced or not unpriced else None
    sums = {f: sum(getattr(p, f) for p in parts) for f in _SUMMED}
    return Cost(usd=usd, unpriced_steps=unpriced, reported_usd=round(sum(p.reported_usd for p in parts), 10), **sums)


def without_step_fields(c: Cost) -> Cost:
    return replace(c, model="", priced_as=None)
