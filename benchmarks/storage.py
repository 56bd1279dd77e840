"""Bytes on disk per span: ``system.parts`` of ``otel_traces`` alone and of every table of the store."""

from __future__ import annotations

from typing import Any


def bytes_per_span(client: Any, database: str, spans: int) -> dict[str, Any]:
    rows = client.query(
        "SELECT table, sum(bytes_on_disk), sum(data_compressed_bytes), sum(data_uncompressed_bytes), sum(rows), "
        "count() FROM system.parts WHERE database = {db:String} AND active GROUP BY table ORDER BY table",
        parameters={"db": database}).result_rows
    tables = {t: {"bytes_on_disk": int(b), "compressed": int(c), "uncompressed": int(u), "rows": int(r),
                  "parts": int(p)} for t, b, c, u, r, p in rows}
    spans_bytes = tables.get("otel_traces", {}).get("bytes_on_disk", 0)
    total = sum(t["bytes_on_disk"] for t in tables.values())
    return {"spans": spans, "otel_traces_bytes_per_span": spans_bytes / spans if spans else 0.0,
            "total_bytes_per_span": total / spans if spans else 0.0, "tables": tables}
