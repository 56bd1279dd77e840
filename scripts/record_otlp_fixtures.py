"""Record the OTLP bodies real third-party clients send, as test fixtures (tests/fixtures/otlp/<client>/).

Each client runs one agent turn against a local fake OpenAI-compatible server: the agent asks the model,
the model answers with a tool call, the tool runs, the model answers in text. The client's own OTLP/HTTP
exporters send to a local capture server, which keeps every body as it arrived (protobuf), one file per
request: ``NNN-traces.pb``, ``NNN-logs.pb``, ``NNN-metrics.pb``. Nothing leaves the machine.

    python scripts/record_otlp_fixtures.py CLIENT [--python PATH]

CLIENT is one of openlit, traceloop, openinference, genai (opentelemetry-instrumentation-genai-openai with
opentelemetry-util-genai's agent and tool invocations), genai_events (the same, content in log records
only). ``--python`` runs the client in another virtual environment. openlit 1.45 and traceloop-sdk 0.62
need OpenTelemetry contrib instrumentations that have no release at the project's OpenTelemetry version
(0.66b2), so they are recorded from venvs of their own, with OpenTelemetry held at 1.45.1 / 0.66b1 (left
free, pip backtracks for many minutes):

    python3 -m venv .venv-openlit && .venv-openlit/bin/pip install openlit openai -c otel-pins.txt
    python3 -m venv .venv-traceloop && .venv-traceloop/bin/pip install traceloop-sdk openai httpx -c otel-pins.txt

where otel-pins.txt holds opentelemetry-api==1.45.1, opentelemetry-sdk==1.45.1,
opentelemetry-instrumentation==0.66b1, opentelemetry-semantic-conventions==0.66b1 and the 1.45.1 OTLP
exporters. The client-side code of each scenario is in this file (``scenario_*``) and needs only the
client, ``openai`` and the standard library.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "otlp"
CLIENTS = ("openlit", "traceloop", "openinference", "genai", "genai_events")

AGENT = "weather_agent"
TOOL = "get_weather"
QUESTION = "What is the weather in Paris?"
TOOL_ARGUMENTS = {"city": "Paris"}
TOOL_RESULT = "sunny, 21 C"
ANSWER = "It is sunny in Paris, 21 C."
MODEL = "gpt-4o-mini"
USAGE = {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30}
TOOLS = [{"type": "function", "function": {"name": TOOL, "description": "Current weather of a city",
                                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                          "required": ["city"]}}}]


# --- the fake model (OpenAI chat completions) -----------------------------------------------------------

def completion(request: dict[str, Any]) -> dict[str, Any]:
    """A tool call when the conversation has no tool result yet, else the answer."""
    answered = any(m.get("role") == "tool" for m in request.get("messages", []))
    if answered:
        message: dict[str, Any] = {"role": "assistant", "content": ANSWER}
        finish = "stop"
    else:
        message = {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": TOOL, "arguments": json.dumps(TOOL_ARGUMENTS)}}]}
        finish = "tool_calls"
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()),
            "model": request.get("model", MODEL), "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": USAGE}


class FakeOpenAI(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(completion(json.loads(body or b"{}")))

    def do_GET(self) -> None:  # noqa: N802
        self._answer({"object": "list", "data": [{"id": MODEL, "object": "model"}]})

    def _answer(self, answer: dict[str, Any]) -> None:
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


# --- the capture server (OTLP/HTTP) ---------------------------------------------------------------------

class Capture(BaseHTTPRequestHandler):
    bodies: list[tuple[str, bytes]] = []
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            import gzip

            body = gzip.decompress(body)
        signal = self.path.rstrip("/").rsplit("/", 1)[-1]
        with self.lock:
            self.bodies.append((signal, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# --- the scenarios (run in the client's interpreter) -----------------------------------------------------

def run_turn(client: Any, tool: Any) -> str:
    """One agent turn with the OpenAI client: ask, run the tool the model calls, ask again."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You answer weather questions."},
                                      {"role": "user", "content": QUESTION}]
    first = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    call = first.choices[0].message.tool_calls[0]
    result = tool(**json.loads(call.function.arguments))
    messages += [{"role": "assistant", "content": None, "tool_calls": [
        {"id": call.id, "type": "function", "function": {"name": call.function.name,
                                                         "arguments": call.function.arguments}}]},
        {"role": "tool", "tool_call_id": call.id, "content": result}]
    second = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    return second.choices[0].message.content


def scenario_openlit(otlp: str, openai_url: str) -> None:
    import openai
    import openlit
    import requests

    openlit.init(otlp_endpoint=otlp, application_name="openlit-demo", environment="test",
                 collect_gpu_stats=False, capture_message_content=True)
    # A request outside any span, as OpenLIT's own background fetches (its price list) are: a trace whose
    # root is a lone HTTP client span.
    requests.get(openai_url + "/models", timeout=10)

    @openlit.trace
    def get_weather(city: str) -> str:
        return TOOL_RESULT

    @openlit.trace
    def weather_agent(question: str) -> str:
        return run_turn(openai.OpenAI(base_url=openai_url, api_key="test"), get_weather)

    weather_agent(QUESTION)


