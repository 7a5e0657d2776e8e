"""The words every report shares: status labels, subjects, figures, the rules paragraph.

Pure functions over plain data; week keys and short names are :mod:`tracker.calendar`'s. Numbers and
dates are written with ``tracker.text`` (1.234,5 and dd/mm/yyyy); every string returned is NFC.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from tracker.calendar import cluster_short_name, iso_week
from tracker.progress import (
    STATUSES,
    ClusterProgress,
    IndicatorSpec,
    Rules,
    Status,
    deadline_date,
    rules_text,
    status_label,
)
from tracker.reporting.data import AmendmentRow, ClosedFigures
from tracker.text import format_date, format_number, format_percent, nfc, weekday_vi

STATUS_VI: dict[Status, str] = {s: status_label(s, "vi") for s in STATUSES}


def weekly_subject(cluster_name: str, as_of: date) -> str:
    """``[Cụm thi đua số 1] Báo cáo tiến độ tuần 26/2023 (số liệu đến 30/06/2023)``."""
    year, week = iso_week(as_of)
    return nfc(f"[{cluster_short_name(cluster_name)}] Báo cáo tiến độ tuần {week}/{year} "
               f"(số liệu đến {format_date(as_of)})")


def review_subject(cluster_name: str, period_title: str, as_of: date) -> str:
    """``[Cụm thi đua số 1] Tài liệu sơ kết 6 tháng đầu năm 2023 (số liệu đến 30/06/2023)``."""
    return nfc(f"[{cluster_short_name(cluster_name)}] Tài liệu {period_title} (số liệu đến {format_date(as_of)})")


def value_text(value: float | None, spec: IndicatorSpec) -> str:
    """A figure as people write it: counts whole, amounts with up to one decimal."""
    if value is None:
        return "—"
    return format_number(value, 0 if spec.kind == "count" else None)


def projection_text(value: float | None, spec: IndicatorSpec, year: int) -> str:
    """``dự báo cả năm đạt 12`` / ``dự báo đến hạn 31/05/2023 đạt 40``: the engine's run-rate, rounded."""
    if value is None:
        return ""
    when = f"đến hạn {format_date(deadline_date(year, spec.deadline))}" if spec.deadline else "cả năm"
    return f"theo nhịp hiện tại, dự báo {when} đạt {format_number(round(value), 0)}"


def percent_text(value: float | None) -> str:
    return format_percent(value, 1)


def change_percent(actual: float | None, last_year: float | None) -> float | None:
    """The change against the same period last year, in % of last year's figure: ``(actual − last year) /
    last year × 100``. None when last year had no figure or 0, or there is no figure now."""
    if actual is None or last_year is None or last_year == 0:
        return None
    return (actual - last_year) / abs(last_year) * 100


def change_text(change: float | None) -> str:
    """``tăng 12,5%`` / ``giảm 3,0%`` / ``bằng cùng kỳ`` (rounded to one decimal); ``""`` for None."""
    if change is None:
        return ""
    rounded = round(change, 1)
    if rounded == 0:
        return "bằng cùng kỳ"
    return f"{'tăng' if rounded > 0 else 'giảm'} {percent_text(abs(rounded))}"


def versus_last_year(change: float | None, year: int) -> str:
    """``tăng 12,5% so với cùng kỳ năm 2022`` / ``bằng cùng kỳ năm 2022`` (``year`` is the report's)."""
    if change is None:
        return ""
    text = change_text(change)
    return f"{text} năm {year - 1}" if text == "bằng cùng kỳ" else f"{text} so với cùng kỳ năm {year - 1}"


def has_last_year(progress: ClusterProgress) -> bool:
    """Whether last year's figures exist for the same period (some total has one)."""
    return any(t.last_year_actual is not None for t in progress.totals)


def indicator_deadline(spec: IndicatorSpec, year: int) -> date | None:
    return deadline_date(year, spec.deadline) if spec.deadline else None


def closed_line(closed: ClosedFigures) -> str:
    """``Số liệu chốt ngày 30/06/2023 (chốt lúc 09:00 ngày 03/07/2023)``."""
    return nfc(f"Số liệu chốt ngày {format_date(closed.as_of)} (chốt lúc {_when(closed.closed_at)})")


def _when(at: datetime) -> str:
    return f"{at:%H:%M} ngày {format_date(at)}"


