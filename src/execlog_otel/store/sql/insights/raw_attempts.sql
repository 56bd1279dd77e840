-- named_usage.sql's attempts when the summary serves most of the range: only those of the LLM steps read
-- from execlog_llm_usage (execlog_attempts is ordered by trace, so a few thousand ids read a few granules).
AND TraceId IN (SELECT TraceId FROM raw)
