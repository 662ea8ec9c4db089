"""State shared by the CLI commands: where the database and the config are."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from aggregator.config import Settings, load_config

if TYPE_CHECKING:
    from aggregator.store import Store

DEFAULT_DB = "aggregator.db"
DEFAULT_CONFIG = "config/sources.toml"


class Context:
    """The global options, with the config loaded on first use."""

    def __init__(self, db: str, config: str, *, db_option: str | None = None) -> None:
        self.db_path = db
        self.db_option = db_option  # the global --db as given (None: not given)
        self.config_path = config
        self._settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_config(self.config_path)
        return self._settings

    def store(self, *, create: bool = True) -> Store:
        from aggregator.store import Store

        return Store.open(self.db_path, create=create)


pass_ctx = click.make_pass_decorator(Context)


def require_known(store: Store, *, sources: Sequence[str] = (),
                  story: int | None = None) -> None:
    """A one-line error (exit 1) for a --source or --story that names nothing stored."""
    unknown = store.unknown_sources(sources)
    if unknown:
        known = ", ".join(sorted(r["name"] for r in store.sources())) or "none yet"
        raise click.ClickException(
            f"unknown source {', '.join(repr(n) for n in unknown)} in --source "
            f"(known: {known})")
    if story is not None and not store.has_story(story):
        raise click.ClickException(f"unknown story {story} in --story: no story with that id")
