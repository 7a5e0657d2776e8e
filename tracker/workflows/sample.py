"""Sample data for the demo: the weekly sheets of January–June 2023, as the district clerks would fill them.

:func:`generate_sample_sheets` writes one upload workbook per district and week (from the same template
writer as `tracker template`), consistent with the six-month report of Cluster No. 1 (docs/outputs.md §6) at
30/06/2023: new grassroots unions LB 16, HBT 19, BD 15; new collective agreements LB 11, DD 21, HK 16;
all six districts finished their congresses by 31/05 — HM, LB, HK and DD well ahead of plan, HBT and BD
on the deadline day itself (each sends an extra sheet as of Wednesday 31/05); several districts past a
registered target (DD and HK agreements, HK new members, every congress target).

Like real weeks, not every file is right the first time: four sheets are rejected (a date typed
31/06/2023, ``12,5`` typed in a count, the name of a district of another cluster, a ``#N/A`` pasted from
a lookup) and each is sent again corrected; one sheet lowers a figure reported the week before (a
correction, accepted with a warning); one leaves an indicator blank; one is sent on Saturday morning,
after the Friday 17:00 deadline (late); Hoàn Kiếm forgets to report one week; and Hoàng Mai has not
reported the last week (26) yet, so the weekly e-mail names it and the reminders go to it.

When each file "arrived" is its modification time, which the inbox pull takes as the reception time.
The bytes are deterministic (fixed zip and document timestamps), so running the demo twice finds every
file "already received". The figures come from a seeded random walk: plausible weekly growth, slower in
the Tết weeks, congresses concentrated before the deadline.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from tracker.config import Settings
from tracker.context import Context
from tracker.intake.inbox import touch
from tracker.intake.template import DATE_CELL, DISTRICT_CELL, Previous, build_template, ytd_cell
from tracker.text import format_date
from tracker.workflows.pull import pull

FIRST_WEEK = date(2023, 1, 6)
LAST_WEEK = date(2023, 6, 30)
TET_WEEKS = {date(2023, 1, 20), date(2023, 1, 27)}

# The figures as of 30/06/2023. The ones named in docs/outputs.md §6 are exact; the others are plausible.
FACTS: dict[str, dict[str, float]] = {
    "HBT": {"new_unions": 19, "agreements": 9, "new_members": 1350, "union_fees": 2280.5},
    "HM": {"new_unions": 17, "agreements": 12, "new_members": 1720, "union_fees": 1950.0},
    "BD": {"new_unions": 15, "agreements": 7, "new_members": 980, "union_fees": 1760.2},
    "LB": {"new_unions": 16, "agreements": 11, "new_members": 1460, "union_fees": 1690.0},
    "HK": {"new_unions": 11, "agreements": 16, "new_members": 1560, "union_fees": 2410.8},
    "DD": {"new_unions": 18, "agreements": 21, "new_members": 1510, "union_fees": 2890.4},
}
# The Friday by which each district had completed all its congresses (the target of `congresses`).
# HBT and BD finish on the deadline day (a Wednesday) and send an extra sheet as of that day.
CONGRESSES_DONE = {"HK": date(2023, 4, 14), "HM": date(2023, 4, 21), "LB": date(2023, 4, 28),
                   "DD": date(2023, 5, 5), "HBT": date(2023, 5, 31), "BD": date(2023, 5, 31)}
SHORT_BEFORE_DONE = 3.0  # congresses still to hold on the Friday before a mid-week finish
# Local time at which each district usually sends its sheet on Friday.
SEND_TIME = {"HBT": time(10, 15), "HM": time(15, 30), "BD": time(16, 20), "LB": time(9, 5), "HK": time(11, 20),
             "DD": time(14, 0)}
FILLS_PERIOD = {"HBT", "LB", "DD"}  # these clerks also fill "Thực hiện trong kỳ"

FORGOTTEN = {("HK", date(2023, 2, 24)), ("HM", date(2023, 6, 30))}
LATE = {("BD", date(2023, 4, 14)): datetime(2023, 4, 15, 8, 30)}  # sent Saturday morning
BLANK = {("BD", date(2023, 2, 10), "union_fees"): "Chưa có số liệu từ bộ phận tài chính"}
# (district, week, indicator): the figure reported one too high, corrected the following week.
OVERSTATED = ("HBT", date(2023, 5, 12), "agreements")
CORRECTION_NOTE = "Đính chính: 1 thỏa ước báo cáo tuần trước chưa đủ điều kiện đăng ký, đã trừ ra"


@dataclass(frozen=True)
class Mistake:
    district: str
    week: date
    kind: str  # date | fraction | district | na
    indicator: str | None = None


MISTAKES = (
    Mistake("BD", date(2023, 3, 24), "fraction", "new_unions"),
    Mistake("HK", date(2023, 3, 10), "district"),
    Mistake("DD", date(2023, 4, 28), "na", "union_fees"),
    Mistake("HM", date(2023, 6, 9), "date"),
)


@dataclass
class SampleSheet:
    """One file a clerk sends."""

    district: str
    week: date
    received: datetime  # aware
    name: str
    figures: dict[str, float | None]
    periods: dict[str, float | None] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    mistake: Mistake | None = None


def weeks() -> list[date]:
    out, day = [], FIRST_WEEK
    while day <= LAST_WEEK:
        out.append(day)
        day += timedelta(days=7)
    return out


def _final(settings: Settings, code: str, key: str) -> float:
    ind = settings.indicator(key)
    target = settings.targets.get(code, {}).get(key)
    if ind.deadline and target is not None:
        return target
    if key in FACTS.get(code, {}):
        return FACTS[code][key]
    if target is not None:  # a config with other indicators or districts: about half-way at mid-year
        return round(target * 0.5, 0 if ind.kind == "count" else 1)
    return 10.0


def series(settings: Settings, code: str, key: str) -> list[float]:
    """The true year-to-date figure of each Friday (a seeded random walk ending at the final value)."""
    ind = settings.indicator(key)
    rng = random.Random(f"{settings.cluster.id}/{code}/{key}")
    days = weeks()
    done = CONGRESSES_DONE.get(code, date(2023, 5, 26)) if ind.deadline else LAST_WEEK
    weights = []
    for day in days:
        if day > done:
            weights.append(0.0)
            continue
        w = rng.uniform(0.8, 1.2)
        if day in TET_WEEKS:
            w *= 0.4
        if ind.deadline and day.month in (3, 4):
            w *= 1.4  # the congress season
        weights.append(w)
    total, running, out = sum(weights), 0.0, []
    final = _final(settings, code, key)
    # Finished mid-week (not on a Friday): the Friday before is still a few short of the final figure.
    short = SHORT_BEFORE_DONE if ind.deadline and done not in days else 0.0
    for day, w in zip(days, weights, strict=True):
        running += w
        value = final if day > done else (final - short) * running / total
        out.append(float(round(value)) if ind.kind == "count" else round(value, 1))
    out[-1] = final
    return out


def midweek_finish(settings: Settings, code: str) -> tuple[date, str] | None:
    """(day, indicator) when ``code`` finishes a deadline indicator mid-week and sends a sheet that day."""
    for ind in settings.indicators:
        done = CONGRESSES_DONE.get(code)
        if ind.deadline and done is not None and done.weekday() != 4 and FIRST_WEEK <= done <= LAST_WEEK:
            return done, ind.key
    return None


def _file_name(code: str, week: date, number: int, again: bool) -> str:
    suffix = {"HBT": " (sửa)", "HM": " - ban sua", "BD": "_lan2", "LB": " (gửi lại)", "HK": " sua", "DD": "_v2"}
    names = {
        "HBT": f"BC_thi_dua_HBT_{week:%d.%m.%Y}",
        "HM": f"Hoang Mai - bao cao tuan {number}",
        "BD": f"BaDinh_{week:%Y%m%d}",
        "LB": f"LĐLĐ Long Biên tuần {number:02d}",
        "HK": f"HK {week:%d-%m}",
        "DD": f"Đống Đa_BC tiến độ_{week:%d.%m}",
    }
    base = names.get(code, f"{code}_{week.isoformat()}")
    return base + (suffix.get(code, "_2") if again else "") + ".xlsx"


def plan(settings: Settings) -> list[SampleSheet]:
    """Every file the clerks send, in no particular order (each knows when it was received)."""
    tz = settings.tz
    keys = [i.key for i in settings.indicators]
    truth = {(d.code, k): series(settings, d.code, k) for d in settings.districts for k in keys}
    out: list[SampleSheet] = []
    for d in settings.districts:
        code = d.code
        last: dict[str, float] = {}  # what the district last reported (accepted) per indicator
        for n, week in enumerate(weeks()):
            if (code, week) in FORGOTTEN:
                continue
            figures: dict[str, float | None] = {k: truth[(code, k)][n] for k in keys}
            notes: dict[str, str] = {}
            if (code, week, OVERSTATED[2]) == OVERSTATED and OVERSTATED[2] in figures:
                # over-reported by one this week; the next week's true figure is not higher
                figures[OVERSTATED[2]] = truth[(code, OVERSTATED[2])][n + 1] + 1
            if code == OVERSTATED[0] and week == OVERSTATED[1] + timedelta(days=7):
                notes[OVERSTATED[2]] = CORRECTION_NOTE
            for (bc, bw, bk), note in BLANK.items():
                if (bc, bw) == (code, week) and bk in figures:
                    figures[bk], notes[bk] = None, note
            periods: dict[str, float | None] = {}
            if code in FILLS_PERIOD:
                for k, v in figures.items():
                    if v is not None:
                        periods[k] = round(v - last.get(k, 0.0), 1)
            sent = LATE.get((code, week)) or datetime.combine(week, SEND_TIME.get(code, time(10, 0)))
            sent = sent.replace(tzinfo=tz) + timedelta(minutes=random.Random(f"{code}{week}").randint(0, 25))
            number = week.isocalendar().week
            mistake = next((m for m in MISTAKES if (m.district, m.week) == (code, week)), None)
            if mistake is not None:
                out.append(SampleSheet(code, week, sent, _file_name(code, week, number, False), dict(figures),
                                       dict(periods), dict(notes), mistake))
                sent += timedelta(minutes=75)
            out.append(SampleSheet(code, week, sent, _file_name(code, week, number, mistake is not None), figures,
                                   periods, notes))
            last.update({k: v for k, v in figures.items() if v is not None})
            extra = midweek_finish(settings, code)
            if extra is not None and week < extra[0] < week + timedelta(days=7):
                day, key = extra
                figures = {**figures, key: _final(settings, code, key)}
                periods = {k: round(v - last.get(k, 0.0), 1) for k, v in figures.items()
                           if v is not None} if code in FILLS_PERIOD else {}
                sent = datetime.combine(day, SEND_TIME.get(code, time(10, 0))).replace(tzinfo=tz)
                out.append(SampleSheet(code, day, sent, _file_name(code, day, day.isocalendar().week, False),
                                       figures, periods, {}))
                last.update({k: v for k, v in figures.items() if v is not None})
    return out


def _previous(settings: Settings, sheets: list[SampleSheet], sheet: SampleSheet):
    """What the template shows in "Lũy kế kỳ trước": the district's last accepted figures before the week."""
    out: dict[str, Previous] = {}
    for s in sorted((s for s in sheets if s.district == sheet.district and s.week < sheet.week
                     and s.mistake is None), key=lambda s: s.week):
        for k, v in s.figures.items():
            if v is not None:
                out[k] = Previous(s.week, v)
    return out


