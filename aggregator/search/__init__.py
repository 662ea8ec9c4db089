"""Search text: folding for the index and queries, query parsing, dates, highlighting, SQL.

Pure modules (no I/O): ``normalize`` (index_text), ``query`` (parse_query -> ParsedQuery),
``dates`` (parse_when), ``highlight`` (spans/markers), ``sql`` (search SQL + params).
"""

from aggregator.search.normalize import index_text
from aggregator.search.query import ParsedQuery, parse_query

__all__ = ["ParsedQuery", "index_text", "parse_query"]
