-- The execution next to another in a listing's order (keyset lookup, one row).
SELECT ExecutionId, Name
FROM {database}.execlog_executions FINAL
{where}
ORDER BY {order_expr} {direction}, ExecutionId {direction}
LIMIT 1
