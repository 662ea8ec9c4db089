"""TOML configuration -> validated, frozen settings.

A config file has four tables, all but ``sources`` optional::

    [fetch]            # FetchSettings fields: user_agent, timeout, per_host_delay, ...
    [crawl]            # defaults for every source: max_articles, max_pages
    [[sources]]        # name, title, kind (feed|listing), url, interval, ...
    [[rules]]          # per-site extraction rules: match, body, drop, author, date, title

Every problem is reported as one ConfigError naming the file, the source and the field.
String values may use ``{base}``; ``load_config(path, variables={"base": ...})`` fills it in
(the demo uses this for the fixture server's address).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aggregator.dedup import DedupSettings
from aggregator.dedup.urls import DEFAULT_TRACKING_PARAMS
from aggregator.errors import ConfigError
from aggregator.fetch import FetchSettings
from aggregator.models import SiteRule, Source

if TYPE_CHECKING:
    from aggregator.watches import Watch

SOURCE_KINDS = ("feed", "listing")
_KIND_ALIASES = {"rss": "feed", "atom": "feed", "feed": "feed", "listing": "listing"}
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_INTERVAL_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
MIN_INTERVAL = 1
MAX_INTERVAL = 30 * 86400

_SOURCE_KEYS = {
    "name", "title", "kind", "url", "interval", "link_selector", "next_selector",
    "max_pages", "max_articles", "robots", "enabled", "min_interval", "max_interval",
}
_RULE_KEYS = {"match", "body", "drop", "author", "date", "title"}
_CRAWL_KEYS = {"max_articles", "max_pages"}
_TOP_KEYS = {"fetch", "crawl", "dedup", "sources", "rules", "watches"}


@dataclass(frozen=True)
class Settings:
    """Everything a config file says, validated."""

    path: str
    sources: tuple[Source, ...]
    fetch: FetchSettings = field(default_factory=FetchSettings)
    rules: tuple[SiteRule, ...] = ()
    tracking_params: tuple[str, ...] = DEFAULT_TRACKING_PARAMS
    watches: tuple[Watch, ...] = ()
    dedup: DedupSettings = field(default_factory=DedupSettings)

    def source(self, name: str) -> Source:
        for s in self.sources:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} (known: {known})", file=self.path)


def parse_interval(value: object) -> int:
    """``"30m"``, ``"2h"``, ``"1d"``, ``"90s"`` or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like '30m', '2h' or a number of seconds")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _INTERVAL_RE.match(value)):
        unit = m.group(2).lower() if m.group(2) else None
        seconds = float(m.group(1)) * _UNIT_SECONDS[unit]
    else:
        raise ValueError(f"{value!r} is not a duration like '30m', '2h' or a number of seconds")
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise ValueError(f"{value!r} is outside {MIN_INTERVAL} s .. {MAX_INTERVAL // 86400} days")
    return int(seconds)


def check_url(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected an http(s) URL")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{value!r} is not an http(s) URL")
    if not parts.hostname:
        raise ValueError(f"{value!r} has no host")
    try:
        _ = parts.port
    except ValueError as exc:
        raise ValueError(f"{value!r} has a bad port") from exc
    if any(c.isspace() for c in value.strip()):
        raise ValueError(f"{value!r} contains white space")
    return value.strip()


def check_selector(value: object) -> str:
    import soupsieve

    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a CSS selector")
    try:
        soupsieve.compile(value)
    except Exception as exc:  # soupsieve raises its own SelectorSyntaxError
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"{value!r} is not a valid CSS selector: {first}") from None
    return value


def _substitute(value: Any, variables: Mapping[str, str]) -> Any:
    if isinstance(value, str) and "{" in value:
        try:
            return value.format_map(_StrictVars(variables))
        except (KeyError, ValueError, IndexError) as exc:
            raise ValueError(f"{value!r}: placeholder {exc} is not set") from None
    if isinstance(value, list):
        return [_substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, variables) for k, v in value.items()}
    return value


class _StrictVars(dict):
    def __missing__(self, key: str) -> str:
        if key == "base":
            raise KeyError("{base} (only `aggregator demo` sets it)")
        raise KeyError("{" + key + "}")


