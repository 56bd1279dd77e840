-- The project a span's execution belongs to: the resource attribute execlog.project, else
-- service.namespace, else 'default' (an ingest token bound to a project sets execlog.project).
multiIf(ResourceAttributes[{attr.RESOURCE_PROJECT}] != '', ResourceAttributes[{attr.RESOURCE_PROJECT}],
        ResourceAttributes[{attr.SERVICE_NAMESPACE}] != '', ResourceAttributes[{attr.SERVICE_NAMESPACE}],
        {attr.DEFAULT_PROJECT})
