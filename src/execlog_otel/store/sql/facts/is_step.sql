-- A span that is a step: not the root of its trace, not a live-state marker.
ParentSpanId != '' AND SpanAttributes[{attr.MARKER}] = ''