def confirmed_line(closed: ClosedFigures) -> str:
    """Who confirmed the closed figures, and by whom; then who has not."""
    n = len(closed.confirmed) + len(closed.not_confirmed)
    if closed.confirmed:
        text = (f"Đơn vị đã xác nhận số liệu ({len(closed.confirmed)}/{n}): "
                + "; ".join(f"{c.district} – {c.by}, ngày {format_date(c.at)}" if c.by else
                            f"{c.district} – ngày {format_date(c.at)}" for c in closed.confirmed) + ".")
    else:
        text = "Chưa đơn vị nào xác nhận số liệu."
    if closed.confirmed and closed.not_confirmed:
        text += f" Chưa xác nhận: {', '.join(closed.not_confirmed)}."
    return nfc(text)


def amendments_line(closed: ClosedFigures) -> str:
    """``2 bảng tính sửa số liệu sau khi chốt, không tính vào tài liệu này.`` (``""`` when none)."""
    if not closed.amendments:
        return ""
    return f"{closed.amendments} bảng tính sửa số liệu sau khi chốt, không tính vào tài liệu này."


def closed_lines(closed: ClosedFigures | None, *, under_subtitle: bool = False) -> list[str]:
    """What every part of a closed period's pack says about its figures (nothing when open). Under a
    subtitle that already says "Số liệu chốt ngày …" (slides, PDF, e-mail) the first line is only when."""
    if closed is None:
        return []
    first = f"Số liệu được chốt lúc {_when(closed.closed_at)}." if under_subtitle else closed_line(closed) + "."
    return [x for x in (first, confirmed_line(closed), amendments_line(closed)) if x]


def rules_paragraph(rules: Rules) -> str:
    """The paragraph every report prints (the engine's wording), plus how weekly reporting is judged."""
    weekday = weekday_vi(rules.deadline_weekday)
    return nfc(
        rules_text(rules, "vi") + " Đơn vị đã báo cáo tuần này: có báo cáo được chấp nhận với ngày số liệu từ thứ "
        f"Hai của tuần đến ngày số liệu; nộp muộn: báo cáo đầu tiên của tuần đến sau {rules.deadline_time:%H:%M} "
        f"{weekday}."
    )


def headline(progress: ClusterProgress) -> str:
    """One sentence with what the cluster head wants first: who reported, what is done, who is at risk, who leads."""
    districts = progress.districts
    n = len(districts)
    reported = sum(d.reported_this_week for d in districts)
    achieved = sum(1 for d in districts for i in d.indicators if i.status == "achieved")
    risky = [d for d in districts if any(i.status == "at_risk" for i in d.indicators)]
    parts = [f"Số liệu đến {format_date(progress.as_of)}: {reported}/{n} đơn vị đã báo cáo tuần này",
             f"các đơn vị đã hoàn thành {achieved} chỉ tiêu đăng ký" if achieved
             else "chưa đơn vị nào hoàn thành chỉ tiêu đăng ký nào",
             f"{len(risky)}/{n} đơn vị có chỉ tiêu có nguy cơ không đạt" if risky
             else "không đơn vị nào có chỉ tiêu có nguy cơ không đạt"]
    sentence = "; ".join(parts)
    leaders = [d for d in districts if d.rank == 1]
    if leaders and leaders[0].score is not None:
        names = ", ".join(d.name for d in leaders)
        sentence += f". Dẫn đầu Cụm: {names} (điểm {format_number(round(leaders[0].score, 4), 4)})"
    return nfc(sentence + ".")


def safe_filename(text: str) -> str:
    """A file name that keeps Vietnamese letters but nothing a file system or mail client chokes on."""
    text = nfc(text)
    text = re.sub(r"[\\/:*?\"<>|\x00-\x1f]+", "-", text)
    text = re.sub(r"\s+", " ", text).strip(" .-")
    return text[:120] or "report"


AMENDMENTS_TITLE = "Số liệu sửa sau khi chốt"


def amendment_line(row: AmendmentRow, kind: str = "count") -> str:
    """``LĐLĐ quận Long Biên — Thành lập CĐCS mới: 16 → 18 (kỳ 2023-H1, chốt đến 30/06/2023)``."""
    digits = 0 if kind == "count" else None
    return nfc(f"{row.district_name} — {row.indicator_label}: {format_number(row.closed_value, digits)} → "
               f"{format_number(row.new_value, digits)} (kỳ {row.period}, chốt đến {format_date(row.closed_as_of)})")


def reopen_hint(rows: tuple[AmendmentRow, ...]) -> str:
    """What the head may do about them: reopen the period (then close it again for a new snapshot)."""
    periods = list(dict.fromkeys(r.period for r in rows))
    commands = "; ".join(f'tracker period reopen {p} --reason "…"' for p in periods)
    return nfc("Các số liệu này nhận được sau khi chốt; tài liệu sơ kết, tổng kết của kỳ vẫn dùng số liệu đã chốt. "
               f"Nếu chấp nhận số liệu mới, Cụm trưởng có thể mở lại kỳ ({commands}) rồi chốt lại.")
