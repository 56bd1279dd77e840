"""``GET /api/insights/<chart>``: the data of one Insights chart, as JSON or CSV.

Takes the listing's filters (``kind``, ``name``, ``status``, ``service``, ``from``, ``to``); the range
defaults to the last 7 days. Each chart is one named ClickHouse query (``store/insights.py``).
"""

from __future__ import annotations

import io

from defusedcsv import csv
from flask import Blueprint, current_app, jsonify, request

from execlog_otel.store import insights
from execlog_otel.store.errors import QueryError
from execlog_otel.viewer import access, params, presenters
from execlog_otel.viewer.services import services

bp = Blueprint("insights_api", __name__, url_prefix="/api")


@bp.get("/insights")
def list_charts():
    return jsonify(charts=[{"id": c.id, "title": c.title, "series": c.series} for c in insights.CHARTS.values()])


@bp.get("/insights/<chart>")
def chart_data(chart: str):
    fmt = (params.text(request.args, "format") or "json").lower()
    if fmt not in ("json", "csv"):
        raise QueryError(f"format={fmt!r}: expected json or csv")
    s = services()
    data = insights.run(s.store, chart, params.list_filter(request.args, access.scope()), s.settings.query_timeout_s)
    if fmt == "json":
        return jsonify(presenters.chart(data))
    buf = io.StringIO()
    # Names come from span data: a cell a spreadsheet would run as a formula (=, +, -, @, |, %) starts with a
    # quote instead (defusedcsv), numbers are left alone.
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(data.columns)
    writer.writerows(["" if v is None else v for v in row] for row in data.rows)
    return current_app.response_class(buf.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="execlog-{chart}.csv"'})
