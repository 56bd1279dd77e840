"""Retrying failed executions: policy (who may be retried), signing, the runner's listener, the viewer's dispatcher.

A runner exposes its listener with ``configure(retry_listener="127.0.0.1:4319")`` (or
``EXECLOG_RETRY_LISTEN``), which starts it and announces its URL; or by hand with
``start_retry_listener(host, port)`` / mounting ``RetryListener().blueprint()`` / serving
``RetryListener().wsgi_app()``, announcing the URL with
``configure(resource_attributes=retry_resource_attributes(url))``.
"""

from execlog_otel.retry.listener import RetryListener, RunningListener, retry_resource_attributes, start_retry_listener

__all__ = ["RetryListener", "RunningListener", "retry_resource_attributes", "start_retry_listener"]
