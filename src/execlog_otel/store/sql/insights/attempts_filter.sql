-- Attempt traces of the executions the listing's filters select (per-span facts: costs, steps,
-- tools). Statuses are an execution's newest state, so they are read from execlog_executions. Matched by a
-- 64-bit hash of the trace id: at 10 M spans, probing a set of half a million hashes instead of the ids takes a
-- third off the charts of one kind (failing steps 759 -> 495 ms, tools 441 -> 268 ms); a collision among a
-- million attempts has odds of about 1 in 40 million, and would count one attempt's steps in one chart.
cityHash64(TraceId) IN (
    SELECT cityHash64(TraceId) FROM {database}.execlog_attempts
    WHERE Start >= fromUnixTimestamp64Nano({from_ns:Int64}) AND Start <= fromUnixTimestamp64Nano({to_ns:Int64})
      AND ({kind:String} = '' OR Kind = {kind:String})
      AND ({name:String} = '' OR Name = {name:String})
      AND ({service:String} = '' OR ServiceName = {service:String})
      AND ({all_projects:UInt8} OR Project IN {projects:Array(String)})
      AND (empty({statuses:Array(String)}) OR ExecutionId IN (
          SELECT ExecutionId FROM {database}.execlog_executions FINAL WHERE {executions_filter}))
)
