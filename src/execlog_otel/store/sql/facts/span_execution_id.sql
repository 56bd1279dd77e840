-- The execution any span belongs to (not only a root): what the SDK stamps on the spans of an execution
-- whose id is not their trace id (execlog.execution.id: a retry attempt's steps, a Celery task's), else
-- what a root names (facts/execution_id.sql: the retry's first attempt, else its own trace). A sharded
-- cluster places spans by it, so all attempts of an execution are on one shard.
if(SpanAttributes[{attr.EXECUTION_ID}] != '', SpanAttributes[{attr.EXECUTION_ID}], {fact.execution_id})
