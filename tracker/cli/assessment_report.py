"""`tracker assess` (the result of the year-end assessment), `tracker report assessment` (docs/commands.md §17).

The `tracker assess` callback prints the result when no subcommand is given; the self-assessment
templates and imports are subcommands of the same sub-app (`assess_app`). `tracker send assessment`
is in :mod:`tracker.cli.mail`.
"""

from __future__ import annotations

import enum
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from tracker.cli.common import AsOf, context, err, format_option, out, parse_as_of, show_rich
from tracker.cli.reports import OutDir, report_app

if TYPE_CHECKING:
    from tracker.assessment.rules import Assessment, ScoringTable

assess_app = typer.Typer(
    name="assess",
    help="Chấm điểm thi đua cuối năm: in kết quả (bảng, JSON, CSV). "
         "The year-end assessment: print the result.\n\n"
         "Example: tracker assess --year 2023 --format json > cham-diem.json",
    invoke_without_command=True,
    add_completion=False,
    rich_markup_mode=None,
)

Year = Annotated[int | None, typer.Option("--year", "-y", help="Năm chấm điểm / year (default: [cluster] year).")]


class AssessFormat(enum.StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def register(app: typer.Typer) -> None:
    app.add_typer(assess_app, name="assess")
    report_app.command(
        "assessment",
        help="Kết quả chấm điểm thi đua: bảng Excel (tự chấm, Cụm chấm, điểm cuối, xếp hạng, đề nghị khen thưởng), "
             "biểu đồ xếp hạng, dự thảo biên bản họp bình xét (.docx). In ra đường dẫn các tệp. "
             "The assessment workbook, ranking chart and draft minutes; prints the paths written.\n\n"
             "Example: tracker report assessment --year 2023",
    )(report_assessment)


@assess_app.callback()
def assess(
    ctx: typer.Context,
    year: Year = None,
    as_of: AsOf = None,
    fmt: Annotated[AssessFormat, format_option(AssessFormat)] = AssessFormat.table,
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from tracker.workflows.assessment import assessment_day, current_assessment

    tctx = context()
    day = assessment_day(tctx, year, parse_as_of(as_of))
    assessment, table, words = current_assessment(tctx, day)
    if fmt == "json":
        import json

        out(json.dumps(assessment.to_json(), ensure_ascii=False, indent=2))
    elif fmt == "csv":
        sys.stdout.write(render_csv(assessment, table))
        sys.stdout.flush()
    else:
        show_rich(lambda console: render_table(assessment, table, words, console), width=160)


CSV_FIELDS = ("cluster", "year", "as_of", "rank", "unit_code", "unit_name", "kind", "code", "points", "applicable",
              "computed", "self", "cluster_score", "final", "self_total", "final_total", "award", "vote_needed")


def csv_rows(assessment: Assessment, table: ScoringTable) -> list[dict]:
    """One row per unit and code (criteria, bonus, penalty), the unit's totals and proposal on each; numbers
    as in the JSON (``.`` decimals, blank for a score nobody gave)."""
    data = assessment.to_json()
    maxima = {e.code: int(e.max) if float(e.max).is_integer() else e.max for e in (*table.bonus, *table.penalty)}
    rows = []
    for u in data["units"]:
        common = dict(cluster=data["cluster"], year=data["year"], as_of=data["as_of"], rank=u["rank"],
                      unit_code=u["code"], unit_name=u["name"])
        tail = dict(self_total=u["self_total"], final_total=u["final_total"], award=u["award"],
                    vote_needed=u["vote_needed"])
        for c in u["criteria"]:
            rows.append({**common, "kind": "criterion", "code": c["code"], "points": c["points"],
                         "applicable": c["applicable"], "computed": c["computed"], "self": c["self"],
                         "cluster_score": c["cluster"], "final": c["final"], **tail})
        for kind in ("bonus", "penalty"):
            for e in u[kind]:
                rows.append({**common, "kind": kind, "code": e["code"], "points": maxima[e["code"]],
                             "applicable": True, "computed": None, "self": e["self"], "cluster_score": e["cluster"],
                             "final": e["final"], **tail})
    return rows


def render_csv(assessment: Assessment, table: ScoringTable) -> str:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in csv_rows(assessment, table):
        writer.writerow({k: ("" if v is None else str(v).lower() if isinstance(v, bool) else v)
                         for k, v in row.items()})
    return buf.getvalue()


def render_table(assessment: Assessment, table: ScoringTable, words, console) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from tracker.assessment.words import proposal, score_text, vote_text
    from tracker.text import format_date

    out_table = Table(title=f"{words.title}, số liệu đến ngày {format_date(assessment.as_of)} "
                            f"(thang {words.points(assessment.total_points)} điểm)",
                      box=box.SIMPLE_HEAVY, title_justify="left")
    for title, justify in (("Hạng", "right"), ("Đơn vị", "left"), ("Tự chấm", "right"), ("Điểm cuối", "right"),
                           ("Đề nghị khen thưởng", "left"), ("Cần bỏ phiếu", "left")):
        out_table.add_column(title, justify=justify)
    for u in assessment.units:
        out_table.add_row(str(u.rank), f"{u.name}\n[{u.code}]", score_text(u.self_total),
                          Text(score_text(u.final_total), style="bold"), Text(u.award or "", style="green"),
                          Text(vote_text(u), style="bold yellow"))
    console.print(out_table)
    console.print(Text("Đề nghị khen thưởng:", style="bold"))
    for award, units in proposal(assessment, table):
        console.print(f"  • {award}: {units}")
    console.print()
    console.print(Text(words.rules, style="dim"))


def report_assessment(year: Year = None, as_of: AsOf = None, output: OutDir = None) -> None:
    from tracker.workflows.assessment import assessment_day, build_assessment_report

    ctx = context()
    report = build_assessment_report(ctx, assessment_day(ctx, year, parse_as_of(as_of)), output)
    err(f"Tiêu đề thư / subject: {report.subject}")
    for path in report.paths:
        out(str(path))
