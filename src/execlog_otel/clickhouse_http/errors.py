"""ClickHouse's errors as its HTTP interface answers them: ``Code: N. DB::Exception: … (NAME)``, the
``X-ClickHouse-Exception-Code`` header and the HTTP status ClickHouse maps the code to."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Codes this endpoint answers with itself (names as ClickHouse spells them).
SYNTAX_ERROR = (62, "SYNTAX_ERROR")
UNKNOWN_DATABASE = (81, "UNKNOWN_DATABASE")
READONLY = (164, "READONLY")
UNKNOWN_FORMAT = (73, "UNKNOWN_FORMAT")
NOT_IMPLEMENTED = (48, "NOT_IMPLEMENTED")
CANNOT_DECOMPRESS = (271, "CANNOT_DECOMPRESS")
QUERY_IS_TOO_LARGE = (393, "QUERY_IS_TOO_LARGE")
AUTHENTICATION_FAILED = (516, "AUTHENTICATION_FAILED")
REQUIRED_PASSWORD = (194, "REQUIRED_PASSWORD")
BAD_ARGUMENTS = (36, "BAD_ARGUMENTS")
TOO_MANY_SIMULTANEOUS_QUERIES = (202, "TOO_MANY_SIMULTANEOUS_QUERIES")
UNKNOWN = (1001, "STD_EXCEPTION")

# ClickHouse's HTTPHandler mapping of exception codes to statuses (the ones a read can meet).
_STATUS = {
    400: {1, 6, 25, 26, 27, 28, 32, 33, 34, 36, 38, 41, 42, 43, 44, 47, 53, 62, 69, 70, 72, 73, 80, 107, 115, 127,
          130, 131, 170, 184, 215, 258, 271, 344, 395, 403, 457, 700},
    401: {192, 193, 194, 516},
    403: {164, 291, 497},
    404: {46, 47, 49, 60, 81, 50, 63, 76, 86, 156, 390},
    408: {159},
    411: {113},
    413: {393},
    429: {202},
    501: {48},
    503: {209, 210, 394},
}
_CODE = re.compile(r"Code: (\d+)\.")
_NAME = re.compile(r"\(([A-Z][A-Z0-9_]+)\)(?: \(version [^)]*\))?\.?\s*$")


@dataclass
class ChError(Exception):
    """An error answered in ClickHouse's form."""

    code: int
    name: str
    message: str
    retry_after_s: int | None = None  # answered as 429 with Retry-After (guessing limits: viewer.throttle)

    @classmethod
    def of(cls, kind: tuple[int, str], message: str) -> ChError:
        return cls(kind[0], kind[1], message)

    @classmethod
    def from_engine(cls, exc: BaseException) -> ChError:
        """The engine's own exception (``Code: 60. DB::Exception: … (UNKNOWN_TABLE) (version …)``)."""
        text = str(exc).strip()
        code = _CODE.search(text)
        name = _NAME.search(text.splitlines()[0] if text else "")
        body = re.sub(r"^.*?DB::Exception: ", "", text, count=1, flags=re.S)
        body = _NAME.sub("", body.splitlines()[0] if body else "").rstrip(". ")
        while body.startswith("Code: "):  # chDB nests "Code: N. DB::Exception: Code: N. …"
            body = re.sub(r"^Code: \d+\. DB::Exception: ", "", body)
        return cls(int(code.group(1)) if code else UNKNOWN[0], name.group(1) if name else UNKNOWN[1],
                   body or type(exc).__name__)

    @property
    def status(self) -> int:
        if self.retry_after_s is not None:
            return 429
        return next((status for status, codes in _STATUS.items() if self.code in codes), 500)

    def text(self, version: str) -> str:
        return f"Code: {self.code}. DB::Exception: {self.message}. ({self.name}) (version {version})\n"
