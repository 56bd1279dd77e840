"""Spans left by an earlier version's outage spool (``seg-*.log`` files) move into the write-ahead log at start.

That spool held batches only while ClickHouse refused inserts: ``EXS1 | length | crc32 | spans | zlib(JSON
{"id", "tried", "columns"})`` records, and ``seg-*.done`` offsets of what was already written. Intact
batches not yet written are appended to the log (a batch whose insert had been tried is checked against
the store first), then the old files are removed; a damaged record is skipped with a logged loss.
"""

from __future__ import annotations

import json
import logging
import re
import struct
import zlib
from pathlib import Path

from execlog_otel.ingest.wal import Wal
from execlog_otel.store.rows import COLUMNS
from execlog_otel.store.store import SPAN_TABLE

log = logging.getLogger(__name__)

_HEADER = struct.Struct(">4sIII")
_NAME = re.compile(r"seg-\d{12}\.log")


def import_legacy(wal: Wal) -> int:
    """Append the pending batches of old spool segments in ``wal``'s directory; how many spans."""
    moved = 0
    for path in sorted(p for p in Path(wal.directory).glob("seg-*.log") if _NAME.fullmatch(p.name)):
        done_path = path.with_suffix(".done")
        try:
            done = int(done_path.read_text() or 0)
        except (OSError, ValueError):
            done = 0
        data = path.read_bytes()
        pos = 0
        while pos + _HEADER.size <= len(data):
            magic, length, crc, spans = _HEADER.unpack_from(data, pos)
            payload = data[pos + _HEADER.size:pos + _HEADER.size + length]
            if magic != b"EXS1" or len(payload) != length or zlib.crc32(payload) != crc:
                log.error("old spool segment %s is damaged at byte %d: the rest of it is lost", path.name, pos)
                break
            start, pos = pos, pos + _HEADER.size + length
            if start < done:
                continue
            try:
                batch = json.loads(zlib.decompress(payload))
                columns = batch["columns"]
                if len(columns) != len(COLUMNS):
                    raise ValueError(f"{len(columns)} columns")
            except (ValueError, KeyError, TypeError, zlib.error) as exc:
                log.error("old spool segment %s: batch at byte %d is unreadable (%s); %d spans lost",
                          path.name, start, exc, spans)
                continue
            rec = wal.append(SPAN_TABLE, COLUMNS, columns, len(columns[0]))
            rec.maybe_landed = bool(batch.get("tried"))
            moved += len(columns[0])
        path.unlink()
        done_path.unlink(missing_ok=True)
    (Path(wal.directory) / "spool.lock").unlink(missing_ok=True)
    if moved:
        log.warning("moved %d spans of the earlier outage spool into the write-ahead log", moved)
    return moved
