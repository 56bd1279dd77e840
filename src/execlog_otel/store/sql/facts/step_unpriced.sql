-- An execlog_llm_usage row (one step) that counted tokens of a model without a price: it has "no price".
{fact.has_tokens} AND PricedAs = ''
