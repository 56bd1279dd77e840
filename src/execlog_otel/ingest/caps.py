"""Attribute caps at the receiver: a sender that is not our SDK (which caps payloads itself) cannot
store values that no page could show.

A value longer than ``EXECLOG_MAX_ATTRIBUTE_BYTES`` is cut at that many bytes (on a character
boundary) and marked like the SDK marks its capped payloads: ``<key>.truncated = true`` and
``<key>.original_size = <bytes>``.
"""

from __future__ import annotations

from typing import Any

from execlog_otel import semconv as sc
from execlog_otel.store.rows import COLUMNS

# Columns holding one attribute map per span, and those holding a list of maps (events, links).
_MAP_COLUMNS = (COLUMNS.index("ResourceAttributes"), COLUMNS.index("SpanAttributes"))
_MAP_LIST_COLUMNS = (COLUMNS.index("Events.Attributes"), COLUMNS.index("Links.Attributes"))


def cap_map(attributes: dict[str, str], cap: int) -> int:
    """Cap the values of one attribute map in place; returns how many were cut."""
    cut = 0
    for key, value in list(attributes.items()):
        if len(value) * 4 <= cap:  # at most 4 bytes per character: surely under the cap
            continue
        raw = value.encode("utf-8", errors="surrogatepass")
        if len(raw) <= cap:
            continue
        attributes[key] = raw[:cap].decode("utf-8", errors="ignore")
        attributes[key + sc.TRUNCATED_SUFFIX] = "true"
        attributes[key + sc.ORIGINAL_SIZE_SUFFIX] = str(len(raw))
        cut += 1
    return cut


def cap_columns(columns: list[list[Any]], cap: int) -> int:
    """Cap every attribute value of decoded spans (``rows.COLUMNS`` order); returns how many were cut."""
    if cap <= 0:
        return 0
    cut = 0
    for index in _MAP_COLUMNS:
        for attributes in columns[index]:
            if attributes:
                cut += cap_map(attributes, cap)
    for index in _MAP_LIST_COLUMNS:
        for maps in columns[index]:
            for attributes in maps:
                if attributes:
                    cut += cap_map(attributes, cap)
    return cut
