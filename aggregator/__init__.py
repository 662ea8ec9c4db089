"""aggregator: a news aggregator and scraper for people who track a beat."""

__version__ = "0.1.0"
