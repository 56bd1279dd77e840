-- The listing's filters over execlog_executions, for the Insights queries: the time range on
-- Start, and kind, name, service and statuses when given (an empty value matches all), and the
-- projects the caller may see ({all_projects}: every one).
Start >= fromUnixTimestamp64Nano({from_ns:Int64}) AND Start <= fromUnixTimestamp64Nano({to_ns:Int64})
AND ({kind:String} = '' OR Kind = {kind:String})
AND ({name:String} = '' OR Name = {name:String})
AND ({service:String} = '' OR ServiceName = {service:String})
AND (empty({statuses:Array(String)}) OR Status IN {statuses:Array(String)})
AND ({all_projects:UInt8} OR Project IN {projects:Array(String)})
