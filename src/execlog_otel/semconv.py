"""Every span attribute name and status value the project writes or reads.

OpenTelemetry GenAI semantic conventions where they exist, ``code.*`` for code
location, OpenInference names for spans from other instrumentations, and
``execlog.*`` for what no convention covers. The SQL in ``store/sql`` reads
the same names; ``tests/test_semconv.py`` keeps the two in step.
"""

from __future__ import annotations

from enum import StrEnum

# --- GenAI semantic conventions (current) ---------------------------------
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
GEN_AI_AGENT_NAME = "gen_ai.agent.name"
GEN_AI_WORKFLOW_NAME = "gen_ai.workflow.name"  # read: names invoke_workflow roots of other instrumentations
GEN_AI_TOOL_NAME = "gen_ai.tool.name"
GEN_AI_TOOL_CALL_ID = "gen_ai.tool.call.id"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id"
# Message content (recorded when the instrumentation captures content), read by Download Code.
GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"
GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages"
GEN_AI_SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
GEN_AI_TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments"
GEN_AI_TOOL_CALL_RESULT = "gen_ai.tool.call.result"
# The event (span event or log record) that carries one inference's messages when content is captured.
GEN_AI_OPERATION_DETAILS_EVENT = "gen_ai.client.inference.operation.details"
GEN_AI_RESPONSE_ID = "gen_ai.response.id"
ERROR_TYPE = "error.type"  # general semantic convention: the error class of a failed operation

# --- GenAI deprecated names (read, never written) --------------------------
GEN_AI_SYSTEM = "gen_ai.system"
GEN_AI_USAGE_PROMPT_TOKENS = "gen_ai.usage.prompt_tokens"
GEN_AI_USAGE_COMPLETION_TOKENS = "gen_ai.usage.completion_tokens"
# Content before gen_ai.input/output.messages: indexed span attributes (gen_ai.prompt.0.role,
# gen_ai.prompt.0.content, gen_ai.completion.0.content, ...), whole-text attributes, and span events.
GEN_AI_PROMPT_PREFIX = "gen_ai.prompt."
GEN_AI_COMPLETION_PREFIX = "gen_ai.completion."
GEN_AI_PROMPT = "gen_ai.prompt"  # attribute of the gen_ai.content.prompt event (and a span attribute)
GEN_AI_COMPLETION = "gen_ai.completion"
GEN_AI_CONTENT_PROMPT_EVENT = "gen_ai.content.prompt"
GEN_AI_CONTENT_COMPLETION_EVENT = "gen_ai.content.completion"
# Per-message log records (event.name) of the 2024-2025 GenAI event conventions: the body holds the message.
GEN_AI_USER_MESSAGE_EVENT = "gen_ai.user.message"
GEN_AI_SYSTEM_MESSAGE_EVENT = "gen_ai.system.message"
GEN_AI_ASSISTANT_MESSAGE_EVENT = "gen_ai.assistant.message"
GEN_AI_TOOL_MESSAGE_EVENT = "gen_ai.tool.message"
GEN_AI_CHOICE_EVENT = "gen_ai.choice"
EVENT_NAME = "event.name"  # log record attribute naming its event (older SDKs; the EventName column now)

# gen_ai.operation.name values
OP_INVOKE_AGENT = "invoke_agent"
OP_INVOKE_WORKFLOW = "invoke_workflow"
OP_EXECUTE_TOOL = "execute_tool"
OP_CHAT = "chat"

# --- OpenInference (read, never written) -----------------------------------
OPENINFERENCE_SPAN_KIND = "openinference.span.kind"
LLM_TOKEN_COUNT_PROMPT = "llm.token_count.prompt"
LLM_TOKEN_COUNT_COMPLETION = "llm.token_count.completion"
LLM_TOKEN_COUNT_TOTAL = "llm.token_count.total"
LLM_TOKEN_COUNT_CACHE_READ = "llm.token_count.prompt_details.cache_read"
LLM_TOKEN_COUNT_CACHE_WRITE = "llm.token_count.prompt_details.cache_write"
LLM_TOKEN_COUNT_REASONING = "llm.token_count.completion_details.reasoning"
LLM_MODEL_NAME = "llm.model_name"
TOOL_NAME = "tool.name"
INPUT_VALUE = "input.value"
OUTPUT_VALUE = "output.value"

