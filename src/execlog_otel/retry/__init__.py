"""Retrying failed executions: policy (who may be retried), signing, the runner's listener, the viewer's dispatcher.

A runner exposes its listener with ``start_retry_listener(host, port)`` (or mounts
``RetryListener().blueprint()`` / serves ``RetryListener().wsgi_app()``) and announces its URL with
``configure(resource_attributes=retry_resource_attributes(url))``.
"""

from execlog_otel.retry.listener import RetryListener, RunningListener, retry_resource_attributes, start_retry_listener

__all__ = ["RetryListener", "RunningListener", "retry_resource_attributes", "start_retry_listener"]
