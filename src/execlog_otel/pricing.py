"""Model prices: the table shipped with the package plus the user's overrides, loaded into ClickHouse.

``prices.toml`` (next to this module) holds US dollars per million tokens per model, with the date
it was checked and the provider pages it was checked against. ``EXECLOG_PRICES_FILE`` names a file
in the same format whose entries replace or add to the shipped ones, so prices change without code.

Both are loaded into ``execlog_prices`` whenever the store is migrated (``execlog serve`` start,
the exporter's first write). Each LLM span is priced as it arrives, inside ClickHouse (the materialized
view of ``execlog_llm_usage``: ``store/sql/llm_usage_rows.sql``, so spans written by the Collector are
priced too), and its cost is stored with its usage and summed per attempt and per hour. When the prices
in force differ from those in the table, ``install`` replaces them and prices every stored row again
(``store/sql/reprice.sql``, mutations by the same facts), so a corrected or added price applies to past
executions as well — the usual complaint about cost tools is exactly that past runs keep a wrong cost —
while reading a cost sums stored numbers instead of matching model names on every query. Matching a model
name to a price is written once, in ``store/sql/facts/price_index.sql``.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from execlog_otel.config import ConfigError

PACKAGE_FILE = "prices.toml"
ORIGIN_PACKAGE = "package"
_RATES = {"input": "input", "output": "output", "cache_read": "cache_read", "cache_write": "cache_write",
          "reasoning": "reasoning"}
_MODEL_KEYS = {"name", "provider", "aliases", "source", "checked", *_RATES}
_TOP_KEYS = {"currency", "unit", "checked", "providers", "model"}


class PriceFileError(ConfigError):
    """A price file we cannot use; the message names the file, the entry and what is wrong."""


@dataclass(frozen=True)
class Price:
    """One model's rates in USD per million tokens (None: priced as plain input or output)."""

    model: str
    provider: str
    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None
    reasoning: float | None = None
    checked: str = ""
    source: str = ""
    origin: str = ORIGIN_PACKAGE

    def row(self) -> list[Any]:
        return [self.model, self.provider, self.input, self.output, self.cache_read, self.cache_write,
                self.reasoning, self.checked, self.source, self.origin]


COLUMNS = ["Model", "Provider", "InputPerM", "OutputPerM", "CacheReadPerM", "CacheWritePerM", "ReasoningPerM",
           "CheckedOn", "Source", "Origin"]


def _rate(where: str, key: str, value: Any, required: bool) -> float | None:
    if value is None:
        if required:
            raise PriceFileError(f"{where}: '{key}' is required (USD per million tokens)")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise PriceFileError(f"{where}: {key}={value!r}: expected a number >= 0 (USD per million tokens)")
    return float(value)