# --- OpenLLMetry / traceloop-sdk (read, never written) ---------------------
TRACELOOP_SPAN_KIND = "traceloop.span.kind"  # workflow, task, agent, tool
TRACELOOP_ENTITY_NAME = "traceloop.entity.name"
TRACELOOP_ENTITY_INPUT = "traceloop.entity.input"  # JSON
TRACELOOP_ENTITY_OUTPUT = "traceloop.entity.output"  # JSON
TRACELOOP_WORKFLOW_NAME = "traceloop.workflow.name"
LLM_REQUEST_TYPE = "llm.request.type"  # chat, completion, embedding: OpenLLMetry's model-call spans
# Reasoning tokens as traceloop-sdk's semconv_ai names them (OpenLIT's Responses API path too): no convention's name.
GEN_AI_USAGE_REASONING_TOKENS = "gen_ai.usage.reasoning_tokens"

# --- OpenLIT (read, never written): its model-call spans use the current GenAI names; its @openlit.trace
# spans record the function's arguments (Python reprs) and put its return value in gen_ai.output.messages.
OPENLIT_FUNCTION_ARGS = "function.args"
OPENLIT_FUNCTION_KWARGS = "function.kwargs"
# Not an attribute: the instrumentation scope (tracer name) of the @openlit.trace and openlit.start_trace spans, the
# one thing such a span carries when its function raised (OpenLIT sets the attributes after it returns).
OPENLIT_TRACE_SCOPE = "openlit"

# --- HTTP (transport spans of HTTP client instrumentations) ----------------
HTTP_REQUEST_METHOD = "http.request.method"
HTTP_METHOD = "http.method"  # deprecated name, still read

# --- Code location ---------------------------------------------------------
CODE_FUNCTION_NAME = "code.function.name"
CODE_FILE_PATH = "code.file.path"
CODE_LINE_NUMBER = "code.line.number"
# Not a convention: the function's source, for Download Code.
CODE_SOURCE = "execlog.code.source"
# JSON: what the source needs from its module to re-run (imports, constants, helper sources).
CODE_CONTEXT = "execlog.code.context"

# --- execlog.* ---------------------------------------------------------------
# Execution (set on the root span of a trace)
KIND = "execlog.kind"  # Kind values
EXECUTION_NAME = "execlog.execution.name"
STATUS = "execlog.status"  # Status values, on roots and steps
INPUT = "execlog.input"  # JSON
OUTPUT = "execlog.output"  # JSON
TRIGGER = "execlog.trigger"  # trigger name / type of an automation
TRIGGER_PAYLOAD = "execlog.trigger.payload"  # JSON
TRIGGER_FINGERPRINT = "execlog.trigger.fingerprint"  # hash of the trigger configuration
# Start of the execution (first attempt), ns since epoch, on state markers and retry attempts
EXECUTION_START = "execlog.execution.start_time_unix_nano"
TIMEOUT_MS = "execlog.execution.timeout_ms"
ATTEMPT = "execlog.attempt"  # 1, 2, 3 ...
# Start of the current attempt, ns since epoch, on state markers (the marker's own time is "now")
ATTEMPT_START = "execlog.attempt.start_time_unix_nano"
RETRY_OF = "execlog.retry_of"  # execution id (trace id of the first attempt)
# The execution id on every span of an execution whose id is not its trace id (a retry attempt's steps, a
# Celery task's): what a sharded cluster's sharding key reads, so all attempts' spans land on one shard.
EXECUTION_ID = "execlog.execution.id"
# HMAC of (execution id, attempt, own trace id) with the retry secret: proves a retry_of claim (retry.proof)
RETRY_PROOF = "execlog.retry.proof"
# What execlog serve keeps of a retry_of claim it could not prove: the trace stays an execution of its own
RETRY_OF_UNPROVEN = "execlog.retry_of.unproven"
MAX_ATTEMPTS = "execlog.max_attempts"
RETRYABLE = "execlog.retryable"  # "false" to forbid retries
NOT_RETRYABLE_REASON = "execlog.not_retryable_reason"
RETRY_TARGET = "execlog.retry.target"  # "module:function" the runner re-runs

