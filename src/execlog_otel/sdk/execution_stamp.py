"""Every span of an execution says which execution it belongs to when its trace id does not.

A sharded cluster (``execlog schema --cluster NAME --shards``) places each span by its execution id, so
an execution's rows (the listing's ReplacingMergeTree, its attempts) and every span of every attempt are
on one shard. The first attempt's spans need nothing: their trace id is the execution id. A retry
attempt is a trace of its own and only its root names the execution (``execlog.retry_of``), and a
Celery task's execution id is the task id; so the spans started inside such an execution carry
``execlog.execution.id``, which the sharding key reads first.
"""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider

from execlog_otel import semconv as sc
from execlog_otel.sdk.context import CURRENT_EXECUTION


class ExecutionIdStamp(SpanProcessor):
    """Sets ``execlog.execution.id`` on spans started inside an execution whose id is not their trace id."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        execution = CURRENT_EXECUTION.get()
        if execution is None:
            return
        execution_id = execution.execution_id
        if execution_id and execution_id != format(span.get_span_context().trace_id, "032x"):
            span.set_attribute(sc.EXECUTION_ID, execution_id)


def install(provider: TracerProvider) -> None:
    """Add the stamp to ``provider`` once (configure() may run more than once on one provider)."""
    if not getattr(provider, "_execlog_execution_stamp", False):
        provider.add_span_processor(ExecutionIdStamp())
        provider._execlog_execution_stamp = True  # type: ignore[attr-defined]
