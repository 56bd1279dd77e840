"""Compare two executions (or two attempts of one): their steps aligned by name and position, each
pair's status, duration and tokens with the change, a JSON diff of inputs and outputs, and the first
divergence. Works on the detail JSON the API serves (``presenters.detail``), so the page and the
``/api/compare`` answer are computed once, on the server."""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Any

import orjson

JSON = dict[str, Any]
MAX_DIFFS = 200  # per payload: a diff stays readable and the answer bounded


def _side_only(path: str, a: Any, b: Any, out: list[JSON]) -> None:
    out.append({"path": path, "change": "removed" if b is _MISSING else "added",
                "a": None if a is _MISSING else a, "b": None if b is _MISSING else b})


_MISSING = object()


def _same(a: Any, b: Any) -> bool:
    """Equal, types included all the way down (1 is not true nor 1.0), compared in C: a retry's steps mostly
    have the same payloads, and walking each of them in Python is most of a compare's time."""
    if type(a) is not type(b) or a != b:
        return False
    if not isinstance(a, dict | list):
        return True
    try:
        return orjson.dumps(a) == orjson.dumps(b)
    except TypeError:  # an integer past 64 bits: walk it
        return False


def json_diff(a: Any, b: Any, path: str = "$", out: list[JSON] | None = None) -> list[JSON]:
    """The paths where ``a`` and ``b`` differ: ``{"path", "change": added|removed|changed, "a", "b"}``."""
    out = [] if out is None else out
    if len(out) >= MAX_DIFFS or _same(a, b):
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        keys = list(a) + [k for k in b if k not in a]
        children = [(f"{path}.{k}", a.get(k, _MISSING), b.get(k, _MISSING)) for k in keys]
    elif isinstance(a, list) and isinstance(b, list):
        children = [(f"{path}[{i}]", a[i] if i < len(a) else _MISSING, b[i] if i < len(b) else _MISSING)
                    for i in range(max(len(a), len(b)))]
    else:
        if a != b or type(a) is not type(b):
            out.append({"path": path, "change": "changed", "a": a, "b": b})
        return out
    for sub, x, y in children:
        if x is _MISSING or y is _MISSING:
            _side_only(sub, x, y, out)
        else:
            json_diff(x, y, sub, out)
    return out[:MAX_DIFFS]


def _value(payload: JSON | None) -> Any:
    return None if not payload else payload.get("value")


def _side(step: JSON | None) -> JSON | None:
    if step is None:
        return None
    return {"span_id": step["span_id"], "status": step["status"], "duration_ms": step["duration_ms"],
            "total_tokens": step.get("total_tokens") or 0, "cost_usd": step.get("cost_usd"),
            "error": step.get("error") or ""}


def _delta(a: JSON | None, b: JSON | None, key: str) -> float | None:
    if a is None or b is None:
        return None
    return round((b[key] or 0) - (a[key] or 0), 6)


def _cost_delta(a: float | None, b: float | None) -> float | None:
    """b's cost minus a's (USD), None unless both have one (a step or run without a price has none)."""
    return None if a is None or b is None else round(b - a, 10)


def pair(a: JSON | None, b: JSON | None) -> JSON:
    """One aligned row: both sides, the changes, and whether the row differs."""
    input_diff = json_diff(_value(a and a.get("input")), _value(b and b.get("input"))) if a and b else []
    output_diff = json_diff(_value(a and a.get("output")), _value(b and b.get("output"))) if a and b else []
    status_changed = a is None or b is None or a["status"] != b["status"]
    return {"name": (a or b)["name"], "depth": (a or b).get("depth", 0), "a": _side(a), "b": _side(b),
            "status_changed": status_changed, "duration_ms_change": _delta(_side(a), _side(b), "duration_ms"),
            "tokens_change": _delta(_side(a), _side(b), "total_tokens"),
            "cost_usd_change": _cost_delta(a.get("cost_usd"), b.get("cost_usd")) if a and b else None,
            "input_diff": input_diff,
            "output_diff": output_diff, "differs": status_changed or bool(input_diff or output_diff)}


def align(steps_a: list[JSON], steps_b: list[JSON]) -> list[JSON]:
    """Steps paired by name in order (a step only one side has gets an empty other side)."""
    names_a = [s["name"] for s in steps_a]
    names_b = [s["name"] for s in steps_b]
    if names_a == names_b:  # the usual retry: the same steps in the same order, nothing to search for
        return [pair(a, b) for a, b in zip(steps_a, steps_b, strict=True)]
    rows: list[JSON] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(a=names_a, b=names_b, autojunk=False).get_opcodes():
        if op == "equal":
            rows.extend(pair(steps_a[i], steps_b[j]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True))
        else:
            rows.extend(pair(steps_a[i], None) for i in range(i1, i2))
            rows.extend(pair(None, steps_b[j]) for j in range(j1, j2))
    return rows


def _summary(d: JSON) -> JSON:
    return {"id": d["id"], "trace_id": d["trace_id"], "name": d["name"], "kind": d["kind"],
            "attempt": d.get("shown_attempt") or d.get("attempt") or 1, "status": d["status"],
            "started_at": d.get("attempt_started_at") or d["started_at"], "duration_ms": d["duration_ms"],
            "total_tokens": d.get("total_tokens") or 0, "cost_usd": (d.get("attempt_cost") or {}).get("usd"),
            "steps": len(d.get("steps") or []),
            "steps_truncated": bool(d.get("steps_truncated"))}


def compare(a: JSON, b: JSON) -> JSON:
    """The comparison of two execution details (``a`` the baseline, ``b`` the one compared with it)."""
    rows = align(a.get("steps") or [], b.get("steps") or [])
    first = next((i for i, r in enumerate(rows) if r["differs"]), None)
    sa, sb = _summary(a), _summary(b)
    return {
        "a": sa, "b": sb,
        "status_changed": sa["status"] != sb["status"],
        "duration_ms_change": round(sb["duration_ms"] - sa["duration_ms"], 6),
        "tokens_change": sb["total_tokens"] - sa["total_tokens"],
        "cost_usd_change": _cost_delta(sa["cost_usd"], sb["cost_usd"]),
        "input_diff": json_diff(_value(a.get("input")), _value(b.get("input"))),
        "output_diff": json_diff(_value(a.get("output")), _value(b.get("output"))),
        "steps": rows,
        "first_divergence": first,
        "changed_steps": sum(1 for r in rows if r["differs"]),
    }
