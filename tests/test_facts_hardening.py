"""Facts that one client's attributes cannot poison for everyone.

- An attempt limit or payload size in digits int() refuses (``"²"``) is no number, not a 500.
"""

from __future__ import annotations

from execlog_otel import semconv as sc
from execlog_otel.store import records


def test_an_attempt_limit_in_digits_int_refuses_is_no_limit():
    """str.isdigit() takes "²", int() does not: a retried execution carrying execlog.max_attempts="²" made
    /api/executions answer 500 for everyone who listed it."""
    assert [records.positive_int(v) for v in ("3", "0", "²", "٣", "-1", "", None, "9" * 5000)] == \
        [3, None, None, None, None, None, None, None]
    capped = {sc.INPUT: '"abc"', sc.INPUT + sc.TRUNCATED_SUFFIX: "true"}
    assert records.payload({**capped, sc.INPUT + sc.ORIGINAL_SIZE_SUFFIX: "²"}, sc.INPUT).original_size is None
    assert records.payload({**capped, sc.INPUT + sc.ORIGINAL_SIZE_SUFFIX: "12"}, sc.INPUT).original_size == 12
