"""File names for replay files, and the Zip of several (one ``.py`` per execution)."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from typing import Any

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")


def replay_filename(execution: dict[str, Any]) -> str:
    """``<name>_<YYYYmmdd_HHMMSS>.py``: the execution's name and start time, safe on every file system."""
    name = _UNSAFE.sub("_", str(execution.get("name") or "")).strip("_")[:60] or "execution"
    if name[0].isdigit():
        name = "execution_" + name
    stamp = ""
    started = execution.get("started_at")
    if started:
        try:
            stamp = datetime.fromisoformat(str(started).replace("Z", "+00:00")).strftime("%Y%m%d_%H%M%S")
        except ValueError:
            stamp = ""
    if not stamp:
        stamp = str(execution.get("id", ""))[:8]
    return f"{name}_{stamp}.py"


def replay_zip(files: list[tuple[dict[str, Any], str]]) -> bytes:
    """A Zip of (execution, file text) pairs; names that collide get the execution id's first characters."""
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for execution, text in files:
            name = replay_filename(execution)
            if name in used:
                name = f"{name[:-3]}_{str(execution.get('id', ''))[:12]}.py"
            counter = 2
            while name in used:
                name = f"{name[:-3]}_{counter}.py"
                counter += 1
            used.add(name)
            info = zipfile.ZipInfo(name, date_time=_zip_time(execution))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, text.encode("utf-8", "replace"))
    return buffer.getvalue()


def _zip_time(execution: dict[str, Any]) -> tuple[int, int, int, int, int, int]:
    try:
        dt = datetime.fromisoformat(str(execution.get("started_at")).replace("Z", "+00:00"))
        if dt.year >= 1980:
            return (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second)
    except ValueError:
        pass
    return (1980, 1, 1, 0, 0, 0)