def render(settings: Settings, sheet: SampleSheet, previous) -> bytes:
    """The workbook the clerk sends: the template, filled in (mistakes included)."""
    figures: dict[str, float | str | None] = dict(sheet.figures)
    m = sheet.mistake
    if m is not None and m.kind == "fraction" and m.indicator:
        figures[m.indicator] = f"{int(sheet.figures[m.indicator] or 0)},5"
    targets = settings.targets.get(sheet.district, {})
    data = build_template(settings, sheet.district, sheet.week, targets=targets, previous=previous,
                          figures=figures, periods=sheet.periods, notes=sheet.notes)
    if m is not None and m.kind in ("date", "district", "na"):
        data = _edit(data, m, settings)
    return stable_bytes(data, sheet.received)


def _edit(data: bytes, m: Mistake, settings: Settings) -> bytes:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    ws = wb["Báo cáo"]
    if m.kind == "date":
        ws[DATE_CELL] = f"31/{m.week:%m/%Y}"  # typed as text: a day that does not exist
    elif m.kind == "district":
        ws[DISTRICT_CELL] = "LĐLĐ quận Tây Hồ"  # the file of a neighbour in another cluster, reused
    elif m.kind == "na" and m.indicator:
        ws[ytd_cell(settings, m.indicator)] = "#N/A"
        ws[ytd_cell(settings, m.indicator)].data_type = "e"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_CORE_TIME = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def stable_bytes(data: bytes, when: datetime) -> bytes:
    """The same bytes for the same content: zip entry times and document times set to ``when``."""
    stamp = when.astimezone(UTC).replace(tzinfo=None)
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _CORE_TIME.sub(rb"\g<1>" + iso + rb"\g<2>", content)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, content)
    return buf.getvalue()


