-- An agent/workflow span of another instrumentation, which often repeats its children's token totals:
-- its own counts are left out (rollups, costs) so nothing is counted twice.
SpanAttributes[{attr.GEN_AI_OPERATION_NAME}] IN ('invoke_agent', 'invoke_workflow') AND SpanAttributes[{attr.KIND}] = ''
