"""Signing and the retry policy as pure functions (no store, no network).

Reference document "Retry Execution for Failed Automation" mapping (the rest is in the other
tests/test_retry*.py files):
- Limitation 1 (Response connector → no retry): test_response_connector_execution_is_not_retryable
- Limitation 2 (the Retry affordance disappears at the limit): test_limit_is_three_attempts_in_all
- Use Case 4 (success on the first attempt → Success, nothing to retry): test_success_is_not_retried
"""

from __future__ import annotations

import time

import pytest

from execlog_otel.retry import policy, signing
from execlog_otel.retry.policy import RetryCandidate

SECRET = "s3cret"
BODY = b'{"execution_id":"x"}'


def verifier() -> signing.Verifier:
    return signing.Verifier(SECRET, signing.NonceCache())


def test_signed_request_verifies_once_and_then_is_a_replay():
    headers = signing.sign(SECRET, BODY)
    v = verifier()
    v.verify(headers, BODY)
    with pytest.raises(signing.SignatureError) as exc:
        v.verify(headers, BODY)
    assert exc.value.code == "replayed"


@pytest.mark.parametrize("tamper", ["body", "secret", "timestamp", "signature", "missing"])
def test_any_change_breaks_the_signature(tamper):
    headers = signing.sign(SECRET, BODY)
    body = BODY
    if tamper == "body":
        body = BODY.replace(b"x", b"y")
    elif tamper == "secret":
        headers = signing.sign("other secret", BODY)
    elif tamper == "timestamp":
        headers[signing.TIMESTAMP_HEADER] = str(int(headers[signing.TIMESTAMP_HEADER]) - 1)
    elif tamper == "signature":
        headers[signing.SIGNATURE_HEADER] = "sha256=" + "0" * 64
    else:
        del headers[signing.SIGNATURE_HEADER]
    with pytest.raises(signing.SignatureError) as exc:
        verifier().verify(headers, body)
    assert exc.value.code == "bad_signature"


@pytest.mark.parametrize("skew", [-301, 301, -3600])
def test_stale_or_future_timestamps_are_rejected(skew):
    now = time.time()
    headers = signing.sign(SECRET, BODY, now=now + skew)
    with pytest.raises(signing.SignatureError) as exc:
        verifier().verify(headers, BODY, now=now)
    assert exc.value.code == "stale"
    assert "stale" in str(exc.value)
    verifier().verify(signing.sign(SECRET, BODY, now=now - 299), BODY, now=now)  # within 5 minutes: fine


def test_nonce_cache_forgets_after_the_window_and_stays_bounded():
    cache = signing.NonceCache(ttl_s=10, max_entries=3)
    assert cache.add("a", 0) and not cache.add("a", 5)
    assert cache.add("a", 20)  # forgotten: a request that old is stale anyway
    for n in "bcd":
        cache.add(n, 21)
    assert len(cache._seen) == 3


def test_signing_without_a_secret_says_what_to_set():
    with pytest.raises(ValueError, match="EXECLOG_RETRY_SECRET"):
        signing.sign("", BODY)


def candidate(**kw) -> RetryCandidate:
    base = dict(execution_id="a" * 32, name="sync", status="Failed", attempts_used=1,
                retry_url="http://127.0.0.1:1/execlog/retry", trigger_payload={"x": 1}, trigger_fingerprint="f")
    base.update(kw)
    return RetryCandidate(**base)


def test_first_failure_offers_two_retries():
    d = policy.decide(candidate(), 3)
    assert (d.retryable, d.code, d.next_attempt, d.attempts_left, d.max_attempts) == (True, "ok", 2, 2, 3)
    assert policy.decide(candidate(status="Rejected"), 3).retryable  # ran past its time budget


def test_limit_is_three_attempts_in_all():
    """Limitation 2: after the first run and 2 retries the Retry affordance is gone; a new execution is needed."""
    assert policy.decide(candidate(attempts_used=2), 3).attempts_left == 1
    d = policy.decide(candidate(attempts_used=3), 3)
    assert (d.retryable, d.code, d.attempts_left) == (False, policy.LIMIT_REACHED, 0)
    assert "Retry limit reached" in d.reason and "Start a new execution" in d.reason
    assert policy.decide(candidate(attempts_used=3), 5).retryable  # configurable
    assert not policy.decide(candidate(attempts_used=2, recorded_max_attempts=2), 5).retryable  # runner's own limit


def test_success_is_not_retried():
    """Use Case 4: an automation that succeeds on the first attempt shows Success and offers no retry."""
    d = policy.decide(candidate(status="Success"), 3)
    assert (d.retryable, d.code) == (False, policy.NOT_FAILED)
    assert "this one is Success" in d.reason


def test_response_connector_execution_is_not_retryable():
    """Limitation 1: an automation with a Response connector cannot be retried, and says why."""
    d = policy.decide(candidate(has_response_step=True), 3)
    assert (d.retryable, d.code) == (False, policy.NOT_RETRYABLE)
    assert "Response connector" in d.reason
    d = policy.decide(candidate(retryable=False, not_retryable_reason="charges a card"), 3)
    assert (d.code, d.reason) == (policy.NOT_RETRYABLE, "This execution cannot be retried: charges a card")


@pytest.mark.parametrize("kw,code", [
    ({"status": "Running"}, policy.IN_PROGRESS),
    ({"status": "Paused"}, policy.IN_PROGRESS),
    ({"status": "Partially Executed"}, policy.NOT_FAILED),
    ({"retry_url": ""}, policy.NO_LISTENER),
    ({"trigger_payload_truncated": True}, policy.PAYLOAD_TRUNCATED),
    ({"trigger_payload": {"user": "ann", "auth": {"api_key": "***"}}}, policy.PAYLOAD_REDACTED),
])
def test_other_refusals_have_their_own_code(kw, code):
    d = policy.decide(candidate(**kw), 3)
    assert (d.retryable, d.code) == (False, code)
    assert d.reason


def test_an_accepted_attempt_not_yet_in_the_store_blocks_another():
    d = policy.decide(candidate(), 3, pending_attempt=2)
    assert (d.retryable, d.code) == (False, policy.ALREADY_STARTED)
    assert policy.decide(candidate(attempts_used=2, status="Failed"), 3, pending_attempt=2).retryable


def test_unknown_execution():
    d = policy.decide(None, 3, execution_id="b" * 32)
    assert (d.retryable, d.code) == (False, policy.NOT_FOUND)


def test_mask_constant_matches_the_sdk():
    from execlog_otel.sdk.payloads import MASK

    assert policy.MASK == MASK
