"""The project's SQL files and their placeholders, filled in one place.

Every statement lives in a file under ``sql/``: migrations (``NNN_name.sql``), the SELECTs that feed
the derived tables, the read queries (``read/``) and the derived facts (``facts/``), each one SQL
expression over a span row that every statement needing that fact embeds. Placeholders:

- ``{attr.NAME}``: the attribute name ``semconv.NAME`` as a string literal (no name is written in SQL);
- ``{fact.name}``: the expression in ``facts/name.sql`` (or, when the caller passes ``fact.name``, that
  value: a statement over a table where the fact is already stored names its column instead);
- ``{name}``: a value the caller passes (database, engine, a fixed fragment); a name it does not pass is
  left alone, so ClickHouse macros ({shard}, {replica}) and bound parameters ({id:String}) pass through.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from importlib import resources

from execlog_otel import semconv as sc

SQL_PACKAGE = "execlog_otel.store.sql"
_PLACEHOLDER = re.compile(r"\{((?:attr|fact)\.[A-Za-z0-9_]+|[a-z_]+)\}")


class SqlFileError(ValueError):
    pass


@cache
def read(name: str) -> str:
    """The text of ``sql/<name>.sql`` (``name`` may name a subdirectory: ``read/trace_spans``)."""
    return resources.files(SQL_PACKAGE).joinpath(f"{name}.sql").read_text(encoding="utf-8")


def strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


def attribute_literal(name: str) -> str:
    value = getattr(sc, name, None)
    if not isinstance(value, str) or "'" in value or "\\" in value:
        raise SqlFileError(f"{{attr.{name}}}: semconv has no attribute name {name}")
    return f"'{value}'"


def render(sql: str, values: Mapping[str, object]) -> str:
    """Fill the placeholders of ``sql``; substituted fragments are filled too."""

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        if key.startswith("attr."):
            return attribute_literal(key[5:])
        if key.startswith("fact.") and key not in values:
            return render(strip_comments(read("facts/" + key[5:])).strip(), values)
        if key in values:
            value = values[key]
            return render(str(value), values) if isinstance(value, Fragment) else str(value)
        return m.group(0)

    return _PLACEHOLDER.sub(sub, sql)


class Fragment(str):
    """A value that is itself SQL with placeholders (rendered after substitution)."""


def statement(name: str, **values: object) -> str:
    """The named statement ``sql/<name>.sql``, rendered, without comments."""
    return render(strip_comments(read(name)).strip(), values)
