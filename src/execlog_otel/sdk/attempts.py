"""Which attempt of which execution the next execution root is.

The retry listener runs an automation inside ``attempt_of(...)``; the root span
created in that context records ``execlog.retry_of``, ``execlog.attempt`` and
``execlog.execution.start_time_unix_nano`` (the first attempt's start) and a
span link to the first attempt, so the execution stays one row in the listing. With a retry
secret (``proof_secret`` or the process's ``EXECLOG_RETRY_SECRET``) it also records
``execlog.retry.proof``, without which the viewer treats the claim as forged (``retry.proof``).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class AttemptContext:
    execution_id: str  # trace id of the first attempt (32 hex)
    attempt: int  # 2, 3, ...
    execution_start_ns: int  # start of the first attempt
    first_root_span_id: str = ""  # span id of the first attempt's root, for the span link
    # The retry secret proving the claim (retry.proof); empty: the process's EXECLOG_RETRY_SECRET, if any
    proof_secret: str = ""


_current: contextvars.ContextVar[AttemptContext | None] = contextvars.ContextVar("execlog_attempt", default=None)


def current_attempt() -> AttemptContext | None:
    return _current.get()


@contextmanager
def attempt_of(execution_id: str, attempt: int, execution_start_ns: int,
               first_root_span_id: str = "", proof_secret: str = "") -> Iterator[AttemptContext]:
    ctx = AttemptContext(execution_id, attempt, execution_start_ns, first_root_span_id, proof_secret)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
