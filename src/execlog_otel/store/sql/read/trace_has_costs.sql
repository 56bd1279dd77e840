-- Whether any step of one trace used a model or reported a cost (execlog_llm_usage is ordered by TraceId):
-- a big execution's pages skip the cost read when none did.
SELECT count() > 0 FROM {database}.execlog_llm_usage WHERE TraceId = {id:String}