# The third reference document's fields
EVENT = "execlog.event"
TARGET = "execlog.target"
TARGET_RECORD_ID = "execlog.target_record_id"
REQUEST_ID = "execlog.request_id"
TRIGGERED_BY = "execlog.triggered_by"
VALIDATION_MESSAGE = "execlog.validation_message"
RAISED_ACTION = "execlog.raised_action"
EXECUTED_ACTION_IDS = "execlog.executed_action_ids"  # JSON list

# Steps
STEP_KIND = "execlog.step.kind"  # StepKind values
STEP_STATUS = "execlog.step.status"  # StepStatus values
CONNECTOR = "execlog.connector"
TOOL = "execlog.tool"  # when not a GenAI tool call
SKIP_REASON = "execlog.skip_reason"
# What the step cost in US dollars as the runner reports it (e.g. a paid API call), summed with the
# cost of its tokens (execlog_llm_costs).
COST_USD = "execlog.cost.usd"

# Payload capping
TRUNCATED_SUFFIX = ".truncated"  # e.g. execlog.input.truncated = "true"
ORIGINAL_SIZE_SUFFIX = ".original_size"  # e.g. execlog.input.original_size = "123456"

# Live-state marker: a zero-length child span of the root that carries the
# execution's current state while the root span is still open.
MARKER = "execlog.marker"
MARKER_STATE = "state"
STATE_SPAN_NAME = "execlog.state"

# Client spans of other instrumentations: the system they called names the step's connector
# (database, messaging system, RPC service, host), in this order of preference.
DB_SYSTEM_NAME = "db.system.name"
DB_SYSTEM = "db.system"  # deprecated name, still read
MESSAGING_SYSTEM = "messaging.system"
RPC_SERVICE = "rpc.service"
SERVER_ADDRESS = "server.address"
NET_PEER_NAME = "net.peer.name"  # deprecated name, still read
CONNECTOR_SYSTEM_KEYS = (DB_SYSTEM_NAME, DB_SYSTEM, MESSAGING_SYSTEM, RPC_SERVICE, SERVER_ADDRESS, NET_PEER_NAME)

# The exception event's attributes (general semantic conventions)
EXCEPTION_EVENT = "exception"
EXCEPTION_TYPE = "exception.type"
EXCEPTION_MESSAGE = "exception.message"

# Resource attributes the Collector's otel_logs table materializes as columns (its DDL, verbatim)
K8S_CLUSTER_NAME = "k8s.cluster.name"
K8S_CONTAINER_NAME = "k8s.container.name"
K8S_DEPLOYMENT_NAME = "k8s.deployment.name"
K8S_NAMESPACE_NAME = "k8s.namespace.name"
K8S_NODE_NAME = "k8s.node.name"
K8S_POD_NAME = "k8s.pod.name"
K8S_POD_UID = "k8s.pod.uid"
DEPLOYMENT_ENVIRONMENT_NAME = "deployment.environment.name"

# Resource attributes
RESOURCE_RETRY_URL = "execlog.retry.url"  # the runner's retry listener
RESOURCE_PROJECT = "execlog.project"  # the project an execution belongs to (configure(project=...))
SERVICE_NAMESPACE = "service.namespace"  # the project when execlog.project is absent
DEFAULT_PROJECT = "default"  # the project when neither is set


class Kind(StrEnum):
    AGENT = "agent"
    AUTOMATION = "automation"
    OTHER = "other"  # a trace from another instrumentation that is neither


class Status(StrEnum):
    SUCCESS = "Success"
    FAILED = "Failed"
    PARTIALLY_EXECUTED = "Partially Executed"
    RUNNING = "Running"
    QUEUED = "Queued"
    PENDING = "Pending"
    PAUSED = "Paused"
    REJECTED = "Rejected"


LIVE_STATUSES = (Status.RUNNING, Status.QUEUED, Status.PENDING, Status.PAUSED)
FAILED_STATUSES = (Status.FAILED, Status.REJECTED)


class StepStatus(StrEnum):
    SUCCESS = "Success"
    FAILED = "Failed"
    SKIPPED = "Skipped"
    RUNNING = "Running"


class StepKind(StrEnum):
    TRIGGER = "trigger"
    ACTION = "action"
    CONNECTOR = "connector"
    TOOL = "tool"
    LLM = "llm"
    PAUSE = "pause"
    RESPONSE = "response"  # answered the caller synchronously: not retryable
    NODE = "node"
    STEP = "step"
