"""Helpers of the SDK and instrumentation tests: reading /api/executions of a running server."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


def wait_for(read, what: str, timeout: float = 20.0, accept=bool):
    """``read()`` again until ``accept`` takes what it returned (by default: anything truthy), which is
    returned; on timeout the error shows the last value read."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = read()
        if accept(last):
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


class Api:
    def __init__(self, url: str):
        self.url = url

    def list(self, **params) -> list[dict]:
        return get_json(f"{self.url}/api/executions?{urllib.parse.urlencode(params)}")["items"]

    def by_name(self, name: str, **params) -> dict | None:
        items = self.list(name=name, **params)
        return items[0] if items else None

    def wait_until(self, name: str, condition, what: str, timeout: float = 20.0) -> dict:
        """The newest execution named ``name`` once ``condition`` holds for it; on timeout the error shows the
        last one listed, so a failure says what the listing answered instead."""
        return wait_for(lambda: self.by_name(name), what, timeout, accept=lambda i: bool(i) and condition(i))

    def wait_status(self, name: str, status: str) -> dict:
        return self.wait_until(name, lambda i: i["status"] == status, f"{name} to be {status}")

    def detail(self, execution_id: str) -> dict:
        return get_json(f"{self.url}/api/executions/{execution_id}")
