-- One row per span that used a model or reported a cost (llm_usage_rows.sql): what execlog_llm_usage holds.
SELECT Start, TraceId, SpanId, Model, InputTokens, OutputTokens, CacheReadTokens, CacheWriteTokens,
       ReasoningTokens, ReportedCostUsd
FROM ({llm_usage_rows})
