"""Heuristics as named data: tag sets and class/id word patterns used by the body extractor."""

from __future__ import annotations

import re

#: Elements never part of an article body (their whole subtree is skipped).
SKIP_TAGS = frozenset({
    "script", "style", "noscript", "template", "nav", "aside", "footer", "button",
    "select", "option", "textarea", "input", "iframe", "svg", "canvas", "object", "embed",
    "video", "audio", "map", "dialog", "menu", "label", "head", "title", "meta", "link",
    "figcaption",
})

#: Elements that start a new block of text.
BLOCK_TAGS = frozenset({
    "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol",
    "li", "dl", "dt", "dd", "blockquote", "pre", "table", "tr", "td", "th", "thead", "tbody",
    "tfoot", "caption", "figure", "figcaption", "header", "address", "hr", "center", "details",
    "summary", "body", "html", "br",
})

HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

#: Paragraph-like elements whose text is scored and credited to their ancestors.
PARAGRAPH_TAGS = ("p", "pre", "td", "blockquote")

#: Class/id words that mark clutter. Matched against each class/id token.
NEGATIVE = re.compile(
    r"comment|disqus|share|sharing|social|related|recommend|newsletter|subscri|signup|sign-up|"
    r"cookie|consent|gdpr|sidebar|side-bar|breadcrumb|pagination|pager|paging|"
    r"promo|advert|adslot|ad-slot|dfp-|sponsor|popup|modal|outbrain|taboola|"
    r"byline|author-?box|author-?bio|about-?the-?author|bio-?box|masthead|footer|navbar|"
    r"author-?(?:info|desc|details?|profile|card)|contributor|autor(?:en)?-?(?:box|info)|"
    r"(?:^|[-_])legend(?:$|[-_])|img-?metadata|image-?(?:subtitle|credit|source|author)|"
    # "print": a print button or link, not the print-only copy of the story ("print-only")
    r"(?:^|[-_])print(?:$|[-_](?:button|btn|link|icon|article|page|this|version)(?:$|[-_]))|"
    r"(?:^|[-_])no-?print(?:$|[-_])|"
    r"navigation|toolbar|tagcloud|tag-?list|post-?tags|entry-?tags|entry-?meta|post-?meta|"
    r"article-?meta|sr-only|visually-?hidden|screen-?reader|more-?stories|read-?more|"
    r"read-?next|up-?next|trending|most-?read|most-?popular|table-of-contents|disclaimer|"
    r"donate|^(?:is-|u-|js-)?hidden$|caption|bildunterschrift|twitter-tweet|instagram-media|"
    r"tiktok-embed|mastodon-embed|fb-post|social-embed|"
    # short words only as a whole dash/underscore-separated part of the token
    r"(?:^|[-_])(?:ads?|ad|nav|menu|meta|tags|skip|rss|login|banner|teaser|"
    r"toc|tools|follow|rating|vote|poll|credit|copyright|feedback|popular|community|"
    r"combx|extra|pub-date|dateline|timestamp|embed|kicker|eyebrow)(?:$|[-_])",
    re.I,
)

#: Clutter words naming a part of a story (its footer, meta line, byline, comments,
#: copyright, captions): they win over an article word in the same class token.
PART_NEGATIVE = re.compile(
    r"footer|(?:^|[-_])meta(?:$|[-_])|byline|author|comment|copyright|(?:^|[-_])ratings?"
    r"(?:$|[-_])|related|caption|credit|disclaimer|utility", re.I)

#: Negative words that hold even on an element holding most of the page's text.
STRONG_NEGATIVE = re.compile(r"comment|disqus|cookie|consent|gdpr|newsletter",
                             re.I)

#: Class/id words that mark the article; they protect a negative match on the same element.
POSITIVE = re.compile(
    r"article|^body|-body|body-|content|entry|hentry|h-entry|^main|main-|^post$|post-?body|"
    r"post-?content|story|^text|-text|text-|prose|rich-?text|blog-?post|page-?content",
    re.I,
)

#: Utility classes of CSS frameworks (Tailwind and the like: "text-lg", "lg:text-center",
#: "text-gray-700"): they style text, they do not say a box is the article.
UTILITY_CLASS = re.compile(
    r"^(?:[\w-]+:)+|^-?(?:text|content)-(?:xs|sm|base|md|lg|[2-9]?xl|left|right|center|"
    r"justify|start|end|wrap|nowrap|balance|pretty|clip|ellipsis|inherit|current|"
    r"transparent|white|black|(?:[a-z]+-)?\d{2,3}|\[[^\]]*\]|[a-z]+-(?:dark|light)(?:est|er)?|"
    r"(?:gray|grey|slate|zinc|neutral|stone|red|blue|green|primary|secondary|muted)(?:-[\w]+)?)$",
    re.I)

