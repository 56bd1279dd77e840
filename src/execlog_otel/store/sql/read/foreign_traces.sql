-- Of the traces a request writes into, those that hold another project's execution attempts: an ingest token
-- bound to a project cannot add spans or logs to them (ingest.acceptance). By the attempts' key (TraceId).
SELECT DISTINCT TraceId FROM {database}.execlog_attempts
WHERE TraceId IN {traces:Array(String)} AND Project != {project:String}
