"""What the log holds of an execution, read for a replay: payloads, errors, steps' logged results.

Input is an execution dict shaped like the API's detail response; every function here
only reads it (span data is untrusted: nothing read here is executed or trusted as code).
"""

from __future__ import annotations

import json
from typing import Any

from execlog_otel import semconv as sc
from execlog_otel.replay.source import is_identifier


def payload_parts(p: dict[str, Any] | None) -> tuple[Any, bool, bool]:
    """(value, present, truncated) of a payload as ``presenters.payload`` returns it."""
    if not p:
        return None, False, False
    return p.get("value"), True, bool(p.get("truncated"))


def error_of(message: str) -> dict[str, str]:
    """``"ValueError: bad"`` -> {type, message}; text without a type prefix is a message of type Exception."""
    head, sep, rest = (message or "").partition(": ")
    if sep and all(is_identifier(p) for p in head.split(".")):
        return {"type": head.rsplit(".", 1)[-1], "message": rest}
    return {"type": "Exception", "message": message or ""}


def _exception_event(events: list[dict[str, Any]]) -> dict[str, str] | None:
    for ev in events or ():
        if ev.get("name") == "exception":
            at = ev.get("attributes") or {}
            return {"type": str(at.get("exception.type", "Exception")).rsplit(".", 1)[-1],
                    "message": str(at.get("exception.message", ""))}
    return None


def _chat_completion(messages: Any, attrs: dict[str, str]) -> dict[str, Any] | None:
    """An LLM step's logged reply (its output: ``gen_ai.output.messages``, a log record's or the indexed
    form's messages) shaped like a chat completion response, so ``reply.choices[0].message.content`` reads
    it in the replay; None when ``messages`` is no list of messages."""
    if isinstance(messages, str):
        try:
            messages = json.loads(messages)
        except ValueError:
            return None
    if not isinstance(messages, list) or not all(isinstance(m, dict) and "role" in m for m in messages):
        return None
    choices = []
    for i, m in enumerate(x for x in messages if isinstance(x, dict)):
        parts = [p for p in m.get("parts") or [] if isinstance(p, dict)]
        text = ("".join(str(p.get("content", "")) for p in parts if p.get("type") == "text") if parts
                else str(m.get("content") or ""))
        message: dict[str, Any] = {"role": m.get("role", "assistant"), "content": text}
        calls = [{"id": p.get("id"), "type": "function",
                  "function": {"name": p.get("name"), "arguments": json.dumps(p.get("arguments"))}}
                 for p in parts if p.get("type") == "tool_call"]
        if calls:
            message["tool_calls"] = calls
        choices.append({"index": i, "finish_reason": m.get("finish_reason"), "message": message})

    def tokens(key: str) -> int:
        raw = str(attrs.get(key, "") or "")
        return int(raw) if raw.isascii() and raw.isdigit() else 0

    usage = {"prompt_tokens": tokens(sc.GEN_AI_USAGE_INPUT_TOKENS),
             "completion_tokens": tokens(sc.GEN_AI_USAGE_OUTPUT_TOKENS)}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return {"id": attrs.get(sc.GEN_AI_RESPONSE_ID, ""), "object": "chat.completion",
            "model": attrs.get(sc.GEN_AI_RESPONSE_MODEL, ""), "choices": choices, "usage": usage}


def step_call(step: dict[str, Any]) -> dict[str, Any]:
    """A logged step as the runtime's stand-ins want it: input, and output or error."""
    call: dict[str, Any] = {}
    value, present, _ = payload_parts(step.get("input"))
    if present:
        call["input"] = value
    if step.get("status") == sc.StepStatus.FAILED:
        call["error"] = _exception_event(step.get("events") or []) or error_of(step.get("error", ""))
        error_type = str((step.get("attributes") or {}).get(sc.ERROR_TYPE, ""))
        if call["error"]["type"] == "Exception" and is_identifier(error_type.rsplit(".", 1)[-1]):
            call["error"]["type"] = error_type.rsplit(".", 1)[-1]
    else:
        value, present, _ = payload_parts(step.get("output"))
        attrs = step.get("attributes") or {}
        if step.get("kind") == sc.StepKind.LLM and not attrs.get(sc.OUTPUT) and not attrs.get(sc.OUTPUT_VALUE):
            # A model call's output read from GenAI messages (facts/span_output.sql): answer as the client did.
            value = _chat_completion(value if present else attrs.get(sc.GEN_AI_OUTPUT_MESSAGES, ""), attrs) or value
        call["output"] = value
    return call


def step_keys(step: dict[str, Any]) -> list[str]:
    """Keys a step may be found by: ``fn:<function>@<line>`` (a decorated step's spans carry its function
    and first line; a ``with step()`` block's carry the enclosing function and the ``with`` line), and
    ``name:<step name>`` / ``name:<tool name>``."""
    keys = []
    code = step.get("code") or {}
    if code.get("function"):
        keys.append(f"fn:{code['function']}@{code.get('line', '')}")
    for name in dict.fromkeys((step.get("tool"), step.get("name"))):
        if name:
            keys.append("name:" + str(name))
    return keys


def steps_by_key(steps: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by_key: dict[str, list[dict[str, Any]]] = {}
    for step in sorted(steps, key=lambda s: (s.get("started_at") or "", s.get("depth", 0))):
        for key in step_keys(step):
            by_key.setdefault(key, []).append(step)
    return by_key


def expected_outcome(execution: dict[str, Any]) -> dict[str, Any]:
    value, present, _ = payload_parts(execution.get("output"))
    if execution.get("status") in sc.FAILED_STATUSES and not present:
        message = execution.get("validation_message") or execution.get("status_message") or ""
        return {"error": error_of(message)}
    return {"output": value}


def recorded_context(execution: dict[str, Any]) -> dict[str, Any]:
    raw = (execution.get("attributes") or {}).get(sc.CODE_CONTEXT)
    if not raw:
        return {}
    try:
        ctx = json.loads(raw)
    except ValueError:
        return {}
    return ctx if isinstance(ctx, dict) else {}