#: Strong article-container hints (itemprop or class), checked first.
BODY_HINT = re.compile(
    r"article-?body|articlebody|entry-?content|post-?content|post-?body|story-?body|"
    r"article-?content|article__body|article-?text|story-?content|content-?body|body-?text|"
    r"news-?content|release-?body|rich-?text|article__content|c-entry-content|"
    r"main-?content|articletext|field-?body|post-?entry|td-post-content|single-?content",
    re.I,
)

#: Attribute values / roles that mark navigation or hidden elements.
NEGATIVE_ROLES = frozenset({
    "navigation", "banner", "contentinfo", "complementary", "search", "dialog", "menu",
    "menubar", "toolbar", "alert", "alertdialog",
})

#: Prefixes of link lines that point away from the article ("Related: ...").
LINK_LINE_PREFIX = re.compile(
    r"^\W*(?:related|read more|read also|see also|also read|more|recommended|watch|listen|"
    r"mehr zum thema|lesen sie auch|auch interessant|weiterlesen|lire aussi|à lire aussi)\b",
    re.I)

#: Class/id words of a lead paragraph (standfirst) kept outside the body container.
LEAD = re.compile(r"(?:^|[\s_-])(?:lead|lede|intro|standfirst|strapline|summary|excerpt|"
                  r"abstract|dek|deck|subline|subtitle|sub-?headline|teaser-?text|teaser|"
                  r"article-?lead|vorspann|chapo|bajada|sommario|entradilla)(?:$|[\s_-])",
                  re.I)

#: Of the clutter words, the one a lead may carry (news systems call the standfirst a teaser).
TEASER_LEAD = re.compile(r"teaser", re.I)

#: Links that share the page (share bars), whatever their text.
SHARE_HREF = re.compile(
    r"facebook\.com/shar|twitter\.com/(?:share|intent)|x\.com/intent|^mailto:\?|"
    r"linkedin\.com/(?:share|cws/share)|pinterest\.\w+/pin/create|whatsapp:|wa\.me/|"
    r"api\.whatsapp\.com/send|reddit\.com/submit|t\.me/share|telegram\.me/share|"
    r"xing\.com/(?:app/user\?op=share|spi/shares)|tumblr\.com/share|flipboard\.com/bookmarklet",
    re.I)

#: Short lines that name where a story came from; kept even at the end of the body.
CITED_LINE = re.compile(r"^\W*(?:source|sources|via|h/t|hat tip|quelle|quellen|"
                        r"mit material von|with reporting by|additional reporting)\b", re.I)

#: Short lines that are typical furniture even inside the article container.
FURNITURE_TEXT = re.compile(
    r"^(share( this)?( article| story| post)?|tweet|email|print|advertisement|anzeige|"
    r"werbung|read more|weiterlesen|mehr lesen|continue reading|related( articles| stories)?|"
    r"you (might|may) also like|sign up( for our newsletter)?|subscribe( now)?|follow us|"
    r"comments?|leave a (comment|reply)|back to top|nach oben|tags?:?|share on \w+|"
    r"(?:write|add|post) a comment|join the discussion|kommentare?( schreiben)?|"
    r"kommentieren|diskutieren sie mit|commentaires?|laisser un commentaire|"
    r"click to share.*|loading\.*|skip to (main )?content)$",
    re.I,
)

