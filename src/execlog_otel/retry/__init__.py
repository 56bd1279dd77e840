"""Retrying failed executions: policy (who may be retried), signing, the runner's listener, the viewer's dispatcher.

A runner exposes its listener with ``configure(retry_listener="127.0.0.1:4319")`` (or
``EXECLOG_RETRY_LISTEN``), which starts it and announces its URL; or by hand with
``start_retry_listener(host, port)`` / mounting ``RetryListener().blueprint()`` / serving
``RetryListener().wsgi_app()``, announcing the URL with
``configure(resource_attributes=retry_resource_attributes(url))``.
"""

from typing import Any

__all__ = ["RetryListener", "RunningListener", "retry_resource_attributes", "start_retry_listener"]


def __getattr__(name: str) -> Any:
    # Lazily: the SDK imports retry.proof for every run, and should not load Flask (the listener's) for it.
    if name in __all__:
        from execlog_otel.retry import listener

        return getattr(listener, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
