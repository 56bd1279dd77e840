"""Span rows -> an Arrow stream, the encoding the log's writer inserts ``otel_traces`` with.

clickhouse-connect's insert serialises every value into ClickHouse's Native format in Python: about
12 µs per span, holding the interpreter lock, which was the largest cost of ``execlog serve``'s ingest.
Here the column lists (``rows.SpanColumns.columns``) are converted by Arrow's C++ (a few µs per span,
maps included) and ClickHouse parses the Arrow stream itself (``INSERT ... FORMAT ArrowStream``), without
the lock. The conversion runs in slices of ``SLICE_ROWS`` rows, so the lock is handed to request threads
between slices (one conversion call keeps it until it returns). A request's spans share one resource map
object: each distinct one is converted once and repeated by Arrow (``take``), not once per span. The same
bytes suit the embedded engine and a ClickHouse server.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from execlog_otel.store.rows import COLUMNS

SLICE_ROWS = 1024  # about 4 ms of conversion: request threads wait at most that long for the lock
_STR, _TS = pa.string(), pa.timestamp("ns")  # DateTime64(9): nanoseconds since the epoch, UTC
_MAP = pa.map_(pa.string(), pa.string())  # Map(LowCardinality(String), String)
_TYPES: dict[str, pa.DataType] = {
    "Timestamp": _TS, "ResourceAttributes": _MAP, "SpanAttributes": _MAP, "Duration": pa.uint64(),
    "Events.Timestamp": pa.list_(_TS), "Events.Name": pa.list_(_STR), "Events.Attributes": pa.list_(_MAP),
    "Links.TraceId": pa.list_(_STR), "Links.SpanId": pa.list_(_STR), "Links.TraceState": pa.list_(_STR),
    "Links.Attributes": pa.list_(_MAP),
}
SCHEMA = pa.schema([(name, _TYPES.get(name, _STR)) for name in COLUMNS])
FORMAT = "ArrowStream"
_RESOURCE = COLUMNS.index("ResourceAttributes")


def _shared_maps(maps: list[dict[str, str]]) -> pa.Array:
    """A map column whose rows mostly repeat a few dict objects (the resource of each request). The objects
    are alive in ``maps`` throughout, so their ids are distinct."""
    first: dict[int, int] = {}  # id of a map -> its place in ``distinct``
    distinct: list[dict[str, str]] = []
    positions: list[int] = []
    for m in maps:
        at = first.get(id(m))
        if at is None:
            at = first[id(m)] = len(distinct)
            distinct.append(m)
        positions.append(at)
    if len(distinct) * 2 > len(maps):  # hardly shared: the plain conversion is cheaper
        return pa.array(maps, type=_MAP)
    return pa.array(distinct, type=_MAP).take(pa.array(positions, type=pa.int32()))


def encode(columns: list[list[Any]]) -> bytes:
    """An Arrow stream of span rows given column-oriented in ``rows.COLUMNS`` order.

    Values Arrow cannot take (a number out of range, text that is not Unicode) raise ``pyarrow.ArrowInvalid``
    (a ValueError), ``ArrowTypeError`` (a TypeError), OverflowError or UnicodeError: the rows are at fault."""
    rows = len(columns[0]) if columns else 0
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, SCHEMA) as writer:
        for lo in range(0, rows, SLICE_ROWS):
            hi = min(rows, lo + SLICE_ROWS)
            arrays = [_shared_maps(col[lo:hi]) if i == _RESOURCE else pa.array(col[lo:hi], type=field.type)
                      for i, (col, field) in enumerate(zip(columns, SCHEMA, strict=True))]
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=SCHEMA))
    return sink.getvalue().to_pybytes()
