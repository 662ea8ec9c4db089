"""Duplicates and stories: canonical URLs, text fingerprints, story assignment (all pure)."""
