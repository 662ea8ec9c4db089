"""Dates from metadata values, visible datelines and URLs; always timezone-aware."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTHS = {
    # English
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4,
    "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11,
    "november": 11, "dec": 12, "december": 12,
    # German
    "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "maerz": 3, "mai": 5, "juni": 6,
    "juli": 7, "oktober": 10, "okt": 10, "dezember": 12, "dez": 12,
    # French
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "juin": 6,
    "juillet": 7, "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "décembre": 12, "decembre": 12,
}
_MONTH_RE = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))

_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2}|[+-]\d{2}(?!\d)|UTC|GMT)?)?")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T?(\d{2})(\d{2})(\d{2})?)?(Z)?$")
_TIME = re.compile(r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?\s*([ap]\.?m\.?)?"
                   r"(?:\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2}|[A-Z]{1,4}T|MEZ|MESZ)\b)?", re.I)
_MDY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
_DMY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\.?\s+(?:of\s+)?({_MONTH_RE})\.?,?\s+(\d{{4}})\b",
                  re.I)
_NUMERIC_DMY = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
_SLASH = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|-|$|\D)")
_URL_DATE_COMPACT = re.compile(r"[/-]((?:19|20)\d{2})(\d{2})(\d{2})[/-]")
_ZONES = {"UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7,
          "MDT": -6, "PST": -8, "PDT": -7, "BST": 1, "CET": 1, "CEST": 2, "MEZ": 1, "MESZ": 2,
          "EET": 2, "EEST": 3, "JST": 9, "IST": 5.5, "AEST": 10, "AEDT": 11}


#: Zone names whose offset depends on the date (daylight saving time).
_REGIONS = {"ET": "America/New_York", "EST": "America/New_York", "EDT": "America/New_York",
            "CT": "America/Chicago", "PT": "America/Los_Angeles", "MT": "America/Denver",
            "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles",
            "CST": "America/Chicago", "CDT": "America/Chicago", "UK": "Europe/London",
            "CET": "Europe/Berlin", "CEST": "Europe/Berlin", "MEZ": "Europe/Berlin",
            "MESZ": "Europe/Berlin"}


def _zone(token: str | None) -> tzinfo | None:
    if not token:
        return None
    token = token.strip()
    upper = token.upper()
    if upper in _REGIONS:
        try:
            return ZoneInfo(_REGIONS[upper])
        except ZoneInfoNotFoundError:
            pass
    if upper in _ZONES:
        return timezone(timedelta(hours=_ZONES[upper]))
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})?", token)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0))
        return timezone(sign * delta)
    return None


def _make(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
          tz: tzinfo | None = None) -> datetime | None:
    if not 1990 <= year <= 2100:
        return None
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=tz)  # naive: no zone
    except ValueError:
        return None


def parse_date(value: str | None) -> datetime | None:
    """A timezone-aware datetime from a machine or human date string (UTC if no zone)."""
    return parse_date_zone(value)[0]


def parse_date_zone(value: str | None) -> tuple[datetime | None, bool]:
    """parse_date, and whether the string named its zone (False: UTC was assumed)."""
    if not value:
        return None, False
    dt = _parse(value)
    if dt is None:
        return None, False
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC), False
    if not isinstance(dt.tzinfo, timezone):  # a region (ET, CET): its offset on that day
        offset = dt.utcoffset()
        dt = dt.replace(tzinfo=timezone(offset) if offset is not None else UTC)
    return dt, True


def _parse(value: str) -> datetime | None:
    if not value:
        return None
    value = value.strip()
    if not value or len(value) > 200:
        return None
    m = _ISO.search(value)
    if m:
        y, mo, d, h, mi, s, z = m.groups()
        return _make(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), _zone(z))
    m = _COMPACT.match(value)
    if m:
        y, mo, d, h, mi, s, _z = m.groups()
        return _make(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
    if re.match(r"^(?:\w{3},\s*)?\d{1,2}\s+\w{3}\s+\d{4}\s+\d", value):
        try:
            dt = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            dt = None
        if dt is not None:
            return dt
    return _visible(value)


def parse_visible_date(text: str) -> datetime | None:
    """A date written for people: "May 31, 2012 10:04 am EDT", "31. Mai 2012", "31.05.2012"."""
    if not text or len(text) > 300:
        return None
    return parse_date_zone_visible(text)[0]


def parse_date_zone_visible(text: str) -> tuple[datetime | None, bool]:
    dt = _visible(text)
    if dt is None:
        return None, False
    return parse_date_zone(dt.isoformat())


def _visible(text: str) -> datetime | None:
    date = None
    end = 0
    for regex, order in ((_MDY, "mdy"), (_DMY, "dmy"), (_NUMERIC_DMY, "num"),
                         (_SLASH, "slash")):
        m = regex.search(text)
        if not m:
            continue
        a, b, c = m.groups()
        if order == "mdy":
            month, day, year = _MONTHS.get(a.lower().rstrip(".")), int(b), int(c)
        elif order == "dmy":
            day, month, year = int(a), _MONTHS.get(b.lower().rstrip(".")), int(c)
        elif order == "num":
            day, month, year = int(a), int(b), int(c)
        else:  # m/d/yyyy (US) unless impossible
            month, day, year = int(a), int(b), int(c)
            if month > 12:
                month, day = day, month
        if month:
            date = (year, month, day)
            end = m.end()
            break
    if date is None:
        return None
    hour = minute = second = 0
    tz = None
    t = _TIME.search(text, end, end + 40) if end else None
    if t:
        hour, minute = int(t.group(1)), int(t.group(2))
        second = int(t.group(3) or 0)
        ampm = (t.group(4) or "").lower().replace(".", "")
        if ampm == "pm" and hour < 12:
            hour += 12
        elif ampm == "am" and hour == 12:
            hour = 0
        tz = _zone(t.group(5))
        if hour > 23 or minute > 59:
            hour = minute = second = 0
    return _make(*date, hour, minute, second, tz)


def date_from_url(url: str) -> datetime | None:
    """The date in paths like /2024/03/05/slug or /20240305-slug."""
    m = _URL_DATE.search(url) or _URL_DATE_COMPACT.search(url)
    if not m:
        return None
    return _make(int(m.group(1)), int(m.group(2)), int(m.group(3)), tz=UTC)
