-- One row per span that used a model or reported a cost, priced (llm_usage_rows.sql): what execlog_llm_usage holds.
SELECT Start, TraceId, SpanId, Model, InputTokens, OutputTokens, CacheReadTokens, CacheWriteTokens,
       ReasoningTokens, ReportedCostUsd, PricedAs, TokenCostUsd
FROM ({llm_usage_rows})