def scenario_traceloop(otlp: str, openai_url: str) -> None:
    import openai
    from traceloop.sdk import Traceloop
    from traceloop.sdk.decorators import agent, tool

    Traceloop.init(app_name="traceloop-demo", api_endpoint=otlp, disable_batch=True, telemetry_enabled=False)

    @tool(name=TOOL)
    def get_weather(city: str) -> str:
        return TOOL_RESULT

    @agent(name=AGENT)
    def weather_agent(question: str) -> str:
        return run_turn(openai.OpenAI(base_url=openai_url, api_key="test"), get_weather)

    weather_agent(QUESTION)


def _otel_sdk(otlp: str, service: str) -> Any:
    """The OpenTelemetry SDK sending spans and logs to ``otlp`` (for the clients that do not set it up)."""
    from opentelemetry import _logs, trace
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": service})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp + "/v1/traces")))
    trace.set_tracer_provider(provider)
    logs = LoggerProvider(resource=resource)
    logs.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=otlp + "/v1/logs")))
    _logs.set_logger_provider(logs)
    return provider, logs


def scenario_openinference(otlp: str, openai_url: str) -> None:
    import openai
    from openinference.instrumentation.openai import OpenAIInstrumentor
    from opentelemetry import trace

    provider, logs = _otel_sdk(otlp, "openinference-demo")
    OpenAIInstrumentor().instrument(tracer_provider=provider)
    tracer = trace.get_tracer("weather")

    def get_weather(city: str) -> str:
        with tracer.start_as_current_span(TOOL, attributes={
                "openinference.span.kind": "TOOL", "tool.name": TOOL,
                "input.value": json.dumps({"city": city}), "input.mime_type": "application/json"}) as span:
            span.set_attribute("output.value", TOOL_RESULT)
            return TOOL_RESULT

    with tracer.start_as_current_span(AGENT, attributes={"openinference.span.kind": "AGENT",
                                                         "input.value": QUESTION}) as span:
        span.set_attribute("output.value", run_turn(openai.OpenAI(base_url=openai_url, api_key="test"), get_weather))
    provider.shutdown()
    logs.shutdown()


def scenario_genai_events(otlp: str, openai_url: str) -> None:
    """The current GenAI instrumentation with content in log records only (EVENT_ONLY)."""
    scenario_genai(otlp, openai_url, capture="EVENT_ONLY")


def scenario_genai(otlp: str, openai_url: str, capture: str = "SPAN_AND_EVENT") -> None:
    # Content on the spans and in log records (events), as the current GenAI conventions allow.
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = capture
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    import openai
    from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
    from opentelemetry.util.genai.handler import TelemetryHandler
    from opentelemetry.util.genai.types import InputMessage, OutputMessage, Text

    provider, logs = _otel_sdk(otlp, "genai-demo")
    OpenAIInstrumentor().instrument(tracer_provider=provider)
    handler = TelemetryHandler()

    def get_weather(city: str) -> str:
        with handler.tool(TOOL) as call:
            call.arguments = {"city": city}
            call.tool_result = TOOL_RESULT
            return TOOL_RESULT

    with handler.invoke_local_agent(agent_name=AGENT, request_model=MODEL) as invocation:
        invocation.input_messages = [InputMessage(role="user", parts=[Text(content=QUESTION)])]
        answer = run_turn(openai.OpenAI(base_url=openai_url, api_key="test"), get_weather)
        invocation.output_messages = [OutputMessage(role="assistant", parts=[Text(content=answer)],
                                                    finish_reason="stop")]
    provider.shutdown()
    logs.shutdown()


# --- driver -------------------------------------------------------------------------------------------------

def record(client: str, python: str, out: Path) -> list[Path]:
    """Run ``client``'s scenario with ``python`` and write what it sent into ``out`` (replaced)."""
    model, capture = serve(FakeOpenAI), serve(Capture)
    Capture.bodies = []
    otlp = f"http://127.0.0.1:{capture.server_port}"
    openai_url = f"http://127.0.0.1:{model.server_port}/v1"
    env = {**os.environ, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT": otlp,
           "OTEL_METRIC_EXPORT_INTERVAL": "1000", "TRACELOOP_TELEMETRY": "false", "OPENAI_API_KEY": "test"}
    try:
        subprocess.run([python, __file__, "--scenario", client, "--otlp", otlp, "--openai", openai_url],
                       env=env, check=True, timeout=300)
        time.sleep(2)  # exporters that flush on exit in a thread of their own
    finally:
        model.shutdown()
        capture.shutdown()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    written = []
    for n, (signal, body) in enumerate(Capture.bodies):
        path = out / f"{n:03d}-{signal}.pb"
        path.write_bytes(body)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("client", nargs="?", choices=CLIENTS)
    parser.add_argument("--python", default=sys.executable, help="the interpreter that has the client installed")
    parser.add_argument("--scenario", choices=CLIENTS, help=argparse.SUPPRESS)
    parser.add_argument("--otlp", help=argparse.SUPPRESS)
    parser.add_argument("--openai", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scenario:
        globals()[f"scenario_{args.scenario}"](args.otlp, args.openai)
        return 0
    if not args.client:
        parser.error("name a client: " + ", ".join(CLIENTS))
    for path in record(args.client, args.python, FIXTURES / args.client):
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
