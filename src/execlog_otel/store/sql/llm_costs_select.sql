-- Cost of every LLM span, computed when read (so a price change applies to past
-- executions too). The one place that matches a model name to a price and that
-- prices tokens; the viewer, `execlog sql`, the dashboards and docs/sql.md all
-- read the view made from it, execlog_llm_costs.
--
-- Matching: the name in lower case without a provider prefix ("openai/",
-- "models/", Bedrock's "anthropic." and "-v1:0") is looked up as is; if the
-- price table has no such name, without its date or version suffix
-- ("-2024-07-18", "-20241022", "@20240620", "-001", "-latest"). So a dated
-- version priced differently can be listed on its own.
--
-- Tokens (GenAI conventions): input tokens include cache reads and cache
-- writes, output tokens include reasoning tokens; each part is priced at its
-- own rate (cache read, cache write, reasoning; the input or output rate when
-- the model has none) and never twice. When a span reports fewer input tokens
-- than cached ones (some SDKs count them apart), its input tokens are taken as
-- the uncached part; likewise for output and reasoning tokens.
-- A span with tokens whose model has no price costs NULL ("no price"), never 0.
SELECT
    u.Start AS Start,
    u.TraceId AS TraceId,
    u.SpanId AS SpanId,
    u.Model AS Model,
    u.InputTokens AS InputTokens,
    u.OutputTokens AS OutputTokens,
    u.CacheReadTokens AS CacheReadTokens,
    u.CacheWriteTokens AS CacheWriteTokens,
    u.ReasoningTokens AS ReasoningTokens,
    toUInt64(u.InputTokens + u.OutputTokens
        + if(u.InputTokens >= u.CacheReadTokens + u.CacheWriteTokens, 0, u.CacheReadTokens + u.CacheWriteTokens)
        + if(u.OutputTokens >= u.ReasoningTokens, 0, u.ReasoningTokens)) AS TotalTokens,
    u.ReportedCostUsd AS ReportedCostUsd,
    p.Model AS PricedAs,
    p.Model != '' AS Priced,
    u.InputTokens + u.OutputTokens + u.CacheReadTokens + u.CacheWriteTokens + u.ReasoningTokens > 0 AS HasTokens,
    HasTokens AND NOT Priced AS Unpriced,
    if(u.InputTokens >= u.CacheReadTokens + u.CacheWriteTokens,
       toUInt64(u.InputTokens - u.CacheReadTokens - u.CacheWriteTokens), u.InputTokens) AS UncachedInputTokens,
    if(u.OutputTokens >= u.ReasoningTokens, toUInt64(u.OutputTokens - u.ReasoningTokens), u.OutputTokens)
        AS VisibleOutputTokens,
    if(Priced, (UncachedInputTokens * p.InputPerM
                + u.CacheReadTokens * coalesce(p.CacheReadPerM, p.InputPerM)
                + u.CacheWriteTokens * coalesce(p.CacheWritePerM, p.InputPerM)
                + VisibleOutputTokens * p.OutputPerM
                + u.ReasoningTokens * coalesce(p.ReasoningPerM, p.OutputPerM)) / 1000000, NULL) AS TokenCostUsd,
    if(Unpriced, NULL, coalesce(TokenCostUsd, 0) + coalesce(u.ReportedCostUsd, 0)) AS CostUsd
FROM (
    SELECT
        *,
        replaceRegexpOne(replaceRegexpOne(replaceRegexpOne(lower(trimBoth(Model)),
            '^.*/', ''),
            '^(?:[a-z]{2}\\.)?(?:anthropic|amazon|meta|cohere|mistral|ai21|deepseek|openai|google)\\.', ''),
            '-v\\d+:\\d+$', '') AS PriceKey,
        replaceRegexpOne(PriceKey,
            '(?:-\\d{4}-\\d{2}-\\d{2}|-\\d{8}|@\\d{8}|-\\d{3,4}|-latest|-preview-\\d{2}-\\d{2}|-preview)$', '')
            AS PriceFamily,
        if(PriceKey IN (SELECT Model FROM {database}.execlog_prices), PriceKey, PriceFamily) AS MatchKey
    FROM {database}.execlog_llm_usage
) AS u
LEFT JOIN {database}.execlog_prices AS p ON u.MatchKey = p.Model
