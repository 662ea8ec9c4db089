"""SQLite storage: schema and migrations, writes, queries, full-text search."""

from aggregator.store.db import CachedURL, SaveResult, Store, iso
from aggregator.store.schema import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "CachedURL", "SaveResult", "Store", "iso"]
