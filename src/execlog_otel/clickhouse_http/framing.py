"""How a result goes out: ClickHouse's response headers, content types, compression, and the Native
protocol hello.

The hello: over HTTP, clickhouse-go (the Grafana plugin's driver) first asks
``SELECT displayName(), version(), revision(), timezone()`` with ``client_protocol_version`` set, and
reads every later Native result in the framing of the revision the server reports (block info, a
custom-serialization flag per column). The engine writes Native in the plain framing — revision 0 —
so the endpoint answers the hello itself, in the framing the client asked for, and reports revision 0:
the client then reads the engine's Native bytes as they are.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterable, Iterator

from execlog_otel.clickhouse_http.encoding import compressor

HELLO = re.compile(r"^\s*SELECT\s+displayName\(\),\s*version\(\),\s*revision\(\),\s*timezone\(\)\s*;?\s*$", re.I)
# Revisions from which the Native framing carries block info, and a custom-serialization flag per column.
_REVISION_BLOCK_INFO = 1
_REVISION_CUSTOM_SERIALIZATION = 54454


def content_type(fmt: str) -> str:
    """The Content-Type ClickHouse sends for an output format."""
    f = fmt.lower()
    if f.startswith(("tabseparated", "tsv")):
        return "text/tab-separated-values; charset=UTF-8"
    if f.startswith("csv"):
        return "text/csv; charset=UTF-8; header=" + ("present" if "withnames" in f else "absent")
    if f in ("jsoneachrow", "jsonstringseachrow", "jsoncompacteachrow", "jsoncompactstringseachrow", "ndjson",
             "jsonlines") or "eachrowwith" in f:
        return "application/x-ndjson; charset=UTF-8"
    if f.startswith("json"):
        return "application/json; charset=UTF-8"
    if f.startswith(("pretty", "vertical", "markdown", "values", "tskv", "lineasstring", "xml", "template")):
        return "text/plain; charset=UTF-8"
    return "application/octet-stream"


def headers(fmt: str, query_id: str, timezone: str, display_name: str, summary: dict[str, str],
            encoding: str) -> list[tuple[str, str]]:
    full = {"read_rows": "0", "read_bytes": "0", "written_rows": "0", "written_bytes": "0",
            "total_rows_to_read": "0", "result_rows": "0", "result_bytes": "0", "elapsed_ns": "0", **summary}
    out = [("Content-Type", content_type(fmt)), ("X-ClickHouse-Format", fmt), ("X-ClickHouse-Query-Id", query_id),
           ("X-ClickHouse-Timezone", timezone), ("X-ClickHouse-Server-Display-Name", display_name),
           ("X-ClickHouse-Summary", json.dumps(full, separators=(",", ":")))]
    if encoding:
        out.append(("Content-Encoding", encoding))
    return out


def encoded(chunks: Iterable[bytes | memoryview], encoding: str) -> Iterator[bytes | memoryview]:
    """The chunks compressed for ``encoding`` (as they come, no buffering of the whole result)."""
    if not encoding:
        yield from chunks
        return
    c = compressor(encoding)
    for chunk in chunks:
        out = c.compress(chunk)
        if out:
            yield out
    tail = c.flush()
    if tail:
        yield tail


def is_hello(query: str, protocol: int) -> bool:
    return protocol > 0 and HELLO.match(query) is not None


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(s: str) -> bytes:
    raw = s.encode()
    return _uvarint(len(raw)) + raw


def native_hello(display_name: str, version: str, timezone: str, protocol: int) -> bytes:
    """The hello's one-row Native block in the framing of ``protocol``, reporting revision 0."""
    out = bytearray()
    if protocol >= _REVISION_BLOCK_INFO:
        # field 1: is_overflows = false; field 2: bucket_num = -1; field 0: end
        out += _uvarint(1) + b"\x00" + _uvarint(2) + struct.pack("<i", -1) + _uvarint(0)
    columns = [("displayName()", "String", _string(display_name)), ("version()", "String", _string(version)),
               ("revision()", "UInt32", struct.pack("<I", 0)), ("timezone()", "String", _string(timezone))]
    out += _uvarint(len(columns)) + _uvarint(1)
    for name, type_name, data in columns:
        out += _string(name) + _string(type_name)
        if protocol >= _REVISION_CUSTOM_SERIALIZATION:
            out += b"\x00"  # no custom serialization
        out += data
    return bytes(out)
