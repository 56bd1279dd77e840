"""What a failed store call means, read from the error code ClickHouse sent (clickhouse-connect puts it on
the exception as ``code``), never from the wording of the message, which changes between releases."""

from __future__ import annotations

from enum import IntEnum

from clickhouse_connect.driver.exceptions import ClickHouseError, OperationalError


class QueryError(ValueError):
    """A request value the store cannot use; the message says which and why (answered with 400)."""


class Code(IntEnum):
    """The ClickHouse error codes execlog answers differently (``system.errors`` lists them all)."""

    UNKNOWN_FUNCTION = 46
    TIMEOUT_EXCEEDED = 159
    TOO_SLOW = 160  # the estimated execution time is past max_execution_time
    READONLY = 164
    QUERY_WAS_CANCELLED = 394


_TIMEOUT_CODES = frozenset({Code.TIMEOUT_EXCEEDED, Code.TOO_SLOW, Code.QUERY_WAS_CANCELLED})


def error_code(exc: BaseException) -> int | None:
    """The ClickHouse error code of ``exc``; None for transport failures and for non-ClickHouse errors."""
    code = getattr(exc, "code", None) if isinstance(exc, ClickHouseError) else None
    return code if isinstance(code, int) else None


def is_timeout(exc: BaseException) -> bool:
    """ClickHouse cancelled the query at its ``max_execution_time``."""
    return error_code(exc) in _TIMEOUT_CODES


def is_readonly_refusal(exc: BaseException) -> bool:
    return error_code(exc) == Code.READONLY


def is_unknown_function(exc: BaseException) -> bool:
    return error_code(exc) == Code.UNKNOWN_FUNCTION


def is_unreachable(exc: BaseException) -> bool:
    """ClickHouse could not be reached at all: the driver's transport failed, so no server code came back."""
    return isinstance(exc, OperationalError) and error_code(exc) is None