def load_config(path: str | Path, *, variables: Mapping[str, str] | None = None) -> Settings:
    """Read and validate a config file. Raises ConfigError."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError("file not found", file=file) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=file) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", file=file) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", file=file) from None
    return parse_config(data, file=file, variables=variables or {})


def parse_config(
    data: Mapping[str, Any], *, file: str = "<config>", variables: Mapping[str, str] | None = None
) -> Settings:
    variables = variables or {}
    _unknown(data, _TOP_KEYS, file=file, where="top level")
    fetch = _parse_fetch(data.get("fetch", {}), file)
    crawl = data.get("crawl", {})
    if not isinstance(crawl, dict):
        raise ConfigError("expected a table", file=file, field="crawl")
    _unknown(crawl, _CRAWL_KEYS, file=file, where="[crawl]")
    defaults = {k: _positive_int(v, file, None, f"crawl.{k}") for k, v in crawl.items()}

    raw_sources = data.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        raise ConfigError("at least one [[sources]] entry is required", file=file, field="sources")
    sources: list[Source] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_sources):
        src = _parse_source(raw, index, file, defaults, variables)
        if src.name in seen:
            raise ConfigError("duplicate source name", file=file, source=src.name, field="name")
        seen.add(src.name)
        sources.append(src)

    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        raise ConfigError("expected [[rules]] entries", file=file, field="rules")
    rules = tuple(_parse_rule(r, i, file, variables) for i, r in enumerate(raw_rules))
    dedup_raw = data.get("dedup", {})
    if not isinstance(dedup_raw, dict):
        raise ConfigError("expected a table", file=file, field="dedup")
    tracking = dedup_raw.get("tracking_params", list(DEFAULT_TRACKING_PARAMS))
    if not isinstance(tracking, list) or not all(isinstance(t, str) and t for t in tracking):
        raise ConfigError("expected a list of parameter names (a trailing * matches a prefix)",
                          file=file, field="dedup.tracking_params")
    dedup = _parse_table_for(DedupSettings, {k: v for k, v in dedup_raw.items()
                                             if k != "tracking_params"}, file, "dedup",
                             extra_keys={"tracking_params"})
    from aggregator.watches import parse_watches

    raw_watches = data.get("watches", [])
    if not isinstance(raw_watches, list):
        raise ConfigError("expected [[watches]] entries", file=file, field="watches")
    base_dir = Path(file).parent if file != "<config>" else None
    watches = parse_watches(raw_watches, file, base_dir=base_dir)
    names = {s.name for s in sources}
    for index, watch in enumerate(watches):
        for name in watch.sources:
            if name not in names:
                raise ConfigError(f"no source named {name!r} in this config",
                                  file=file, field=f"watches[{index}] ({watch.name}).sources")
    return Settings(path=file, sources=tuple(sources), fetch=fetch, rules=rules,
                    tracking_params=tuple(tracking), watches=watches, dedup=dedup)


def _unknown(table: Mapping[str, Any], allowed: set[str], *, file: str, where: str,
             source: str | None = None) -> None:
    for key in table:
        if key not in allowed:
            hint = ", ".join(sorted(allowed))
            raise ConfigError(f"unknown key in {where} (allowed: {hint})", file=file,
                              source=source, field=key)


def _positive_int(value: object, file: str, source: str | None, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"expected a whole number >= 1, got {value!r}", file=file,
                          source=source, field=name)
    return value


def _parse_fetch(raw: object, file: str) -> FetchSettings:
    return _parse_table_for(FetchSettings, raw, file, "fetch")


def _parse_table_for(kind: Any, raw: object, file: str, table: str, *,
                     extra_keys: set[str] = frozenset()) -> Any:  # type: ignore[assignment]
    """A settings dataclass from a TOML table: known keys only, each of its default's type."""
    if not isinstance(raw, dict):
        raise ConfigError("expected a table", file=file, field=table)
    fields = {f.name for f in dataclasses.fields(kind)}
    defaults = kind()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            hint = ", ".join(sorted(fields | extra_keys))
            raise ConfigError(f"unknown key in [{table}] (allowed: {hint})", file=file,
                              field=f"{table}.{key}")
        values[key] = _coerce_like(getattr(defaults, key), value, file, f"{table}.{key}")
    try:
        return kind(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc), file=file, field=table) from None


def _coerce_like(default: object, value: object, file: str, name: str) -> object:
    """Check a [fetch] value against the type of its default."""
    ok: bool
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
        value = float(value) if ok else value  # type: ignore[arg-type]
    elif isinstance(default, str):
        ok = isinstance(value, str) and bool(value.strip())
    elif isinstance(default, tuple):
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok else value  # type: ignore[arg-type]
    else:
        ok = True
    if not ok:
        kind = type(default).__name__
        raise ConfigError(f"expected {kind} like {default!r}, got {value!r}", file=file,
                          field=name)
    return value


