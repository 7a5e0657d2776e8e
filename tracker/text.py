"""Text helpers shared by every part that reads or shows Vietnamese text.

Pure functions, no heavy imports: matching of labels typed by people, and the Vietnamese way of
writing numbers (``1.234,5``) and dates (``dd/mm/yyyy``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime

_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    """Text as NFC, the form every user-visible string takes."""
    return unicodedata.normalize("NFC", text)


def fold(text: object) -> str:
    """A matching key: casefolded, without diacritics (Đ → d), spaces collapsed, trailing colon dropped.

    ``fold("  Số liệu tính\u00a0đến ngày: ") == fold("SO LIEU TINH DEN NGAY")``.
    """
    if text is None:
        return ""
    s = unicodedata.normalize("NFD", str(text))
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    s = s.replace("Đ", "D").replace("đ", "d").replace("Ð", "D").replace("ð", "d")
    s = _SPACES.sub(" ", s.replace("\u00a0", " ")).strip()
    s = s.rstrip(":").strip()
    return s.casefold()


def format_number(value: float | int | None, decimals: int | None = None) -> str:
    """``1234.5`` → ``1.234,5`` (Vietnamese grouping and decimal comma).

    ``decimals=None`` shows whole numbers without decimals and others with up to 2.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if decimals is None:
        rounded = round(float(value), 2)
        text = f"{rounded:,.0f}" if rounded.is_integer() else f"{rounded:,.2f}".rstrip("0")
    else:
        text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def format_percent(value: float | None, decimals: int = 1) -> str:
    """``53.333`` → ``53,3%``."""
    if value is None:
        return "—"
    return f"{format_number(round(value, decimals), decimals)}%"


def format_date(value: date | datetime | None) -> str:
    """``date(2023, 6, 30)`` → ``30/06/2023``."""
    if value is None:
        return "—"
    return value.strftime("%d/%m/%Y")


WEEKDAYS_VI = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")


def weekday_vi(iso_weekday: int) -> str:
    """``5`` → ``thứ Sáu`` (ISO numbering, 1 = Monday), as written inside a sentence."""
    return WEEKDAYS_VI[iso_weekday - 1]


def format_datetime(value: datetime | None) -> str:
    """``30/06/2023 17:05`` (the caller converts to local time first)."""
    if value is None:
        return "—"
    return value.strftime("%d/%m/%Y %H:%M")


_DATE_DMY = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def parse_date(text: str) -> date | None:
    """A date typed the Vietnamese way (day first: ``05/06/2023`` is 5 June) or ISO ``yyyy-mm-dd``.

    Returns None when the text is not a valid date.
    """
    s = _SPACES.sub(" ", str(text).replace("\u00a0", " ")).strip()
    if " " in s and _DATE_ISO.match(s.split(" ")[0]):  # "2023-06-05 00:00:00"
        s = s.split(" ")[0]
    try:
        if m := _DATE_DMY.match(s):
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if m := _DATE_ISO.match(s):
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return None


_NUM_VI = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")  # 1.234 or 1.234,5
_NUM_COMMA = re.compile(r"^[+-]?\d+,\d+$")  # 1234,5
_NUM_PLAIN = re.compile(r"^[+-]?\d+(\.\d+)?$")  # 1234 or 1234.5
_NUM_EN = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")  # 1,234.5 (accepted: Excel in English)


def parse_number(text: str) -> float | None:
    """A number typed as text, Vietnamese first: ``1.234`` = 1234, ``1.234,5`` = 1234.5, spaces allowed.

    ``12.5`` (one group of fewer than three digits after the point) is read as 12.5. Returns None for
    anything that is not a number.
    """
    s = str(text).replace("\u00a0", "").replace(" ", "").replace("\u202f", "")
    if not s:
        return None
    if _NUM_VI.match(s):
        return float(s.replace(".", "").replace(",", "."))
    if _NUM_COMMA.match(s):
        return float(s.replace(",", "."))
    if _NUM_PLAIN.match(s):
        return float(s)
    if _NUM_EN.match(s):
        return float(s.replace(",", ""))
    return None


def format_change(value: float | int | None, decimals: int | None = None) -> str:
    """A change this week as people write it: ``+3``, ``-2,5``; ``—`` when there is none (null or 0)."""
    if value is None or value == 0 or (isinstance(value, float) and math.isnan(value)):
        return "—"
    text = format_number(abs(value), decimals)
    return ("+" if value > 0 else "-") + text


def format_rank_change(value: int | None) -> str:
    """Rank movement: ``▲2`` (moved up 2 places), ``▼1`` (down 1), empty when unchanged or unknown."""
    if not value:
        return ""
    return f"▲{value}" if value > 0 else f"▼{-value}"
