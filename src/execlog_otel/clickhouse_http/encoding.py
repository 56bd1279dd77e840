"""HTTP content coding both ways: a compressed query body in, a compressed result out (streamed)."""

from __future__ import annotations

import zlib
from typing import Protocol

try:  # Python 3.14 has zstd in the standard library; older ones get the backport
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the interpreter
    from backports import zstd  # type: ignore[no-redef]
import lz4.frame

from execlog_otel.clickhouse_http.errors import CANNOT_DECOMPRESS, NOT_IMPLEMENTED, ChError

# What the endpoint answers in, by preference (brotli is not offered: no codec in the dependencies).
RESPONSE_ENCODINGS = ("zstd", "lz4", "gzip", "deflate")


class Compressor(Protocol):
    def compress(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """The body decompressed, at most ``limit`` + 1 bytes of it (a small body can expand enormously)."""
    try:
        if encoding in ("gzip", "x-gzip", "deflate"):
            return zlib.decompressobj(31 if encoding != "deflate" else 15).decompress(body, limit + 1)
        if encoding == "zstd":
            return zstd.ZstdDecompressor().decompress(body, max_length=limit + 1)
        if encoding == "lz4":
            return lz4.frame.LZ4FrameDecompressor().decompress(body, max_length=limit + 1)
    except Exception as exc:  # noqa: BLE001 - any codec failure is one ClickHouse error
        raise ChError.of(CANNOT_DECOMPRESS, f"cannot decompress the request body ({encoding}): {exc}") from None
    raise ChError.of(NOT_IMPLEMENTED, f"unsupported Content-Encoding {encoding}: use gzip, deflate, zstd or lz4")


class _Lz4:
    def __init__(self) -> None:
        self._c = lz4.frame.LZ4FrameCompressor()
        self._started = False

    def compress(self, data: bytes) -> bytes:
        head = b""
        if not self._started:
            head, self._started = self._c.begin(), True
        return head + self._c.compress(data)

    def flush(self) -> bytes:
        head = b"" if self._started else self._c.begin()
        return head + self._c.flush()


def compressor(encoding: str) -> Compressor:
    """A streaming compressor for a response ``Content-Encoding``."""
    if encoding == "gzip":
        return zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: gzip wrapper
    if encoding == "deflate":
        return zlib.compressobj(6, zlib.DEFLATED, 15)  # zlib wrapper, what HTTP calls deflate
    if encoding == "zstd":
        return zstd.ZstdCompressor()
    if encoding == "lz4":
        return _Lz4()
    raise ValueError(encoding)
