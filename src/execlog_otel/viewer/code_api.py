"""Download Code: the replay file of one execution, a Zip of several, and the code for Quick View.

- ``GET /executions/<id>/code`` -> ``<name>_<time>.py`` as an attachment
- ``GET /api/executions/code.zip?id=…&id=…`` or ``POST /api/executions/code.zip`` (JSON ``{"ids": […]}``
  or form fields ``id``) -> a Zip with one ``.py`` per execution
- ``GET /api/executions/<id>/code`` -> JSON: the recorded source, whether it can be replayed, the file's name

Views read the model (``store.repository``) and call ``replay``; the file is built from the same
execution JSON the API serves (``presenters.detail``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from execlog_otel import replay
from execlog_otel import semconv as sc
from execlog_otel.replay.generate import is_replayable
from execlog_otel.store.errors import QueryError
from execlog_otel.viewer import access, errors, params, presenters
from execlog_otel.viewer.errors import NotFound, not_found_message
from execlog_otel.viewer.people import OPERATOR, VIEWER
from execlog_otel.viewer.services import services

bp = Blueprint("code", __name__)

MAX_ZIP_EXECUTIONS = 100


def _redact_keys() -> tuple[str, ...]:
    return tuple(services().settings.redact_keys)


def _permalink(execution_id: str) -> str:
    base = services().settings.base_url.rstrip("/") or request.host_url.rstrip("/")
    return f"{base}/executions/{execution_id}"


def _execution(execution_id: str, attempt: int | None = None, role: str = OPERATOR) -> dict[str, Any] | None:
    """The execution as the API serves it (``presenters.detail``), which the replay file is made from; only
    for an operator of its project (a download replays the run: its inputs, its steps); reading the code
    (``role`` viewer) is for anyone who sees the execution."""
    detail = services().reads.detail(params.execution_id(execution_id), attempt, access.scope())
    if detail is None:
        return None
    access.require(detail.execution.project, role)
    return presenters.detail(detail)


def _found(execution_id: str, role: str = OPERATOR) -> dict[str, Any]:
    execution = _execution(execution_id, params.attempt(request.args), role)
    if execution is None:
        raise NotFound(not_found_message(execution_id))
    return execution


def _attachment(body: bytes, filename: str, mimetype: str) -> Response:
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/executions/<execution_id>/code")
def download(execution_id: str):
    execution = _found(execution_id)
    text = replay.replay_file(execution, _permalink(execution["id"]), _redact_keys())
    return _attachment(text.encode("utf-8", "replace"), replay.replay_filename(execution),
                       "text/x-python; charset=utf-8")


def _requested_ids() -> list[str]:
    if request.method == "POST" and request.is_json:
        body = request.get_json(silent=True)
        raw = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise QueryError('expected a JSON body {"ids": ["<execution id>", ...]}')
    else:
        raw = request.values.getlist("id")
        if not raw and request.values.get("ids"):
            raw = request.values["ids"].split(",")
    ids = list(dict.fromkeys(params.execution_id(x) for x in raw if x.strip()))
    if not ids:
        raise QueryError("name at least one execution: ?id=<execution id>&id=... (or POST {\"ids\": [...]})")
    if len(ids) > MAX_ZIP_EXECUTIONS:
        raise QueryError(f"{len(ids)} executions requested; a Zip holds at most {MAX_ZIP_EXECUTIONS}")
    return ids


@bp.route("/api/executions/code.zip", methods=["GET", "POST"])
def download_zip():
    ids = _requested_ids()
    files = []
    missing = []
    for execution_id in ids:
        execution = _execution(execution_id)
        if execution is None:
            missing.append(execution_id)
            continue
        files.append((execution, replay.replay_file(execution, _permalink(execution["id"]), _redact_keys())))
    if missing:
        return errors.answer(404, "not_found", not_found_message(missing), missing=missing)
    name = "executions_code.zip" if len(files) != 1 else replay.replay_filename(files[0][0])[:-3] + ".zip"
    return _attachment(replay.replay_zip(files), name, "application/zip")


@bp.get("/api/executions/<execution_id>/code")
def code_json(execution_id: str):
    execution = _found(execution_id, VIEWER)
    ok, reason = is_replayable(execution)
    code = execution.get("code") or {}
    steps = [{"name": s.get("name"), "kind": s.get("kind"), "function": (s.get("code") or {}).get("function", ""),
              "source": (s.get("code") or {}).get("source", "")}
             for s in execution.get("steps") or [] if (s.get("code") or {}).get("source")]
    attrs = execution.get("attributes") or {}
    return jsonify(
        id=execution["id"], name=execution.get("name"), status=execution.get("status"),
        started_at=execution.get("started_at"), function=code.get("function", ""), file=code.get("file", ""),
        line=code.get("line", ""), source=code.get("source", ""), language="python",
        source_truncated=attrs.get(sc.CODE_SOURCE + sc.TRUNCATED_SUFFIX) == "true",
        replayable=ok, reason=reason, steps=steps, filename=replay.replay_filename(execution),
        download_url=url_for("code.download", execution_id=execution["id"]),
    )
