-- Where a usage row's Model stands in Prices (facts/prices.sql), 0 for no price: the name in lower case
-- without a provider prefix ("openai/", "models/", Bedrock's "anthropic." and "-v1:0") as is when the price
-- table lists it, else without its date or version suffix ("-2024-07-18", "-20241022", "@20240620", "-001",
-- "-latest"), so a dated version priced differently can be listed on its own.
indexOf(arrayMap(p -> p.1, Prices),
    if(has(arrayMap(p -> p.1, Prices),
           replaceRegexpOne(replaceRegexpOne(replaceRegexpOne(lower(trimBoth(Model)), '^.*/', ''),
               '^(?:[a-z]{2}\\.)?(?:anthropic|amazon|meta|cohere|mistral|ai21|deepseek|openai|google)\\.', ''),
               '-v\\d+:\\d+$', '') AS PriceKey),
       PriceKey,
       replaceRegexpOne(PriceKey,
           '(?:-\\d{4}-\\d{2}-\\d{2}|-\\d{8}|@\\d{8}|-\\d{3,4}|-latest|-preview-\\d{2}-\\d{2}|-preview)$', '')))
