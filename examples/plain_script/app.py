"""A plain script calling job functions that use the OpenAI client.

    execlog serve &
    EXECLOG_AUTOMATIONS=jobs:nightly_sync,jobs:import_orders \\
      OTEL_PYTHON_DISTRO=execlog opentelemetry-instrument python examples/plain_script/app.py

Each call of a named job is an automation execution (its arguments the input,
its return value the output, an exception Failed); the OpenAI calls inside are
its LLM steps with model and tokens. Without ``OPENAI_BASE_URL`` the script
starts a local fake OpenAI-compatible server (``examples/fake_openai.py``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import jobs  # noqa: E402 - after the path set-up above


def main() -> int:
    if not os.environ.get("OPENAI_BASE_URL"):
        import fake_openai

        _, os.environ["OPENAI_BASE_URL"] = fake_openai.start()
    print(jobs.nightly_sync("emea", limit=25))
    print(jobs.import_orders([{"id": 1}, {"id": 2}]))
    try:
        jobs.import_orders([{"id": 3}, {"sku": "no-id"}])
    except ValueError as exc:
        print(f"import failed: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
