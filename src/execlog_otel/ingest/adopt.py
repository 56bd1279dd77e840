"""Logs that no process drains any more move into a live one.

A runner whose exporter found the exporter's log in use by another runner keeps its own log in
``exporter-<pid>``; when that runner stops with rows still pending (the store was down, or it was
killed), nothing would ever open that directory again. So every exporter, and ``execlog serve`` over
the embedded store (where runners send to it instead of writing themselves), adopts such logs when it
starts: a log directory whose lock is free (its process is gone) has its pending records appended to
the adopter's log (fsynced), then marked done there and removed. A record that cannot be read back is
skipped with a logged, counted loss, as in the writer. Records of a batch that was being inserted when
that process stopped are flagged so the adopter's writer checks the store before writing their spans.
Dead-letter files stay where they are (the directory is kept for ``execlog dead-letter``). A crash
between the append into the adopter's log and the mark in the adopted one moves those rows again at the
next start (at least once, not exactly once: a window of one fsync).
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

from execlog_otel.ingest import dead_letter as dl
from execlog_otel.ingest.wal import DamagedRecord, Wal, WalError

log = logging.getLogger(__name__)

EXPORTER_LOG = "exporter"


def sibling_logs(base: Path, but: Path | None = None) -> list[Path]:
    """The log directories ``base`` and ``<base>-<pid>`` (what exporters name their logs), except ``but``."""
    pattern = re.compile(re.escape(base.name) + r"(-\d+)?")
    try:
        entries = sorted(base.parent.iterdir())
    except OSError:
        return []
    mine = but.resolve() if but is not None else None
    return [p for p in entries if pattern.fullmatch(p.name) and p.is_dir() and p.resolve() != mine]


def adopt(target: Wal, directory: Path, max_bytes: int) -> int:
    """Move the pending records of the log in ``directory`` into ``target``; how many rows. A log in use by
    a live process is left alone (0)."""
    try:
        source = Wal(directory, max_bytes)
    except WalError:
        return 0  # its process is alive and drains it itself
    moved = 0
    try:
        records = source.head(source.pending_rows or 1) if source.pending_rows else []
        for rec in records:
            try:
                payload = source.read_payload(rec)
            except DamagedRecord as exc:
                source.damaged_records += 1
                log.error("log %s: a record of %d rows cannot be read back (%s); those rows are lost",
                          directory, rec.rows, exc)
                continue
            new = target.append_payload(payload, rec.rows)
            new.maybe_landed = rec.maybe_landed
            moved += rec.rows
        source.mark_done(records)
    finally:
        source.close()
    if moved:
        log.warning("moved %d rows left in the log %s (its process is gone) into %s", moved, directory,
                    target.directory)
    if not (directory / dl.FILE_NAME).exists() and not source.pending_rows:
        shutil.rmtree(directory, ignore_errors=True)
    return moved


def adopt_siblings(target: Wal, base: Path, max_bytes: int) -> int:
    """``adopt`` the logs ``base`` and ``<base>-<pid>`` other than ``target``'s own; how many rows."""
    return sum(adopt(target, d, max_bytes) for d in sibling_logs(base, but=target.directory))
