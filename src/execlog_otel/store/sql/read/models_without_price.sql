-- Models seen in the store whose LLM spans have no price (execlog prices): add them to
-- EXECLOG_PRICES_FILE and their past executions get a cost too.
SELECT Model, count() AS Spans, sum(InputTokens) AS InputTokens, sum(OutputTokens) AS OutputTokens,
       max(Start) AS LastSeen
FROM execlog_llm_costs
WHERE Unpriced
GROUP BY Model
ORDER BY Spans DESC
