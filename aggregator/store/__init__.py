"""SQLite storage: schema and migrations, writes, queries, full-text search."""

from aggregator.store.db import SaveResult, Store, iso
from aggregator.store.schema import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "SaveResult", "Store", "iso"]
