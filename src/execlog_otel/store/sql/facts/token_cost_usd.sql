-- USD of a usage row's tokens at its price Price (Prices[PriceIndex]: Model, input, output, cache read, cache
-- write, reasoning per million): each kind at its own rate (the input or output rate when the model has none
-- for cache or reasoning tokens), never twice.
(UncachedInputTokens * Price.2
 + CacheReadTokens * coalesce(Price.4, Price.2)
 + CacheWriteTokens * coalesce(Price.5, Price.2)
 + VisibleOutputTokens * Price.3
 + ReasoningTokens * coalesce(Price.6, Price.3)) / 1000000
