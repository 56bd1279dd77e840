"""Payload encoding (``sdk/payloads.py``): the fast path for plain JSON gives exactly the text
``json.dumps`` gives, and never skips masking a secret-looking key."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from execlog_otel.sdk.payloads import MASK, to_json

SAFE_KEYS = st.sampled_from(["id", "query", "limit", "rows", "total", "currency", "next_page", "elapsed_ms",
                             "input_tokens", "max_tokens", "note", "ÄÖÜ", "k\u212aey", "url"])
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | st.floats()
           | st.text(max_size=12))
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(SAFE_KEYS, inner, max_size=4), max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES)
def test_plain_values_are_encoded_exactly_as_json_dumps_would(value):
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert to_json(value) == expected


def test_spellings_where_fast_encoders_differ_stay_those_of_json_dumps():
    value = {"nan": math.nan, "inf": math.inf, "tiny": 1e-05, "tinier": 2.5e-07, "big": 1e16, "none": None,
             "text": "e-mail 0.00001 null"}
    assert to_json(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert '"nan":NaN' in to_json(value) and '"tiny":1e-05' in to_json(value)


def test_secret_keys_are_masked_however_they_are_spelled_and_nested():
    value = {"X-Api-Key": "k1", "apiKey": "k2", "API_KEY": "k3", "nested": [{"Pass_Word": "p"}],
             "headers": {"authorization": "Bearer x"}, "input_tokens": 12}
    recorded = json.loads(to_json(value))
    assert recorded == {"X-Api-Key": MASK, "apiKey": MASK, "API_KEY": MASK, "nested": [{"Pass_Word": MASK}],
                        "headers": {"authorization": MASK}, "input_tokens": 12}


def test_a_secret_key_spelled_with_a_non_ascii_letter_is_still_masked():
    # KELVIN SIGN lower-cases to an ASCII k: "To\u212aen" is a "token" key.
    assert json.loads(to_json({"To\u212aen": "s3cr3t", "note": "ü"})) == {"To\u212aen": MASK, "note": "ü"}


def test_values_json_cannot_encode_are_recorded_readably_and_masked():
    import dataclasses
    import datetime as dt
    import uuid

    @dataclasses.dataclass
    class Login:
        user: str
        password: str

    value = {"when": dt.datetime(2026, 1, 2, 3, 4, 5), "id": uuid.UUID(int=7), "login": Login("ann", "pw"),
             "tags": {"b", "a"}, 3: "int key"}
    assert json.loads(to_json(value)) == {"when": "2026-01-02T03:04:05", "id": str(uuid.UUID(int=7)),
                                          "login": {"user": "ann", "password": MASK}, "tags": ["a", "b"],
                                          "3": "int key"}
