"""Small HTTP helpers for signing: header normalisation, URL parts, HTTP dates."""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_tz
from typing import Any, cast

import http_sf

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBER = {name: i + 1 for i, name in enumerate(_MONTHS)}
_IMF_FIXDATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) ([A-Z][a-z][a-z]) (\d{4}) (\d\d):(\d\d):(\d\d) GMT"
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#]*)([^?#]*)(?:\?([^#]*))?")


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased names; repeated fields (multidicts) joined with ", ", values trimmed."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        value = value.strip()
        if key in out:
            out[key] = f"{out[key]}, {value}"
        else:
            out[key] = value
    return out


_last_date: tuple[int, str] = (-1, "")


def format_http_date(now: float) -> str:
    """IMF-fixdate (RFC 9110 section 5.6.7), e.g. 'Sun, 06 Nov 1994 08:49:37 GMT'."""
    global _last_date
    second = int(now)
    if _last_date[0] == second:  # one formatting per second is enough
        return _last_date[1]
    t = time.gmtime(second)
    text = (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )
    _last_date = (second, text)
    return text


def parse_http_date(value: str) -> float | None:
    """POSIX seconds of an HTTP date (IMF-fixdate fast; obsolete forms via email.utils)."""
    m = _IMF_FIXDATE.fullmatch(value)
    if m is not None:
        month = _MONTH_NUMBER.get(m[2])
        day, hour, minute, sec = int(m[1]), int(m[4]), int(m[5]), int(m[6])
        if month is None or not (1 <= day <= 31 and hour < 24 and minute < 60 and sec < 61):
            return None
        days = _days_from_civil(int(m[3]), month, day)
        return float(days * 86400 + hour * 3600 + minute * 60 + sec)
    parsed = parsedate_tz(value)
    if parsed is None:
        return None
    try:
        return float(calendar.timegm(parsed[:6]) - (parsed[9] or 0))
    except (ValueError, OverflowError):
        return None


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 (H. Hinnant's algorithm), without building a struct_time."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@dataclass(slots=True)  # not frozen: a frozen __init__ costs microseconds per call
class UrlParts:
    scheme: str
    authority: str  # as written (host[:port])
    path: str  # "" when absent
    query: str | None  # None when there is no "?"

    # The properties delegate to functions, which scripts/mutation can mutate (not properties).
    @property
    def path_query(self) -> str:
        return _path_query(self.path, self.query)

    @property
    def normalised_authority(self) -> str:
        """RFC 9421 @authority: lower-case host, default port dropped."""
        return _normalised_authority(self.scheme, self.authority)


def _path_query(path: str, query: str | None) -> str:
    path = path or "/"
    return path if query is None else f"{path}?{query}"


def _normalised_authority(scheme: str, authority: str) -> str:
    host, sep, port = authority.rpartition(":")
    if not sep or "]" in port:
        return authority.lower()
    if _DEFAULT_PORTS.get(scheme) == port:
        return host.lower()
    return f"{host.lower()}:{port}"


def split_url(url: str, host: str | None = None) -> UrlParts:
    """Split an absolute URL (or a path, using `host`) without decoding anything."""
    if url.startswith("/"):
        path, sep, query = url.partition("#")[0].partition("?")
        return UrlParts("https", host or "", path, query if sep else None)
    m = _URL.match(url)
    if m is None:
        raise ValueError("not an absolute URL")
    return UrlParts(m[1].lower(), m[2], m[3], m[4])


def parse_sf_dictionary(value: str) -> dict[str, Any] | None:
    """An RFC 8941 dictionary (duplicate keys refused), or None when the value is invalid."""

    def duplicate(key: str, context: str) -> None:
        raise ValueError(f"duplicate {context} key {key}")

    try:
        parsed = http_sf.parse(
            value.encode("ascii"), tltype="dictionary", on_duplicate_key=duplicate
        )
    except Exception:  # the parser signals bad input in several ways; all mean invalid
        return None
    return cast(dict[str, Any], parsed)
