"""Sample data for the demo: last year's figures of Cluster No. 1 as a summary workbook (`tracker history import`).

SAMPLE DATA, not real figures. :func:`build_history_workbook` writes what a cluster that starts using the
tracker has of the year before: one row per unit, indicator and Sunday of the year (a ``Dữ liệu`` sheet with
``Mã đơn vị``, ``Đơn vị``, ``Mã chỉ tiêu``, ``Chỉ tiêu``, ``Số liệu đến ngày``, ``Luỹ kế từ đầu năm``,
docs/sheet-format.md §15). Year-to-date figures grow week by week (slower in the Tết weeks), each unit and
indicator reaching between 80 % and 110 % of its target of the year after (the config's targets) by 31
December; congresses, held before the congress deadline, stop growing after it. Seeded: the bytes are the
same every time (fixed document timestamps), so importing them twice finds them "already received".
"""

from __future__ import annotations

import io
import random
import zipfile
from datetime import date, datetime, timedelta

from tracker.config import Settings

TET_2022 = (date(2022, 1, 30), date(2022, 2, 6))  # the Sundays around Tết Nhâm Dần (1 February 2022)
_FIXED = datetime(2023, 1, 3, 8, 0)


def sundays(year: int) -> list[date]:
    """Every Sunday of ``year``, and 31 December when it is not one (the year's last figure)."""
    day = date(year, 1, 1)
    day += timedelta(days=(6 - day.weekday()) % 7)
    out = []
    while day.year == year:
        out.append(day)
        day += timedelta(days=7)
    if out[-1] != date(year, 12, 31):
        out.append(date(year, 12, 31))
    return out


def history_figures(settings: Settings, year: int, *, seed: int = 2022) -> list[tuple[str, str, date, float]]:
    """(unit code, indicator key, as-of date, year to date) for every unit, indicator and Sunday of ``year``."""
    rng = random.Random(seed)
    days = sundays(year)
    rows = []
    for d in settings.districts:
        for ind in settings.indicators:
            target = settings.targets.get(d.code, {}).get(ind.key) or 10.0
            final = target * rng.uniform(0.8, 1.1)
            deadline = None
            if ind.deadline:
                month, dd = (int(x) for x in ind.deadline.split("-"))
                deadline = date(year, month, dd) - timedelta(days=rng.randint(0, 40))
            weights = [_weight(day, deadline, rng) for day in days]
            total, running = sum(weights), 0.0
            for day, w in zip(days, weights, strict=True):
                running += w
                value = final * running / total
                rows.append((d.code, ind.key, day, float(round(value)) if ind.kind == "count" else round(value, 1)))
    return rows


def _weight(day: date, deadline: date | None, rng: random.Random) -> float:
    """How much of the year's work a week holds: none after the unit's last congress, little around Tết."""
    if deadline is not None and day > deadline:
        return 0.0
    base = rng.uniform(0.6, 1.4)
    return base * 0.3 if day in TET_2022 else base


def build_history_workbook(settings: Settings, year: int) -> bytes:
    """The summary workbook of ``year`` (.xlsx bytes, the same every time)."""
    from openpyxl import Workbook

    names = {d.code: d.name for d in settings.districts}
    labels = {i.key: i.label for i in settings.indicators}
    wb = Workbook()
    ws = wb.active
    ws.title = "Dữ liệu"
    ws.append(["Mã đơn vị", "Đơn vị", "Mã chỉ tiêu", "Chỉ tiêu", "Số liệu đến ngày", "Luỹ kế từ đầu năm"])
    for code, key, day, value in history_figures(settings, year):
        ws.append([code, names[code], key, labels[key], day, value])
        ws.cell(row=ws.max_row, column=5).number_format = "DD/MM/YYYY"
    for col, width in zip("ABCDEF", (10, 26, 14, 34, 14, 16), strict=True):
        ws.column_dimensions[col].width = width
    wb.properties.created = wb.properties.modified = _FIXED
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip(buf.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same bytes every run: fixed timestamps on the zip entries and in the document properties."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2023, 1, 3, 8, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            part = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                import re

                part = re.sub(rb"<dcterms:(created|modified)([^>]*)>[^<]*<", rb"<dcterms:\1\2>2023-01-03T08:00:00Z<",
                              part)
            target.writestr(fixed, part)
    return out.getvalue()