def generate_sample_sheets(settings: Settings, folder: Path) -> list[Path]:
    """Write every sample file into ``folder``; each file's modification time is when it was sent."""
    folder.mkdir(parents=True, exist_ok=True)
    sheets = plan(settings)
    paths = []
    for sheet in sorted(sheets, key=lambda s: s.received):
        path = folder / sheet.name
        path.write_bytes(render(settings, sheet, _previous(settings, sheets, sheet)))
        touch(path, sheet.received)
        paths.append(path)
    return paths


def demo_step(ctx: Context) -> str:
    """Generate the sample sheets into the inbox and pull them; a short summary in Vietnamese."""
    settings = ctx.settings
    paths = generate_sample_sheets(settings, settings.paths.inbox)
    report = pull(ctx)
    warnings = sum(len(i.result.warnings) for i in report.items if i.result and i.result.status == "accepted")
    lines = [
        f"Dữ liệu mẫu: {len(paths)} bảng tính báo cáo tuần của {len(settings.districts)} đơn vị "
        f"({format_date(FIRST_WEEK)}–{format_date(LAST_WEEK)}) đặt vào {settings.paths.inbox} và được nhận: "
        f"{report.accepted} chấp nhận, {report.duplicate} đã nhận trước đó, {report.rejected} bị từ chối, "
        f"{report.failed} lỗi xử lý; {warnings} cảnh báo.",
    ]
    for item in report.items:
        r = item.result
        if r is not None and r.status == "rejected" and r.errors:
            lines.append(f"  Bị từ chối: {r.file_name} — {r.errors[0].text('vi')}")
    if report.rejected:
        lines.append(f"  Tệp bị từ chối, báo cáo lỗi và bản đánh dấu ô lỗi: {settings.paths.quarantine}")
    for item in report.items:
        r = item.result
        if r is not None and r.status == "accepted":
            for w in r.warnings:
                lines.append(f"  Cảnh báo: {r.file_name} — {w.text('vi')}")
    return "\n".join(lines)


AMENDED = ("LB", LAST_WEEK, "new_unions")  # the unit, date and indicator of the demo's amendment after close
AMENDMENT_NOTE = "Bổ sung 01 CĐCS thành lập ngày 30/06, quyết định công nhận về muộn"


def amendment_sheet(settings: Settings, folder: Path, when: datetime) -> Path:
    """The demo's amendment after the close: Long Biên sends its 30/06 sheet again at ``when`` with one more
    new grassroots union (the same template, the same clerk's way of filling it)."""
    code, week, key = AMENDED
    sheets = plan(settings)
    sent = [s for s in sheets if (s.district, s.week) == (code, week) and s.mistake is None][-1]
    figures = {**sent.figures, key: (sent.figures[key] or 0) + 1}
    periods = {**sent.periods, key: (sent.periods.get(key) or 0) + 1} if sent.periods else {}
    again = SampleSheet(code, week, when, f"{code} - Báo cáo tuần {week.isocalendar().week} (bổ sung sau chốt).xlsx",
                        figures, periods, {**sent.notes, key: AMENDMENT_NOTE})
    path = folder / again.name
    folder.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render(settings, again, _previous(settings, sheets, sent)))
    touch(path, when)
    return path
