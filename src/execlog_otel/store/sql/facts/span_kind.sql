-- A span's kind as the Collector's exporter writes it today (Internal, Server, Client, Producer,
-- Consumer, Unspecified), also for rows of its earlier versions, which wrote SPAN_KIND_CLIENT and so on.
if(startsWith(SpanKind, 'SPAN_KIND_'), initcap(lower(substring(SpanKind, 11))), SpanKind)
