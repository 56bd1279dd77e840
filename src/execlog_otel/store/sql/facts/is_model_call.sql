-- A span that calls a model (its step kind is llm): HTTP client spans under it are its transport.
{fact.step_kind} = 'llm'