#: Short lines that label a box beside the story (related links, further reading, contact,
#: tags, back links, reading time, update stamps), in the languages of the feeds we read.
#: Matched against the whole line (without trailing punctuation), only on short lines.
BOX_LABEL = re.compile(
    r"^(?:"
    # German
    r"(?:das|dies|das thema|diese themen?) (?:könnte|könnten) (?:sie|dich|euch) (?:auch |"
    r"ebenfalls )?interessieren|(?:auch|ebenfalls) interessant|lesen sie (?:auch|hier|mehr|"
    r"weiter)\b.*|auch lesen|schon gelesen|zum weiterlesen|lust auf mehr|"
    r"mehr (?:zum thema|zu[mr]?|von|aus|über|artikel|beiträge|news|nachrichten|themen|"
    r"kolumnen)\b.*|weitere (?:beiträge|artikel|themen|nachrichten|meldungen|informationen|"
    r"infos|links|aktuelle|news|tipps|tourentipps)\b.*|weiterführende? (?:links?|"
    r"informationen|infos|literatur)|ähnliche (?:beiträge|artikel|themen|news)|"
    r"zurück(?: zu[rm]?\b.*| zu)?|zu allen (?:beiträgen|artikeln|news|meldungen)|"
    r"alle (?:artikel|beiträge|news|meldungen) (?:zu|zum|von|aus)\b.*|"
    r"(?:presse)?kontakt|ansprechpartner(?:in|innen)?|schlagw(?:orte|örter)|kategorien?|"
    r"markiert mit|diskutieren sie mit(?: uns)?|kommentare geschlossen|keine kommentare|"
    r"\(?noch keine bewertungen\)?|aktualisiert(?: am)?|lesezeit\b.*|rezept drucken|"
    r"artikel drucken|buch bestellen|empfehlungen aus dem\b.*|entdecken sie (?:jetzt|auch|"
    r"mehr)|"
    # English
    r"related(?: \w+){0,3}|explore further|see also|further reading|read (?:also|more|next)|"
    r"more (?:from|on|in|about|stories|articles)\b.*|you (?:may|might) also (?:like|enjoy)|"
    r"recommended(?: for you)?|\d+ min(?:ute)?s? read|photograph by|"
    # Polish, Portuguese, Spanish, French, Italian
    r"zobacz (?:także|też|również)|czytaj (?:też|także|również|więcej)\b.*|"
    r"dowiedz się więcej|\d+ minut(?:y)? czytania|publikacja|"
    r"veja também|leia (?:também|mais)|lee también|(?:te|le) puede interesar|"
    r"(?:notas|noticias|artículos) relacionad[oa]s\b.*|más sobre\b.*|"
    r"à (?:lire|découvrir|voir)(?: aussi)?|lire aussi|sur le même (?:sujet|thème)|"
    r"(?:articles? )?(?:et vidéos )?sur le sujet|leggi anche|potrebbe interessarti|"
    r"ultima modifica|"
    # reader prompts and widgets: sharing, rating, comments, views, permalinks
    r"(?:möchten sie )?(?:den |diesen )?(?:artikel|beitrag) teilen|jetzt teilen|"
    r"war (?:der|dieser) (?:artikel|beitrag) (?:hilfreich|nützlich)|"
    r"was this (?:article|page|post) helpful|info zur bewertung|"
    r"kommentare insgesamt|kommentieren sie|\d+ kommentare?|aufrufe|views?|permalink|"
    r"permalien|externer inhalt|bild (?:anzeigen|vergrößern)|quellen (?:ausblenden|anzeigen)"
    r")$",
    re.I)
#: Lines up to this long are tested against BOX_LABEL.
BOX_LABEL_MAX = 60

#: A line inside the story that promotes another one or the publisher: a "read also" label
#: with a colon before a headline ("Lea también: …", "LESEN SIE AUCH: …"), a subscription or
#: paywall prompt, a "follow us on" line. Only tested on lines up to PROMO_LINE_MAX long.
PROMO_LINE = re.compile(
    r"^\W*(?:(?:read|see|also read|watch|listen|lea|lee|vea|mira|leia|veja|leggi|lesen sie|"
    r"czytaj|zobacz)(?: (?:more|also|next|too|también|más|mais|anche|auch|hier|mehr|też|"
    r"także|więcej))?|related(?: \w+){0,2}|more (?:on|from|about|news|stories|coverage|"
    r"reading|articles)(?: \w+){0,2}|recommended|(?:también )?(?:le|te) "
    r"puede(?:n)? interesar|auch lesen|mehr (?:zum thema|dazu)|weiterlesen|(?:à )?lire aussi|"
    r"à voir aussi|à (?:lire|voir|découvrir)|a ver también)\s*:\s*\S"
    r"|^\W*(?:subscribe (?:now|today|to (?:our|the))|to (?:view|read|continue reading) the "
    r"(?:full|rest of the) (?:story|article)|(?:if you(?:'|’)re|already) a subscriber|"
    r"hazte miembro|suscríbete|jetzt abonnieren|abonnez-vous)\b"
    r"|^\W*(?:follow (?:us|[\w ]{1,40}?) on (?:twitter|facebook|instagram|telegram|x|"
    r"whatsapp|linkedin|tiktok|youtube)|s[ií]guenos en|folgen sie uns (?:auf|bei)|"
    r"suivez-nous sur)\b",
    re.I)
PROMO_LINE_MAX = 250
