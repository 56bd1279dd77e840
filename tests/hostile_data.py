"""Executions whose every attribute is hostile: script tags, attribute breakouts, javascript: links,
``</script>`` inside JSON and SQL metacharacters. Written through the real SDK and exporter."""

from __future__ import annotations

import json

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from execlog_otel import semconv as sc
from execlog_otel.config import Settings
from execlog_otel.ingest.exporter import ClickHouseSpanExporter

# Each payload sets its own sentinel; a browser test asserts none of them is ever set.
SENTINELS = ("__pwned_script", "__pwned_img", "__pwned_js", "__pwned_json", "__pwned_svg", "__pwned_tpl")
SCRIPT = "<script>window.__pwned_script=1</script>"
IMG = '"><img src=x onerror="window.__pwned_img=1">'
JS_LINK = "javascript:window.__pwned_js=1//"
JSON_BREAK = "</script><script>window.__pwned_json=1</script>"
SVG = "<svg/onload=window.__pwned_svg=1>"
TEMPLATE = "{{7*7}}${7*7}<%= 7*7 %>"
SQL = "x' OR '1'='1'; DROP TABLE otel_traces; -- %_\\"
ALL = (SCRIPT, IMG, JS_LINK, JSON_BREAK, SVG, TEMPLATE, SQL)


def hostile_text(i: int) -> str:
    return ALL[i % len(ALL)]


def write_hostile_executions(store) -> list[str]:
    """Write an agent and an automation run full of hostile values; returns their execution ids."""
    exporter = ClickHouseSpanExporter(store=store, settings=Settings.from_env(environ={}))
    provider = TracerProvider(resource=Resource.create({"service.name": SCRIPT, "service.version": IMG}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("hostile")
    ids = []
    payload = {"q": SCRIPT, "html": IMG, "link": JS_LINK, "nested": {"x": JSON_BREAK, "tpl": TEMPLATE}, "sql": SQL}
    for kind, name in (("agent", f"agent {SCRIPT}"), ("automation", f"auto {IMG}")):
        with tracer.start_as_current_span(f"invoke_agent {SVG}") as root:
            ids.append(format(root.get_span_context().trace_id, "032x"))
            root.set_attributes({
                sc.KIND: kind, sc.EXECUTION_NAME: name, sc.GEN_AI_AGENT_NAME: name,
                sc.INPUT: json.dumps(payload), sc.OUTPUT: JSON_BREAK, sc.TRIGGER_PAYLOAD: json.dumps(payload),
                sc.REQUEST_ID: SQL, sc.EVENT: SVG, sc.TARGET: IMG, sc.TARGET_RECORD_ID: JS_LINK,
                sc.TRIGGERED_BY: SCRIPT, sc.VALIDATION_MESSAGE: IMG, sc.RAISED_ACTION: JSON_BREAK,
                sc.EXECUTED_ACTION_IDS: json.dumps([SCRIPT, JS_LINK]), sc.RETRY_TARGET: JS_LINK,
                sc.CODE_FUNCTION_NAME: SVG, sc.CODE_FILE_PATH: JS_LINK, sc.CODE_LINE_NUMBER: IMG,
                sc.CODE_SOURCE: f"def run():\n    return '{JSON_BREAK}'  # {SCRIPT}\n",
                sc.GEN_AI_CONVERSATION_ID: JS_LINK, "url.full": JS_LINK, "http.url": JS_LINK,
                SCRIPT: IMG,  # a hostile attribute *name* too
            })
            for i, step_kind in enumerate(("llm", "tool", "connector")):
                with tracer.start_as_current_span(f"step {hostile_text(i)}") as s:
                    s.set_attributes({sc.STEP_KIND: step_kind, sc.GEN_AI_TOOL_NAME: hostile_text(i + 1),
                                      sc.GEN_AI_REQUEST_MODEL: hostile_text(i + 2), sc.CONNECTOR: hostile_text(i + 3),
                                      sc.INPUT: json.dumps(payload), sc.OUTPUT: json.dumps({"o": JSON_BREAK}),
                                      sc.GEN_AI_USAGE_INPUT_TOKENS: 3, sc.GEN_AI_USAGE_OUTPUT_TOKENS: 4})
                    s.add_event(SCRIPT, {"exception.message": IMG, "exception.stacktrace": JSON_BREAK})
                    if i == 2:
                        s.set_status(Status(StatusCode.ERROR, IMG))
                        s.set_attribute(sc.STEP_STATUS, "Failed")
            root.set_status(Status(StatusCode.ERROR, SCRIPT))
            root.set_attribute(sc.STATUS, "Failed")
    provider.shutdown()
    return ids
