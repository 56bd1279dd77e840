"""What ``create_app`` builds for the views, and the one accessor they reach it through.

As in Flask's tutorial (``get_db()``), views never construct a client, a dispatcher or a pool: the
factory builds them once, and ``services()`` hands them out for the current app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from execlog_otel.config import Settings
from execlog_otel.retry.dispatcher import RetryDispatcher
from execlog_otel.store.pool import ClientPool
from execlog_otel.store.repository import Repository
from execlog_otel.store.store import Store

EXTENSION = "execlog"


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store
    reads: Repository  # the read model, bounded by EXECLOG_QUERY_TIMEOUT_S
    retry: RetryDispatcher
    sql: ClientPool  # read-only sessions for /api/sql (opened on its first query)
    retention_days: int  # the TTL in force on the span table when the app was built
    sink: Any = None  # the OTLP receiver's sink, when the app receives spans


def services() -> Services:
    """The current app's services."""
    return current_app.extensions[EXTENSION]
