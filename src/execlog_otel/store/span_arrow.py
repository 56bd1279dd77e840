"""Span rows -> an Arrow stream: how spans are kept in the write-ahead log and inserted into ``otel_traces``.

clickhouse-connect's insert serialises every value into ClickHouse's Native format in Python: about
12 µs per span, holding the interpreter lock, which was the largest cost of ``execlog serve``'s ingest.
Here the column lists (``rows.SpanColumns.columns``) are converted by Arrow's C++ (a few µs per span,
maps included) and ClickHouse parses the Arrow stream itself (``INSERT ... FORMAT ArrowStream``), without
the lock. The conversion runs in slices of ``SLICE_ROWS`` rows, so the lock is handed to request threads
between slices (one conversion call keeps it until it returns). A request's spans share one resource map
object: each distinct one is converted once and repeated by Arrow (``take``), not once per span. The same
bytes suit the embedded engine and a ClickHouse server.

Each batch of spans is encoded once: a protobuf request by the log's converter right after it is
acknowledged (``ingest.acceptance``), an OTLP JSON request or a direct exporter's batch before (``ingest.wal``
keeps the stream as the record's payload); the log's writer reads them without copying (``read``) and joins a
batch's streams into one insert (``join``), so the writer thread does no per-span Python work. ``to_columns``
turns a stream back into Python values (the dead-letter file, recovery checks).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.ipc

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


def warm_up() -> None:
    """Encode, read and join a slice of made-up spans once. Arrow sets itself up on first use (its compute
    functions, which ``take`` calls, its conversions, and its allocator's first large blocks): measured in a
    fresh process, the first 512 real spans took 326 ms to encode and the next 3 ms; warmed with two spans,
    still 59 ms; with a slice like this one, 2 ms. A server that did this on its first request kept that
    request's acknowledgement (and those queued behind it for the interpreter lock) waiting."""
    n = SLICE_ROWS
    resource = {"service.name": "warm-up"}
    attributes = {f"attribute.{i}": "x" * 100 for i in range(10)}
    sample = {"ResourceAttributes": [resource] * n, "SpanAttributes": [attributes] * n, "Duration": [1] * n,
              "Timestamp": [1] * n, "Events.Timestamp": [[1]] * n, "Events.Attributes": [[attributes]] * n}
    columns = [sample.get(name, [[]] * n if pa.types.is_list(field.type) else ["x" * 32] * n)
               for name, field in zip(COLUMNS, SCHEMA, strict=True)]
    join([read(encode(columns))])


def read(data: bytes | memoryview) -> pa.Table:
    """The spans of a stream made by ``encode``, without copying them; ValueError when it is not one."""
    try:
        table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
    except (pa.ArrowException, OSError) as exc:  # a short stream is an OSError ("expected to read N bytes")
        raise ValueError(f"not an Arrow stream of spans: {exc}") from None
    if not table.schema.equals(SCHEMA):
        raise ValueError("an Arrow stream of other columns than the spans'")
    return table


def join(tables: list[pa.Table]) -> bytes:
    """One stream of the rows of ``tables`` (each read by ``read`` or a slice of one), for one insert."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, SCHEMA) as writer:
        for table in tables:
            writer.write_table(table)
    return sink.getvalue().to_pybytes()


def to_columns(table: pa.Table) -> list[list[Any]]:
    """The rows of ``table`` as ``rows.COLUMNS`` lists again: timestamps in nanoseconds, maps as dicts."""
    out: list[list[Any]] = []
    for column, field in zip(table.columns, SCHEMA, strict=True):
        kind = field.type
        inner = kind.value_type if pa.types.is_list(kind) else kind
        if pa.types.is_timestamp(inner):
            column = column.cast(pa.list_(pa.int64()) if pa.types.is_list(kind) else pa.int64())
        values = column.to_pylist()
        if pa.types.is_map(kind):
            values = [dict(v) for v in values]
        elif pa.types.is_map(inner):
            values = [[dict(m) for m in v] for v in values]
        out.append(values)
    return out
