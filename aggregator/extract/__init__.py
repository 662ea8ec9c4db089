"""Article extraction: body text and HTML, metadata, site rules, attributions.

    from aggregator.extract import extract_article
    article = extract_article(html_bytes, url, rules=..., entry=..., header_charset=...)

Each page is parsed once (``parse_document``); the tree is shared by body, metadata and
attribution extraction. Pages without an article raise ``aggregator.errors.NoArticle``.
"""

from aggregator.extract.article import extract_article
from aggregator.extract.parse import parse_document

__all__ = ["extract_article", "parse_document"]
