"""Attribute caps at the receiver: a sender that is not our SDK (which caps payloads itself) cannot
store values that no page could show.

A value longer than ``EXECLOG_MAX_ATTRIBUTE_BYTES`` is cut at that many bytes (on a character
boundary) and marked like the SDK marks its capped payloads: ``<key>.truncated = true`` and
``<key>.original_size = <bytes>``.
"""

from __future__ import annotations

from execlog_otel import semconv as sc
from execlog_otel.store.rows import SpanColumns


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


def cap_columns(columns: SpanColumns, cap: int) -> int:
    """Cap every attribute value of decoded spans; returns how many were cut."""
    if cap <= 0:
        return 0
    cut = 0
    # One map per span (resource maps are shared by a request's spans: each is capped once).
    seen: set[int] = set()
    quick = cap // 4  # at most 4 bytes per character: a map whose longest value is this long is surely under
    for maps in (columns.resource_attributes, columns.span_attributes):
        for attributes in maps:
            if attributes and max(map(len, attributes.values())) > quick and id(attributes) not in seen:
                seen.add(id(attributes))
                cut += cap_map(attributes, cap)
    # A list of maps per span (events, links).
    for lists in (columns.events_attributes, columns.links_attributes):
        for maps in lists:
            for attributes in maps:
                if attributes:
                    cut += cap_map(attributes, cap)
    return cut
