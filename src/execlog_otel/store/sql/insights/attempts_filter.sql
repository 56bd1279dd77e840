-- Attempt traces of the executions the listing's filters select (per-span facts: costs, steps,
-- tools). Statuses are an execution's newest state, so they are read from execlog_executions.
TraceId IN (
    SELECT TraceId FROM {database}.execlog_attempts
    WHERE Start >= fromUnixTimestamp64Nano({from_ns:Int64}) AND Start <= fromUnixTimestamp64Nano({to_ns:Int64})
      AND ({kind:String} = '' OR Kind = {kind:String})
      AND ({name:String} = '' OR Name = {name:String})
      AND ({service:String} = '' OR ServiceName = {service:String})
      AND ({all_projects:UInt8} OR Project IN {projects:Array(String)})
      AND (empty({statuses:Array(String)}) OR ExecutionId IN (
          SELECT ExecutionId FROM {database}.execlog_executions FINAL WHERE {executions_filter}))
)
