-- A page of the listing: executions in their newest state under the filter's conditions, in the
-- listing's order (keyset pagination on (sort value, ExecutionId)); one row more than the page
-- says whether there is a next page.
SELECT {execution_columns}{sort_column}
FROM {source}
{where}
ORDER BY {order_expr} {direction}, ExecutionId {direction}
LIMIT {limit:UInt32}
