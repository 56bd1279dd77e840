-- The execution next to another in a listing's order (keyset lookup, one row).
SELECT ExecutionId, Name
FROM {source}
{where}
ORDER BY {order_expr} {direction}, ExecutionId {direction}
LIMIT 1