def parse(data: dict[str, Any], origin: str) -> list[Price]:
    """Validate a parsed price file; one Price per name and alias."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise PriceFileError(f"{origin}: unknown key(s) {', '.join(sorted(unknown))}; expected "
                             f"{', '.join(sorted(_TOP_KEYS))}")
    currency = data.get("currency", "USD")
    if currency != "USD":
        raise PriceFileError(f"{origin}: currency={currency!r}: prices are in USD")
    providers = data.get("providers", {})
    if not isinstance(providers, dict):
        raise PriceFileError(f"{origin}: [providers] must be a table")
    entries = data.get("model", [])
    if not isinstance(entries, list):
        raise PriceFileError(f"{origin}: 'model' must be a list of [[model]] tables")
    out: list[Price] = []
    for i, entry in enumerate(entries, 1):
        out += _entry(entry, f"{origin}: model #{i}", origin, providers, data)
    return out


def _entry(entry: Any, where: str, origin: str, providers: dict[str, Any], data: dict[str, Any]) -> list[Price]:
    """One [[model]] table: a Price for its name and one for each alias."""
    if not isinstance(entry, dict):
        raise PriceFileError(f"{where}: expected a table with name, input and output")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PriceFileError(f"{where}: 'name' is required (the model name, e.g. \"gpt-4o-mini\")")
    where = f"{origin}: model {name!r}"
    unknown = set(entry) - _MODEL_KEYS
    if unknown:
        raise PriceFileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; expected "
                             f"{', '.join(sorted(_MODEL_KEYS))}")
    provider = str(entry.get("provider", "") or "")
    info = providers.get(provider, {})
    info = info if isinstance(info, dict) else {}
    aliases = entry.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise PriceFileError(f"{where}: aliases must be a list of model names")
    rates = {key: _rate(where, key, entry.get(key), key in ("input", "output")) for key in _RATES}
    checked = str(entry.get("checked") or info.get("checked") or data.get("checked") or "")
    source = str(entry.get("source") or info.get("source") or "")
    return [Price(model=model.strip().lower(), provider=provider, checked=checked, source=source, origin=origin,
                  **rates)  # type: ignore[arg-type]
            for model in (name, *aliases)]


def read_file(path: str | Path) -> list[Price]:
    """Prices from a TOML (or JSON, by extension) file in the format of the shipped prices.toml."""
    p = Path(path).expanduser()
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise PriceFileError(f"EXECLOG_PRICES_FILE={str(path)!r}: cannot read it ({exc.strerror or exc})") from None
    try:
        data = json.loads(raw) if p.suffix.lower() == ".json" else tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PriceFileError(f"{p}: not valid {'JSON' if p.suffix.lower() == '.json' else 'TOML'}: {exc}") from None
    if not isinstance(data, dict):
        raise PriceFileError(f"{p}: expected a table of models")
    return parse(data, str(p))


def shipped() -> list[Price]:
    text = resources.files("execlog_otel").joinpath(PACKAGE_FILE).read_text(encoding="utf-8")
    return parse(tomllib.loads(text), ORIGIN_PACKAGE)


def in_force(override_file: str | Path | None = None) -> list[Price]:
    """The shipped prices with the override file's entries replacing those of the same name."""
    prices = {p.model: p for p in shipped()}
    if override_file:
        prices.update({p.model: p for p in read_file(override_file)})
    return sorted(prices.values(), key=lambda p: (p.provider, p.model))


def install(store: Any, override_file: str | Path | None = None) -> int:
    """Make the prices in force those of ``execlog_prices`` and of every stored cost; returns how many prices.

    The file is read and checked before the table is touched, so a bad override leaves the prices
    in force as they were (and the caller reports the error). When the table already holds exactly these
    prices nothing is written; the stored costs are priced again unless the store records that they were
    priced with these very prices (so a process killed between the two steps leaves nothing stale)."""
    prices = in_force(override_file)
    table = store.table("execlog_prices")
    rows = sorted((p.row() for p in prices), key=lambda r: r[0])
    held = [list(r) for r in store.pool.query(f"SELECT {', '.join(COLUMNS)} FROM {table} ORDER BY Model").result_rows]
    if held != rows:
        store.pool.command(f"TRUNCATE TABLE {table}")
        store.pool.insert(table, rows, column_names=COLUMNS)
    store.price_stored_costs(fingerprint(rows), prices_changed=held != rows)
    return len(prices)


def fingerprint(rows: list[list[Any]]) -> str:
    """What identifies a set of price rows (the store records which one its stored costs were priced with)."""
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return repr(value)
    # Strings from a price file: quoted, backslash and quote escaped; no ';' (the script is split on it).
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'").replace(";", ",") + "'"


def insert_statement(database: str, override_file: str | Path | None = None) -> str:
    """The prices in force as one INSERT, for ``execlog schema`` (stores whose DDL users apply themselves)."""
    rows = ", ".join("(" + ", ".join(_literal(v) for v in p.row()) + ")" for p in in_force(override_file))
    return f"INSERT INTO {database}.execlog_prices ({', '.join(COLUMNS)}) VALUES {rows}"
