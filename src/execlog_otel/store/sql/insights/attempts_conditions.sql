-- The listing's filters over execlog_attempts (one row per attempt trace and part): the time range on Start,
-- kind, name, service and projects as the attempt's root states them, and statuses as its execution's newest
-- state (execlog_executions) has them; an empty value matches all.
Start >= fromUnixTimestamp64Nano({from_ns:Int64}) AND Start <= fromUnixTimestamp64Nano({to_ns:Int64})
AND ({kind:String} = '' OR Kind = {kind:String})
AND ({name:String} = '' OR Name = {name:String})
AND ({service:String} = '' OR ServiceName = {service:String})
AND ({all_projects:UInt8} OR Project IN {projects:Array(String)})
AND (empty({statuses:Array(String)}) OR ExecutionId IN (
    SELECT ExecutionId FROM {database}.execlog_executions FINAL WHERE {executions_filter}))
