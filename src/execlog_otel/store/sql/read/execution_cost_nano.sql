-- One execution's cost as the listing sorts by it (nano-dollars; 0 without LLM cost).
SELECT ifNull(max(CostNano), 0) FROM ({execution_costs}) WHERE ExecutionId = {id:String}
