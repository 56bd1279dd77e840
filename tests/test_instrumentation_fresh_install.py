"""Zero-code instrumentation after the README's first install (``pip install -e .``, no runner libraries).

A fresh virtual environment gets this checkout installed by pip (so its entry points and metadata are the
ones pyproject.toml declares today); the libraries ``pip install -e .`` would bring are taken from the test
environment, the runner libraries (Celery, LangChain, LangGraph, OpenAI and the official GenAI
instrumentations) are left out. ``opentelemetry-instrument`` and ``execlog instrument --`` then record an
``EXECLOG_AUTOMATIONS`` function, and the missing runner libraries are reported once, in one line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from sdk_support import Api

REPO = Path(__file__).resolve().parent.parent
# Distributions (and their import packages) that only the "runners" extra brings.
RUNNER_PREFIXES = ("celery", "kombu", "billiard", "langchain", "langgraph", "langsmith", "openai",
                   "opentelemetry_instrumentation_genai", "execlog_otel", "__editable__")


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fresh")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    # The base dependencies, without the runner libraries: a directory of links to this environment's
    # site-packages entries, added to the new environment as a site directory.
    deps = root / "deps"
    deps.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        if entry.name.lower().replace("-", "_").startswith(RUNNER_PREFIXES):
            continue
        (deps / entry.name).symlink_to(entry)
    new_site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig;"
                                    "print(sysconfig.get_paths()['purelib'])"], check=True, capture_output=True,
                                   text=True).stdout.strip())
    (new_site / "base_deps.pth").write_text(f"import site; site.addsitedir({str(deps)!r})\n")
    subprocess.run([str(Path(sys.executable).parent / "pip"), "--python", str(venv / "bin" / "python"), "install",
                    "-q", "--no-deps", "-e", str(REPO)], check=True, capture_output=True, timeout=600)
    return venv


def _env(venv: Path, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EXECLOG_", "OTEL_", "PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(tmp_path)
    env.update(extra)
    return env


@pytest.mark.slow
def test_fresh_install_lacks_the_runner_libraries(fresh_env):
    probe = subprocess.run([str(fresh_env / "bin" / "python"), "-c", textwrap.dedent("""
        import importlib.metadata as md, importlib.util as u
        for name in ("celery", "langchain_core", "openai"):
            assert u.find_spec(name) is None, name
        print(md.distribution("execlog-otel").metadata.get_all("Provides-Extra"))
        print(sorted(e.name for e in md.entry_points(group="opentelemetry_instrumentor")))
    """)], capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    extras, instrumentors = probe.stdout.splitlines()
    assert "instruments" not in extras
    assert "execlog_callables" in instrumentors


def test_opentelemetry_instrument_records_a_plain_function_without_runner_libraries(fresh_env, server, tmp_path):
    (tmp_path / "freshjobs.py").write_text("def nightly(total):\n    return total * 2\n")
    app = tmp_path / "fresh_app.py"
    app.write_text("import freshjobs\nprint(freshjobs.nightly(21))\n")
    env = _env(fresh_env, tmp_path, OTEL_PYTHON_DISTRO="execlog", EXECLOG_ENDPOINT=server.url,
               EXECLOG_AUTOMATIONS="freshjobs:nightly", EXECLOG_FLUSH_INTERVAL_MS="100")
    # What the opentelemetry-instrument script runs.
    cmd = [str(fresh_env / "bin" / "python"), "-c",
           "from opentelemetry.instrumentation.auto_instrumentation import run; run()", "python", str(app)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "42"
    item = Api(server.url).wait_status("nightly", "Success")
    assert item["kind"] == "automation"
    reports = [line for line in proc.stderr.splitlines() if "not installed" in line]
    assert len(reports) == 1, proc.stderr
    assert "Celery tasks (needs celery" in reports[0] and "OpenAI client calls" in reports[0]


def test_execlog_instrument_records_a_plain_function_without_runner_libraries(fresh_env, server, tmp_path):
    (tmp_path / "freshwrap.py").write_text("def weekly(n):\n    return n + 1\n")
    app = tmp_path / "fresh_wrapped.py"
    app.write_text("import freshwrap\nprint(freshwrap.weekly(1))\n")
    env = _env(fresh_env, tmp_path, EXECLOG_FLUSH_INTERVAL_MS="100")
    proc = subprocess.run([str(fresh_env / "bin" / "execlog"), "instrument", "--endpoint", server.url,
                           "--automations", "freshwrap:weekly", "--", "python", str(app)],
                          env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "2"
    assert Api(server.url).wait_status("weekly", "Success")["kind"] == "automation"
