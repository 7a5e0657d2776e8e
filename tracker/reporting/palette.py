"""One colour per progress status, used by every output (charts, workbook, e-mail, slides, PDF).

A status is recognised by its colour in every report, so the colours live here and nowhere else.
Strong colours are for bars and markers; light fills are for table cells with dark text on top
(readable on a projector and in print). Green / blue / amber / red are told apart by most
colour-blind readers too, and every coloured cell also carries its status in words somewhere.
"""

from __future__ import annotations

from tracker.progress import STATUSES, Reporting, Status

# Strong colour (bars, lines, legend swatches).
STRONG: dict[Status, str] = {
    "achieved": "#2E7D32",  # green
    "on_track": "#1565C0",  # blue
    "behind": "#EF8F00",  # amber
    "at_risk": "#C62828",  # red
    "no_data": "#757575",  # grey
    "no_target": "#9E9E9E",  # light grey
}

# Light fill for table cells (dark text stays readable on it).
FILL: dict[Status, str] = {
    "achieved": "#C8E6C9",
    "on_track": "#BBDEFB",
    "behind": "#FFE0A3",
    "at_risk": "#FFCDD2",
    "no_data": "#EEEEEE",
    "no_target": "#F5F5F5",
}

# Text drawn on a light fill.
INK: dict[Status, str] = {
    "achieved": "#1B5E20",
    "on_track": "#0D47A1",
    "behind": "#7A4500",
    "at_risk": "#8E0000",
    "no_data": "#424242",
    "no_target": "#616161",
}

# A district's reporting this week borrows the colours of the progress statuses.
REPORTING: dict[Reporting, Status] = {
    Reporting.on_time: "achieved",
    Reporting.late: "behind",
    Reporting.missing: "at_risk",
}

TARGET_GREY = "#CFD8DC"  # the "target" bar behind an actual bar
LAST_YEAR_FILL = "#FFFFFF"  # the "same period last year" bar: white, hatched, with a dark edge
LAST_YEAR_EDGE = "#546E7A"
EXPECTED_LINE = "#37474F"  # the "where you should be by now" marker
HEADER_FILL = "#1F3864"  # table headers (white text)
HEADER_INK = "#FFFFFF"
TOTAL_FILL = "#E8EAF6"  # the cluster-total row

# One colour per indicator, for line charts where the status is not the point.
SERIES = ("#1565C0", "#2E7D32", "#C62828", "#6A1B9A", "#EF8F00", "#00838F", "#5D4037", "#AD1457")

assert set(STRONG) == set(FILL) == set(INK) == set(STATUSES)
assert set(REPORTING) == set(Reporting)


def argb(hex_colour: str) -> str:
    """``#2E7D32`` → ``FF2E7D32`` (openpyxl colours)."""
    return "FF" + hex_colour.lstrip("#").upper()


def rgb_tuple(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