def _parse_source(raw: object, index: int, file: str, defaults: Mapping[str, int],
                  variables: Mapping[str, str]) -> Source:
    if not isinstance(raw, dict):
        raise ConfigError(f"sources[{index}] is not a table", file=file, field="sources")
    name = raw.get("name")
    label = name if isinstance(name, str) else f"#{index + 1}"
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(
            "name must be 1-64 characters of a-z, 0-9, '-' or '_', starting with a letter or digit",
            file=file, source=label, field="name",
        )
    _unknown(raw, _SOURCE_KEYS, file=file, where="[[sources]]", source=name)

    def fail(fld: str, reason: str) -> ConfigError:
        return ConfigError(reason, file=file, source=name, field=fld)

    kind_raw = raw.get("kind")
    if not isinstance(kind_raw, str) or kind_raw.lower() not in _KIND_ALIASES:
        raise fail("kind", f"expected one of feed, rss, atom, listing; got {kind_raw!r}")
    kind = _KIND_ALIASES[kind_raw.lower()]
    try:
        url = check_url(_substitute(raw.get("url"), variables))
    except ValueError as exc:
        raise fail("url", str(exc)) from None
    if "interval" not in raw:
        raise fail("interval", "required (e.g. '30m', '2h')")
    try:
        interval = parse_interval(raw["interval"])
    except ValueError as exc:
        raise fail("interval", str(exc)) from None
    bounds: dict[str, int] = {}
    for key in ("min_interval", "max_interval"):
        if key in raw:
            try:
                bounds[key] = parse_interval(raw[key])
            except ValueError as exc:
                raise fail(key, str(exc)) from None
    if bounds.get("min_interval", 0) > bounds.get("max_interval", MAX_INTERVAL):
        raise fail("min_interval", "must not be longer than max_interval")
    title = raw.get("title", name)
    if not isinstance(title, str) or not title.strip():
        raise fail("title", "expected a non-empty string")

    selectors: dict[str, str | None] = {}
    for key in ("link_selector", "next_selector"):
        value = raw.get(key)
        if value is None:
            selectors[key] = None
            continue
        try:
            selectors[key] = check_selector(value)
        except ValueError as exc:
            raise fail(key, str(exc)) from None
    if kind == "listing" and not selectors["link_selector"]:
        raise fail("link_selector", "a listing source needs a CSS selector for its article links")
    if kind == "feed" and (selectors["link_selector"] or selectors["next_selector"]):
        raise fail("link_selector" if selectors["link_selector"] else "next_selector",
                   "only listing sources take selectors")

    numbers = {
        key: _positive_int(raw[key], file, name, key) if key in raw else defaults.get(key)
        for key in ("max_pages", "max_articles")
    }
    flags: dict[str, bool] = {}
    for key in ("robots", "enabled"):
        value = raw.get(key, True)
        if not isinstance(value, bool):
            raise fail(key, f"expected true or false, got {value!r}")
        flags[key] = value
    extra = {k: v for k, v in numbers.items() if v is not None}
    return Source(
        name=name, title=title.strip(), kind=kind, url=url, interval=interval,
        link_selector=selectors["link_selector"], next_selector=selectors["next_selector"],
        robots=flags["robots"], enabled=flags["enabled"], **bounds, **extra,
    )


def _parse_rule(raw: object, index: int, file: str, variables: Mapping[str, str]) -> SiteRule:
    where = f"rules[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError("expected a table", file=file, field=where)
    _unknown(raw, _RULE_KEYS, file=file, where=f"[[rules]] {where}")
    match = _substitute(raw.get("match"), variables) if isinstance(raw.get("match"), str) else None
    if not isinstance(match, str) or not match.strip():
        raise ConfigError("expected a host or host/path prefix", file=file, field=f"{where}.match")
    match = re.sub(r"^https?://", "", match.strip()).rstrip("/")
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("body", "drop", "author", "date", "title"):
        value = raw.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise ConfigError("expected a list of CSS selectors", file=file,
                              field=f"{where}.{key}")
        try:
            lists[key] = tuple(check_selector(v) for v in value)
        except ValueError as exc:
            raise ConfigError(str(exc), file=file, field=f"{where}.{key}") from None
    return SiteRule(match=match, **lists)
