"""A ClickHouse HTTP request, read the way ClickHouse's HTTP interface reads it.

* the query: ``query=`` in the URL, the body, or both (the body continues the URL's query);
* ``database``, ``default_format``, ``query_id``, ``param_<name>`` (server-side ``{name:Type}`` binding: the
  values go to the engine as they came, in ClickHouse's escaped text form);
* settings: every other URL parameter. Transport settings are the endpoint's own business; the rest
  are engine settings, checked by ``sqlcmd.check_setting`` before a session gets them;
* a compressed body (``Content-Encoding``) and the response encodings the client accepts;
* credentials: ``X-ClickHouse-User``/``X-ClickHouse-Key``, Basic authentication, or ``user``/``password``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from execlog_otel.clickhouse_http.encoding import RESPONSE_ENCODINGS, decompress
from execlog_otel.clickhouse_http.errors import (
    BAD_ARGUMENTS,
    NOT_IMPLEMENTED,
    QUERY_IS_TOO_LARGE,
    ChError,
)

MAX_QUERY_BYTES = 1024 * 1024
# URL parameters ClickHouse's HTTP handler consumes itself; they never reach the engine.
TRANSPORT = frozenset({"query", "database", "default_format", "query_id", "user", "password", "quota_key",
                       "session_id", "session_timeout", "session_check", "compress", "decompress",
                       "enable_http_compression", "http_zlib_compression_level", "wait_end_of_query",
                       "send_progress_in_http_headers", "http_headers_progress_interval_ms", "buffer_size",
                       "client_protocol_version", "role", "stacktrace", "close_session",
                       "http_native_compression_disable_checksumming_on_decompress", "add_http_cors_header",
                       "cancel_http_readonly_queries_on_client_close", "http_response_buffer_size",
                       "output_format_parallel_formatting"})


@dataclass
class ChRequest:
    query: str
    database: str = ""
    default_format: str = "TabSeparated"
    query_id: str = ""
    params: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    user: str = ""
    key: str = ""
    response_encoding: str = ""  # "" when the response goes uncompressed
    client_protocol_version: int = 0


def _credentials(environ: dict, args: dict[str, str]) -> tuple[str, str]:
    user = environ.get("HTTP_X_CLICKHOUSE_USER", "")
    key = environ.get("HTTP_X_CLICKHOUSE_KEY", "")
    header = environ.get("HTTP_AUTHORIZATION", "")
    if header[:6].lower() == "basic ":
        try:
            name, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise ChError.of(BAD_ARGUMENTS, "malformed Basic authorization header") from None
        user, key = user or name, key or secret
    return user or args.get("user", ""), key or args.get("password", "")


def _accepted(environ: dict, args: dict[str, str]) -> str:
    """The response encoding: only when the client turned ``enable_http_compression`` on, as ClickHouse does."""
    if args.get("enable_http_compression", "0") not in ("1", "true"):
        return ""
    offered = [part.split(";")[0].strip().lower() for part in environ.get("HTTP_ACCEPT_ENCODING", "").split(",")]
    return next((enc for enc in offered if enc in RESPONSE_ENCODINGS), "")  # the client's order


def parse(environ: dict, body: bytes) -> ChRequest:
    """Read a WSGI request; raises ChError for what ClickHouse would refuse too."""
    args = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    encoding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
    if body and encoding and encoding != "identity":
        body = decompress(body, encoding, MAX_QUERY_BYTES)
    if args.get("decompress", "0") not in ("0", "false") or args.get("compress", "0") not in ("0", "false"):
        raise ChError.of(NOT_IMPLEMENTED, "ClickHouse's compress/decompress block framing is not offered here: "
                                          "use HTTP compression (enable_http_compression=1 and Accept-Encoding)")
    if environ.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
        raise ChError.of(NOT_IMPLEMENTED, "external tables (multipart/form-data) are not offered by this endpoint")
    if len(body) > MAX_QUERY_BYTES:
        raise ChError.of(QUERY_IS_TOO_LARGE, f"the query is {len(body)} bytes; the limit is {MAX_QUERY_BYTES}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ChError.of(BAD_ARGUMENTS, "the query is not UTF-8 text") from None
    url_query = args.get("query", "")
    query = f"{url_query}\n{text}" if url_query and text else (url_query or text)
    user, key = _credentials(environ, args)
    try:
        protocol = int(args.get("client_protocol_version", "0") or 0)
    except ValueError:
        raise ChError.of(BAD_ARGUMENTS, "client_protocol_version must be a whole number") from None
    return ChRequest(
        query=query,
        database=args.get("database", ""),
        default_format=args.get("default_format", "") or "TabSeparated",
        query_id=args.get("query_id", ""),
        params={k[6:]: v for k, v in args.items() if k.startswith("param_")},
        settings={k: v for k, v in args.items() if k not in TRANSPORT and not k.startswith("param_")},
        user=user,
        key=key,
        response_encoding=_accepted(environ, args),
        client_protocol_version=protocol,
    )
