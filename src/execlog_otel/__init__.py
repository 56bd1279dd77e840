"""execlog-otel: an execution log for AI agents and workflow automations on OpenTelemetry + ClickHouse.

    import execlog_otel
    execlog_otel.configure()                      # once; or run under opentelemetry-instrument

    @execlog_otel.automation("sync-orders", trigger="schedule")
    def sync_orders(since: str) -> dict:
        with execlog_otel.step("Fetch orders", kind="connector", connector="Shopify") as s:
            ...

    with execlog_otel.agent("research-agent", input={"prompt": prompt}) as run:
        with execlog_otel.step("chat", kind="llm") as s:
            s.record_llm(model="gpt-4o-mini", input_tokens=812, output_tokens=96)
        run.set_output({"answer": answer})
"""

from execlog_otel.sdk.attempts import attempt_of
from execlog_otel.sdk.context import current_execution, current_step
from execlog_otel.sdk.executions import Execution, agent, automation
from execlog_otel.sdk.steps import Step, step
from execlog_otel.sdk.telemetry import Telemetry, configure
from execlog_otel.semconv import Kind, Status, StepKind, StepStatus

__all__ = [
    "Execution", "Kind", "Status", "Step", "StepKind", "StepStatus", "Telemetry", "agent", "attempt_of",
    "automation", "configure", "current_execution", "current_step", "step",
]
