"""JSON API under ``/api/``: thin views over ``store.queries``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from execlog_otel.store import queries

bp = Blueprint("api", __name__, url_prefix="/api")


def store():
    return current_app.extensions["execlog_store"]


@bp.errorhandler(queries.QueryError)
def bad_query(exc: queries.QueryError):
    return jsonify(error=str(exc)), 400


@bp.get("/executions")
def list_executions():
    if "ids" in request.args:
        # The listing polls its live rows by id to update them in place.
        ids = queries.parse_ids(request.args.get("ids"))
        return jsonify(items=queries.executions_by_id(store(), ids))
    f = queries.ListFilter.from_args(request.args)
    return jsonify(queries.list_executions(store(), f))


@bp.get("/executions/<execution_id>/neighbors")
def execution_neighbors(execution_id: str):
    """Previous / next execution in the order of the listing described by the query string."""
    f = queries.ListFilter.from_args(request.args)
    return jsonify(queries.neighbors(store(), f, execution_id))


@bp.get("/facets")
def facets():
    """Executions per status under the listing's other filters (same parameters as /api/executions)."""
    f = queries.ListFilter.from_args(request.args)
    return jsonify(queries.status_facets(store(), f))


@bp.get("/names")
def execution_names():
    kind = (request.args.get("kind") or "").strip() or None
    if kind == "all":
        kind = None
    if kind is not None and kind not in queries.KINDS:
        raise queries.QueryError(f"kind={kind!r}: expected one of all, {', '.join(sorted(queries.KINDS))}")
    return jsonify(items=queries.execution_names(store(), kind))


@bp.get("/info")
def info():
    from importlib.metadata import PackageNotFoundError, version

    from execlog_otel import semconv as sc

    settings = current_app.config["EXECLOG_SETTINGS"]
    try:
        pkg_version = version("execlog-otel")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        pkg_version = "unknown"
    return jsonify(version=pkg_version, statuses=[s.value for s in sc.Status],
                   live_statuses=[s.value for s in sc.LIVE_STATUSES], kinds=[k.value for k in sc.Kind],
                   count_cap=queries.COUNT_CAP, max_page=queries.MAX_PAGE, max_steps=queries.MAX_STEPS,
                   retention_days=settings.retention_days, base_url=settings.base_url,
                   receiver="execlog_sink" in current_app.extensions)


@bp.get("/openapi.yaml")
def openapi_yaml():
    return current_app.response_class(_openapi_text(), mimetype="application/yaml")


@bp.get("/openapi.json")
def openapi_json():
    import yaml

    return jsonify(yaml.safe_load(_openapi_text()))


def _openapi_text() -> str:
    from importlib.resources import files

    return files("execlog_otel.viewer").joinpath("openapi.yaml").read_text(encoding="utf-8")


@bp.get("/executions/<execution_id>")
def get_execution(execution_id: str):
    attempt_raw = request.args.get("attempt")
    attempt = None
    if attempt_raw:
        if not attempt_raw.isdigit():
            raise queries.QueryError(f"attempt={attempt_raw!r}: expected a whole number")
        attempt = int(attempt_raw)
    steps = (request.args.get("steps") or "true").lower()
    if steps not in ("true", "false"):
        raise queries.QueryError(f"steps={steps!r}: expected true or false")
    if steps == "false" and attempt is None:
        item = queries.execution_summary(store(), execution_id)
    else:
        item = queries.get_execution(store(), execution_id, attempt)
    if item is None:
        return jsonify(error=f"no execution {execution_id} in this store (it may be older than the retention)"), 404
    return jsonify(item)


@bp.get("/health")
def health() -> Any:
    return jsonify(status="ok")
