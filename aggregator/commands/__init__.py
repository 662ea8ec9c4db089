"""CLI commands that live in their own modules.

Each module here defines ``register(cli, sources)`` and adds its click commands to the
main group (``cli``) or to the ``sources`` group. ``aggregator.cli`` calls them all.
"""

from __future__ import annotations

import importlib
import pkgutil

import click


def register_all(cli: click.Group, sources: click.Group) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(cli, sources)
