"""The SDK and the Download Code file encode and mask values with one module (``sdk/loggable.py``):
fed the same values, the payload JSON the SDK logs and the replay file's ``_as_logged`` agree, so a
replay that reproduces a run compares equal to its log."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import inspect
import json
import textwrap
import uuid
from pathlib import PurePosixPath
from typing import Any

import pydantic
import pytest

from execlog_otel.replay.generate import runtime_text
from execlog_otel.sdk import loggable
from execlog_otel.sdk.payloads import to_json
from execlog_otel.sdk.runtime import RUNTIME


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Login:
    user: str
    password: str
    when: dt.date


class Reply(pydantic.BaseModel):
    text: str
    api_key: str


class Opaque:
    def __repr__(self) -> str:
        return "<Opaque " + "x" * 3000 + ">"


def _deep(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"next": value}
    return value


VALUES = [
    {"when": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "day": dt.date(2026, 1, 2), "at": dt.time(7, 8)},
    {"took": dt.timedelta(seconds=90), "price": decimal.Decimal("1.10"), "id": uuid.UUID(int=7)},
    {"path": PurePosixPath("/tmp/x"), "color": Color.RED, "raw": b"caf\xc3\xa9", "blob": b"\xff\x00"},
    {"tags": {3, 1, 2}, "mixed": frozenset({1}), "pair": (1, "a")},
    {"api_key": "sk-1", "X-Api-Key": "sk-2", "apiKey": "", "input_tokens": 12, "token_count": 3,
     "nested": [{"password": "hunter2", "Authorization": "Bearer x", "note": "ok"}]},
    Login("ann", "secret", dt.date(2026, 5, 6)),
    [Reply(text="hi", api_key="k"), Opaque()],
    {"text": "naïve ☃", "n": 1.5, "none": None, "flag": True},
    _deep(40),
]


@pytest.fixture
def replay_runtime() -> dict[str, Any]:
    """The runtime a generated file holds, with the SDK's redact keys in its data section."""
    namespace: dict[str, Any] = {"__name__": "replay_file", "REDACT_KEYS": list(RUNTIME.settings.redact_keys)}
    exec(compile("from __future__ import annotations\n" + runtime_text(), "<replay runtime>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_the_sdk_and_the_replay_file_log_a_value_alike(value, replay_runtime):
    assert RUNTIME.redactor is None
    assert replay_runtime["_as_logged"](value) == json.loads(to_json(value))


def test_secrets_are_masked_in_both():
    logged = json.loads(to_json(VALUES[4]))
    assert logged["api_key"] == logged["X-Api-Key"] == loggable.MASK
    assert logged["input_tokens"] == 12 and logged["nested"][0]["note"] == "ok"


def test_the_replay_file_inlines_the_sdk_module_unchanged():
    assert textwrap.indent(inspect.getsource(loggable), "    ") in runtime_text()
