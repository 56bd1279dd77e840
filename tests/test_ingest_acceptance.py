"""A protobuf request is checked before its answer and its rows are built afterwards by the log's converter:
the answer, and what is stored, are those of a server that builds the rows before answering."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from google.protobuf.message import Message
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2
from tests.reliability_support import http
from tests.test_ingest_wal import drain, segments, stored_ids

from execlog_otel import semconv as sc
from execlog_otel.ingest import acceptance
from execlog_otel.ingest.acceptance import Acceptance, Converter
from execlog_otel.ingest.wal import HEADER_SIZE, Wal
from execlog_otel.store.rows import MAX_START_NS

INGEST_TOKEN = "ingest-token-of-alpha-0123456789"
NOW = time.time_ns()
DAY = 86_400 * 10**9


def _span(n: int, start_ns: int, end_ns: int, attributes: dict[str, str], trace: bytes | None = None,
          events: tuple[int, ...] = ()) -> trace_pb2.Span:
    span = trace_pb2.Span(trace_id=trace or bytes([1]) * 8 + n.to_bytes(8, "big"), span_id=(n + 1).to_bytes(8, "big"),
                          name=f"step-{n}", start_time_unix_nano=start_ns, end_time_unix_nano=end_ns)
    for key, value in attributes.items():
        span.attributes.add(key=key).value.string_value = value
    for t in events:
        span.events.add(time_unix_nano=t, name="event")
    return span


def _request(spans: list[trace_pb2.Span]) -> trace_service_pb2.ExportTraceServiceRequest:
    request = trace_service_pb2.ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name").value.string_value = "acceptance"
    rs.resource.attributes.add(key=sc.RESOURCE_PROJECT).value.string_value = "claimed-project"
    rs.scope_spans.add().spans.extend(spans)
    return request


def _mixed_request() -> Message:
    """Spans to keep (one capped, one with a forged retry claim) and spans to reject for each reason."""
    return _request([
        _span(1, NOW, NOW + 10, {"plain": "value"}),
        _span(2, NOW, NOW + 10, {"payload": "x" * 500}),  # above the cap: cut and marked
        _span(3, NOW, NOW + 10, {sc.RETRY_OF: "ab" * 16, sc.RETRY_PROOF: "forged"}),
        _span(4, NOW - 40 * DAY, NOW - 40 * DAY + 10, {}),  # older than the retention
        _span(5, 2**64 - 1, 2**64 - 1, {}),  # after what the table holds
        _span(6, NOW, NOW - 5, {}),  # ends before it starts
        _span(7, NOW, NOW + 10, {}, trace=bytes(16)),  # zero trace id
        _span(8, NOW, NOW + 10, {}, events=(2**63 + 5,)),  # an event beyond DateTime64(9)
    ])


def _auth_file(tmp_path: Path) -> Path:
    path = tmp_path / "people.toml"
    path.write_text(f'[ingest_tokens.alpha-runners]\ntoken = "{INGEST_TOKEN}"\nproject = "alpha"\n')
    return path


STORED = ("SELECT SpanId, SpanName, SpanAttributes, ResourceAttributes['execlog.project'] FROM {table} "
          "ORDER BY SpanId")


def test_a_kept_request_is_answered_and_stored_as_one_built_before_the_answer(store, ch_client, start_server,
                                                                              tmp_path: Path):
    from tests.conftest import new_store

    other = new_store(ch_client)
    try:
        common = {"auth_file": str(_auth_file(tmp_path)), "retry_secret": "secret-of-this-test",
                  "max_attribute_bytes": 64, "log_linger_ms": 20}
        kept = start_server(spool_dir=str(tmp_path / "log"), **common)
        built = start_server(store=other, spool_max_bytes=0, **common)
        assert kept._sink.keeps_requests and not built._sink.keeps_requests
        body = _mixed_request().SerializeToString()
        headers = {"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {INGEST_TOKEN}"}
        answers = []
        for running in (kept, built):
            status, _, out = http("POST", running.url + "/v1/traces", body, headers)
            assert status == 200, out
            answers.append(trace_service_pb2.ExportTraceServiceResponse.FromString(out).partial_success)
        assert answers[0] == answers[1]
        assert answers[0].rejected_spans == 5
        for reason in ("retention", "2106", "end time is before", "trace id", "event time"):
            assert reason in answers[0].error_message
        # The log kept the request as it arrived (its rows were not built before the answer).
        record = segments(tmp_path / "log")[0].read_bytes()
        assert record[HEADER_SIZE:].startswith(acceptance.PREFIX)
        assert kept._sink.wait_drained(30)
        rows = [s.pool.query(STORED.format(table=s.table("otel_traces"))).result_rows for s in (store, other)]
        assert rows[0] == rows[1]
        by_name = {r[1]: r for r in rows[0]}
        assert sorted(by_name) == ["step-1", "step-2", "step-3"]
        assert {r[3] for r in rows[0]} == {"alpha"}  # the token's project, not the one claimed
        assert by_name["step-2"][2][f"payload{sc.TRUNCATED_SUFFIX}"] == "true"
        assert sc.RETRY_OF not in by_name["step-3"][2]
        assert by_name["step-3"][2][sc.RETRY_OF_UNPROVEN] == "ab" * 16
    finally:
        ch_client.command(f"DROP DATABASE IF EXISTS {other.database} SYNC")


def test_a_kept_request_is_written_after_a_restart_and_one_that_no_longer_decodes_is_lost_alone(
        tmp_path: Path, store, caplog):
    accepted = Acceptance(NOW, retention_days=30)
    requests = [_request([_span(10 * i + k, NOW, NOW + 10, {"k": "v"}) for k in range(3)]) for i in range(3)]
    wal = Wal(tmp_path, max_bytes=10_000_000, convert=Converter())
    for r in requests:
        wal.append_request(accepted, r.SerializeToString(), 3)
    damaged = wal.append_request(accepted, b"\xff\xff\xff not protobuf", 3)
    wal.append_request(accepted, _request([_span(99, NOW, NOW + 10, {})]).SerializeToString(), 1)
    wal.close()
    # Reopened (a restart): nothing was built or written yet; the records are read back from disk.
    wal = Wal(tmp_path, max_bytes=10_000_000, convert=Converter())
    assert wal.pending_rows == 13
    writer = drain(wal, store)
    expected = {(10 * i + k + 1).to_bytes(8, "big").hex() for i in range(3) for k in range(3)} | {
        (100).to_bytes(8, "big").hex()}
    assert stored_ids(store) == expected
    status = wal.status()
    assert (status["damaged_records"], status["lost_spans"]) == (1, 3)
    assert f"bytes {damaged.offset}-{damaged.end}" in caplog.text
    writer.close()
    wal.close()


def test_the_converter_builds_each_cached_request_once_in_order(tmp_path: Path):
    """The log's converter takes cached requests oldest first, each once: a damaged one is not tried again (the
    writer counts its loss), and the queue is not searched from the start each time."""
    built: list[int] = []
    convert = Converter()

    def counting(payload):
        built.append(len(payload))
        return convert(payload)

    wal = Wal(tmp_path, max_bytes=10_000_000, convert=counting)
    accepted = Acceptance(NOW)
    bodies = [_request([_span(k, NOW, NOW + 10, {"n": str(k) * k})]).SerializeToString() for k in range(1, 4)]
    damaged = b"\xff\xff not protobuf"
    records = [wal.append_request(accepted, b, 1) for b in bodies[:2]]
    wal.append_request(accepted, damaged, 1)
    records.append(wal.append_request(accepted, bodies[2], 1))
    for _ in range(10):  # bounded: a converter that retried the damaged request would never stop
        if not wal.convert_next():
            break
    assert built == [len(acceptance.payload(accepted, b)) for b in (*bodies[:2], damaged, bodies[2])]
    assert all(r.request is None and r.data is not None for r in records)
    assert not wal.convert_next() and len(built) == 4
    assert wal.read(records[0]) is records[0].data  # built once, read as built
    assert len(built) == 4
    wal.close()


def test_a_log_without_a_converter_does_not_build_requests_without_the_servers_rules(tmp_path: Path):
    """Only a server's log knows the retry secret that demotes forged claims: no other reader builds the rows."""
    wal = Wal(tmp_path, max_bytes=10_000_000)
    rec = wal.append_request(Acceptance(NOW), _request([_span(1, NOW, NOW + 10, {})]).SerializeToString(), 1)
    with pytest.raises(ValueError, match="only a server's log"):
        wal.read(rec)
    wal.close()


_TIMES = st.one_of(st.integers(0, 2**64 - 1), st.sampled_from([0, NOW, NOW - 31 * DAY, MAX_START_NS,
                                                                 MAX_START_NS + 1, 2**63 - 1, 2**63]))
_IDS = st.one_of(st.binary(min_size=0, max_size=17), st.sampled_from([bytes(16), bytes(8), b""]))


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_IDS, _IDS, _IDS, _TIMES, _TIMES, st.lists(_TIMES, max_size=2)), max_size=8))
def test_the_check_keeps_exactly_the_spans_the_conversion_keeps(spans):
    request = _request([trace_pb2.Span(trace_id=t, span_id=s, parent_span_id=p, name="x", start_time_unix_nano=a,
                                       end_time_unix_nano=b, events=[trace_pb2.Span.Event(time_unix_nano=e)
                                                                     for e in events])
                        for t, s, p, a, b, events in spans])
    accepted = Acceptance(NOW, retention_days=30)
    checked = acceptance.check(request, accepted)
    built = acceptance.columns(request, accepted, "")
    assert (checked.rejected, checked.errors) == (built.rejected, built.errors)
    assert len(built) == len(spans) - checked.rejected
