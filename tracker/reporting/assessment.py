"""The assessment's outputs for the cluster head (docs/assessment.md §10): the workbook, the ranking chart
and the e-mail body; the minutes are written by the caller (the documents area, through the workflow).

``render_assessment`` is pure rendering: the assessment (already computed and ranked) and its scoring
table in, files in ``out_dir`` out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tracker.assessment.rules import Assessment, ScoringTable, UnitAssessment
from tracker.assessment.words import AssessmentWords, decision_text, proposal, score_text
from tracker.calendar import district_short_name
from tracker.reporting.wording import safe_filename
from tracker.templating import render
from tracker.text import format_date, nfc

CID_DOMAIN = "cluster-tracker"
FIRST_AWARD = "#C62828"  # the emulation flag: the leading unit
OTHER_AWARD = "#1565C0"
VOTE = "#EF8F00"
NO_AWARD = "#9E9E9E"


@dataclass(frozen=True)
class AssessmentReport:
    year: int
    out_dir: Path
    subject: str
    html: str
    text: str
    workbook: Path
    chart: Path
    chart_cid: str
    minutes: Path | None
    html_path: Path
    text_path: Path

    @property
    def attachments(self) -> tuple[Path, ...]:
        """The minutes, the workbook, then the chart (which goes first when 10 MB is tight)."""
        return tuple(p for p in (self.minutes, self.workbook, self.chart) if p is not None)

    @property
    def paths(self) -> tuple[Path, ...]:
        return (*self.attachments, self.html_path, self.text_path)


def default_dir(reports: Path, year: int) -> Path:
    return reports / "assessment" / str(year)


def _colour(u: UnitAssessment, table: ScoringTable) -> str:
    if u.vote_needed:
        return VOTE
    if u.award:
        return FIRST_AWARD if table.awards and u.award == table.awards[0].name else OTHER_AWARD
    return NO_AWARD


def ranking_chart(assessment: Assessment, table: ScoringTable, words: AssessmentWords):
    """Final totals in ranking order (best at the top), coloured by proposal, the self total as a marker."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from tracker.reporting import charts

    units = assessment.units
    with charts.style():
        fig = charts.Figure(figsize=(charts.SIZE[0], max(charts.SIZE[1], 1.6 + 0.55 * len(units))),
                            layout="constrained")
        ax = fig.add_subplot()
        y = list(range(len(units)))
        top = max([assessment.total_points, *(u.final_total for u in units), *(u.self_total for u in units)])
        ax.barh(y, [u.final_total for u in units], color=[_colour(u, table) for u in units],
                       height=0.62, zorder=2)
        ax.scatter([u.self_total for u in units], y, marker="D", s=46, color="#263238", zorder=4)
        ax.set_yticks(y, labels=[nfc(f"{u.rank}. {district_short_name(u.name)}") for u in units])
        ax.invert_yaxis()
        for n, u in enumerate(units):  # right of the bar and of the self-score marker, whichever ends later
            ax.text(max(u.final_total, u.self_total) + top * 0.015, n, score_text(u.final_total), va="center",
                    ha="left", fontsize=15, fontweight="bold")
        ax.set_xlim(0, top * 1.15)
        ax.set_xlabel(nfc(f"Điểm cuối cùng (thang {words.points(assessment.total_points)} điểm)"))
        ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:.0f}")
        ax.grid(axis="x", color="#ECEFF1", zorder=0)
        used = {_colour(u, table) for u in units}
        handles = [Patch(facecolor=FIRST_AWARD, label=table.awards[0].name)] if FIRST_AWARD in used else []
        if OTHER_AWARD in used:  # the other awards share one colour: named when there is one, else "other awards"
            others = {u.award for u in units if u.award and _colour(u, table) == OTHER_AWARD}
            handles.append(Patch(facecolor=OTHER_AWARD, label=others.pop() if len(others) == 1 else "Danh hiệu khác"))
        if VOTE in used:
            handles.append(Patch(facecolor=VOTE, label="Bằng điểm: Hội nghị bỏ phiếu"))
        handles.append(Line2D([], [], marker="D", linestyle="none", color="#263238", label="Điểm tự chấm"))
        fig.legend(handles=[_nfc_handle(h) for h in handles], loc="outside lower center",
                   ncols=min(3, len(handles)), frameon=False)
        charts.chart_title(fig, ax, f"Xếp hạng thi đua năm {assessment.year} - {words.cluster_short}",
                      f"Số liệu tính đến ngày {format_date(assessment.as_of)}")
    return fig


def _nfc_handle(handle):
    handle.set_label(nfc(handle.get_label()))
    return handle


def chart_cid(cluster: str, year: int) -> str:
    return f"assessment-{year}.ranking.{cluster}@{CID_DOMAIN}".replace(" ", "-")


def mail_model(assessment: Assessment, table: ScoringTable, words: AssessmentWords, *, cid: str,
               chart_title: str, attachments: list[str]) -> dict:
    rows = [dict(rank=u.rank, name=u.name, self_total=score_text(u.self_total), final_total=score_text(u.final_total),
                 decision=decision_text(u), award=bool(u.award), vote=bool(u.vote_needed)) for u in assessment.units]
    votes = [u for u in assessment.units if u.vote_needed]
    return dict(subject=words.subject, cluster_name=words.cluster_name, short=words.cluster_short,
                year=assessment.year, as_of=format_date(assessment.as_of),
                total_points=words.points(assessment.total_points), rows=rows,
                proposals=proposal(assessment, table), any_vote=bool(votes), cid=cid, chart_title=chart_title,
                attachments=attachments)


def render_assessment(assessment: Assessment, table: ScoringTable, words: AssessmentWords, out_dir: Path, *,
                      write_minutes: Callable[[Path], Path] | None = None) -> AssessmentReport:
    """Write the workbook, the chart, the minutes (``write_minutes(path)``) and the e-mail body into ``out_dir``."""
    from tracker.reporting import charts
    from tracker.reporting.assessment_book import write_assessment_book

    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"năm {assessment.year} - {words.cluster_short}"
    workbook = write_assessment_book(assessment, table, words,
                                     out_dir / safe_filename(f"Kết quả chấm điểm thi đua {stem}.xlsx"))
    chart = charts.save_png(ranking_chart(assessment, table, words),
                            out_dir / safe_filename(f"Xếp hạng thi đua {stem}.png"), dpi=charts.EMAIL_DPI)
    minutes = write_minutes(out_dir / safe_filename(f"Dự thảo biên bản họp bình xét thi đua {stem}.docx")) \
        if write_minutes else None
    cid = chart_cid(assessment.cluster, assessment.year)
    names = [p.name for p in (minutes, workbook, chart) if p is not None]
    model = mail_model(assessment, table, words, cid=cid, chart_title=f"Xếp hạng thi đua năm {assessment.year}",
                       attachments=names)
    folder = Path(__file__).parent / "templates"
    html = render(folder, "assessment.html.j2", model, trim=False)
    text = render(folder, "assessment.txt.j2", model, trim=False)
    html_path, text_path = out_dir / "email.html", out_dir / "email.txt"
    html_path.write_text(html, encoding="utf-8")
    text_path.write_text(text, encoding="utf-8")
    return AssessmentReport(assessment.year, out_dir, words.subject, html, text, workbook, chart, cid, minutes,
                            html_path, text_path)
