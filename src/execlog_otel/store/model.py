"""The read model: what the viewer, the API, Download Code and retries know about an execution.

Immutable values, built by ``store.repository`` from ClickHouse rows (the derived facts, such as an
execution's status or a step's connector, computed inside ClickHouse) and turned into the API's JSON
by ``viewer.presenters``. Times are nanoseconds since the epoch, durations nanoseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from execlog_otel import semconv as sc

_Frozen = TypeVar("_Frozen")


def construct(cls: type[_Frozen], **values: Any) -> _Frozen:
    """``cls(**values)`` without running ``__init__``, for the values a big execution's detail makes a thousand
    of (steps, their events and costs): a frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__``, several times the cost of filling the instance's dictionary at once (measured: 7 µs
    against 1 µs for a Step). Every field must be given; the instance stays frozen."""
    obj = object.__new__(cls)
    obj.__dict__.update(values)
    return obj


@dataclass(frozen=True)
class Payload:
    """A JSON payload attribute as recorded: parsed JSON (or the raw text), and whether it was capped."""

    value: Any
    truncated: bool = False
    original_size: int | None = None


@dataclass(frozen=True)
class Rollup:
    """What the listing shows of an execution besides its row: the latest attempt's steps, failed and skipped
    steps, models, tools and connectors (``execlog_trace_rollups``), and the tokens of every attempt, each
    once (``execlog_trace_costs``, the rows and rule its cost comes from, so Tokens and Cost always agree)."""

    steps: int = 0
    failed_steps: int = 0
    skipped_steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    models: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    connectors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cost:
    """What an execution, attempt or step cost (``execlog_llm_costs``: tokens x the prices in force, stored and
    priced again when they change, plus costs the runner reported). Each token is counted once: ``input_tokens``
    without cache reads and writes, ``output_tokens`` without reasoning. ``usd`` None: nothing with tokens had a
    price."""

    usd: float | None = 0.0
    unpriced_steps: int = 0
    reported_usd: float = 0.0
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    total_tokens: int = 0
    stated_input_tokens: int = 0  # input and output as the spans state them (attempts and executions)
    stated_output_tokens: int = 0
    model: str = ""  # steps: the model, and the price-table name it matched
    priced_as: str | None = None


@dataclass(frozen=True)
class Totals:
    """Above the listing, for its filters: executions, failed ones, and their tokens and cost (all attempts)."""

    executions: int
    failed: int
    tokens: int
    cost_usd: float | None
    unpriced_steps: int


@dataclass(frozen=True)
class Execution:
    """One execution in its newest state (a row of ``execlog_executions``) with its latest attempt's rollup."""

    id: str
    trace_id: str
    name: str
    kind: str
    status: str
    status_message: str
    start_ns: int
    attempt_start_ns: int
    attempt_end_ns: int  # 0 while the attempt runs
    duration_ns: int
    attempt: int
    service: str
    event: str
    target: str
    target_record_id: str
    request_id: str
    triggered_by: str
    trigger_fingerprint: str
    retry_target: str
    retry_url: str
    retryable: bool
    not_retryable_reason: str
    rollup: Rollup = field(default_factory=Rollup)
    max_attempts: int | None = None
    cost: Cost = field(default_factory=Cost)  # over every attempt
    project: str = ""  # execlog.project, else service.namespace, else default (facts/project.sql)

    @property
    def live(self) -> bool:
        return self.status in sc.LIVE_STATUSES

    @property
    def retried(self) -> bool:
        return self.attempt > 1 or self.trace_id != self.id


@dataclass(frozen=True)
class Attempt:
    """One attempt: the root span of one trace of the execution."""

    trace_id: str
    attempt: int
    start_ns: int
    duration_ns: int
    status: str
    status_message: str = ""
    cost: Cost = field(default_factory=Cost)
    triggered_by: str = ""  # who asked for a retry (the audit), or the first attempt's execlog.triggered_by


@dataclass(frozen=True)
class CodeLocation:
    function: str = ""
    file: str = ""
    line: str = ""
    source: str = ""


@dataclass(frozen=True)
class Event:
    time_ns: int
    name: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class LogRecord:
    """An OTLP log record a step wrote (otel_logs, matched by trace and span id)."""

    time_ns: int
    severity_text: str
    severity_number: int
    body: str
    event_name: str
    attributes: dict[str, str]
    content_input: str = ""  # GenAI content the record carries (facts/log_input.sql), '' when none
    content_output: str = ""


@dataclass(frozen=True)
class Step:
    span_id: str
    parent_span_id: str
    depth: int
    name: str
    span_name: str
    kind: str
    status: str
    error: str
    skip_reason: str
    start_ns: int
    offset_ns: int
    duration_ns: int
    model: str
    input_tokens: int
    output_tokens: int
    total_tokens: int
    tool: str
    connector: str
    input: Payload | None
    output: Payload | None
    code: CodeLocation
    attributes: dict[str, str]
    events: tuple[Event, ...]
    service: str
    logs: tuple[LogRecord, ...] = ()
    cost: Cost | None = None  # None: the step used no model and reported no cost
    position: int = -1  # depth-first position in its attempt's step tree, when read by page (-1: not)
    descendants: int = -1  # steps under it, when read by page


@dataclass(frozen=True)
class Head:
    """What the root span (or, while it runs, the newest state marker) of the shown attempt records."""

    input: Payload | None = None
    output: Payload | None = None
    trigger: str = ""
    trigger_payload: Payload | None = None
    validation_message: str = ""
    raised_action: str = ""
    executed_action_ids: tuple[Any, ...] = ()
    conversation_id: str = ""
    code: CodeLocation = field(default_factory=CodeLocation)
    max_attempts: int | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    resource: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExecutionDetail:
    """The detail page: the execution as of the shown attempt, its attempts, and the attempt's steps."""

    execution: Execution
    attempts: tuple[Attempt, ...]
    head: Head
    steps: tuple[Step, ...]
    steps_truncated: bool
    attempt_cost: Cost = field(default_factory=Cost)  # of the shown attempt
    steps_total: int | None = None  # steps of the shown attempt, when ``steps`` does not hold them all
    steps_paged: bool = False  # ``steps`` is the first page; the others are read by page (``step_pages``)


@dataclass(frozen=True)
class ProblemStep:
    name: str
    status: str
    detail: str
    start_ns: int


@dataclass(frozen=True)
class ExecutionSummary:
    """Quick View: the header, input and output, and the failed and skipped steps, without every step."""

    execution: Execution
    head: Head
    problem_steps: tuple[ProblemStep, ...]


@dataclass(frozen=True)
class Cursor:
    """Where the next page of a listing starts: after (sort value, execution id)."""

    value: int
    execution_id: str


@dataclass(frozen=True)
class Page:
    items: tuple[Execution, ...]
    next_cursor: Cursor | None
    count: int
    count_capped: bool


@dataclass(frozen=True)
class Neighbor:
    id: str
    name: str


@dataclass(frozen=True)
class Neighbors:
    prev: Neighbor | None
    next: Neighbor | None


@dataclass(frozen=True)
class NameCount:
    name: str
    kind: str
    executions: int
    last_start_ns: int


@dataclass(frozen=True)
class StatusCounts:
    counts: dict[str, int]
    capped: bool


@dataclass(frozen=True)
class ProjectSummary:
    """A project on the projects landing page: its executions and failures over the last 24 h and 7 days, and
    their cost (None: no step with a price)."""

    name: str
    executions_24h: int
    failed_24h: int
    executions_7d: int
    failed_7d: int
    last_start_ns: int
    cost_24h_usd: float | None = None
    cost_7d_usd: float | None = None
