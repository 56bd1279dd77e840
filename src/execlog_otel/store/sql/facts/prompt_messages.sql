-- The older indexed GenAI form of a span's input messages (gen_ai.prompt.0.role, gen_ai.prompt.0.content,
-- gen_ai.prompt.1.role, ...) as a JSON array of objects, one per index, in index order; '' when absent.
if(NOT arrayExists(k -> startsWith(k, {attr.GEN_AI_PROMPT_PREFIX}), mapKeys(SpanAttributes)), '',
   toJSONString(arrayMap(i -> mapApply((k, v) -> (substring(k, length({attr.GEN_AI_PROMPT_PREFIX}) + length(toString(i)) + 2), v),
                                       mapFilter((k, v) -> startsWith(k, concat({attr.GEN_AI_PROMPT_PREFIX}, toString(i), '.')),
                                                 SpanAttributes)),
                         arraySort(arrayDistinct(arrayMap(k -> toUInt32OrZero(extract(substring(k, length({attr.GEN_AI_PROMPT_PREFIX}) + 1), '^(\\d+)\\.')),
                                                          arrayFilter(k -> startsWith(k, {attr.GEN_AI_PROMPT_PREFIX}), mapKeys(SpanAttributes))))))))
