"""ClickHouse's HTTP interface over the embedded store, served by ``execlog serve`` on its own port.

Grafana's ClickHouse data source, clickhouse-connect, ``@clickhouse/client`` and other ClickHouse clients
read the embedded store (chDB) through it, read-only and confined to the execution log's database:

* ``request``  — a ClickHouse HTTP request: query (URL or body), database, format, parameters, settings,
  compression, credentials;
* ``auth``     — who may query: the viewer's users and token when authentication is on;
* ``engine``   — read-only sessions on the store's engine; checks each statement with ``execlog sql``'s
  guard (``sqlcmd``) and passes the engine's bytes through in the requested FORMAT;
* ``framing``  — response headers, content types, HTTP compression, the Native protocol hello;
* ``errors``   — ClickHouse's error text, exception codes and HTTP statuses;
* ``app``      — the WSGI application tying them together; ``listener`` — its port inside ``execlog serve``.
"""

from execlog_otel.clickhouse_http.listener import ClickHouseHttp, describe, grafana_settings, start

__all__ = ["ClickHouseHttp", "describe", "grafana_settings", "start"]
