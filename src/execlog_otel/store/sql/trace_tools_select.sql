-- The tools and connectors each attempt (trace) used, one row per facet ('tool', 'connector') and name, from its
-- rollup rows as they arrive (whose Tools and Connectors follow facts/step_tool.sql and facts/step_connector.sql,
-- rollups_select.sql): what Insights' most used tools and connectors count (insights/tool_runs.sql).
SELECT f.1 AS Facet, f.2 AS Value, cityHash64(TraceId) AS Trace, min(Start) AS Start, now() AS Inserted
FROM {database}.execlog_trace_rollups
ARRAY JOIN arrayConcat(arrayMap(t -> ('tool', t), Tools), arrayMap(c -> ('connector', c), Connectors)) AS f
GROUP BY Facet, Value, Trace
