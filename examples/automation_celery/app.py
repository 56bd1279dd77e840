"""A Celery automation whose connector step sometimes fails.

The tasks run on a real Celery worker (a thread of this process, on the
in-memory broker), so the example needs no Redis or RabbitMQ. Under
auto-instrumentation each task run is an automation execution:

    execlog serve &
    OTEL_PYTHON_DISTRO=execlog opentelemetry-instrument python examples/automation_celery/app.py

The steps use execlog's ``step`` API to name the connectors they call (a Celery
task is plain Python: which service a line of code talks to is only known to
its author). Outcomes: order 1 Success; order 3's ERP connector fails, the task
goes on -> Partially Executed; order 4's Shopify connector fails the task ->
Failed; order 5 hits a transient error, Celery retries it -> attempt 2 Success.
"""

from __future__ import annotations

import sys

from celery import Celery
from celery.contrib.testing.worker import start_worker

from execlog_otel import step

app = Celery("shop", broker="memory://", backend="cache+memory://")
app.conf.update(broker_transport_options={"polling_interval": 0.05}, task_default_retry_delay=0,
                worker_hijack_root_logger=False)

_seen_transient: set[int] = set()


class ConnectorError(RuntimeError):
    pass


def fetch_order(order_id: int) -> dict:
    with step("Fetch order", kind="connector", connector="Shopify") as s:
        if order_id == 4:
            raise ConnectorError("Shopify: 404 order not found")
        order = {"id": order_id, "sku": f"SKU-{order_id}", "qty": order_id % 3 + 1}
        s.set_output(order)
        return order


def post_to_erp(order: dict) -> bool:
    try:
        with step("Create sales order", kind="connector", connector="SAP ERP") as s:
            s.set_input(order)
            if order["id"] % 3 == 0:  # the ERP rejects every third order
                raise ConnectorError("SAP ERP: 502 Bad Gateway")
            s.set_output({"erp_id": f"SO-{order['id']:05d}"})
            return True
    except ConnectorError:
        return False


@app.task(bind=True, max_retries=2, name="shop.sync_order")
def sync_order(self, order_id: int, notify: bool = True) -> dict:
    order = fetch_order(order_id)
    if order_id == 5 and order_id not in _seen_transient:
        _seen_transient.add(order_id)
        raise self.retry(exc=ConnectionError("Shopify: connection reset"), countdown=0.2)
    posted = post_to_erp(order)
    with step("Notify channel", kind="connector", connector="Slack") as s:
        if not notify or not posted:
            s.skip("nothing to announce" if posted else "ERP step failed")
    return {"order": order_id, "posted": posted}


def main() -> int:
    outcomes = {}
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING"):
        results = {oid: sync_order.delay(oid) for oid in (1, 3, 4, 5)}
        for oid, result in results.items():
            try:
                outcomes[oid] = result.get(timeout=30)
            except Exception as exc:  # noqa: BLE001 - the failure is the point
                outcomes[oid] = f"{type(exc).__name__}: {exc}"
    for oid, outcome in outcomes.items():
        print(f"order {oid}: {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
