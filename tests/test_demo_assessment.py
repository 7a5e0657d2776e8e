"""The demo's mid-year assessment, through the product's own paths: the inbox and the pull job, the portal's
upload form over HTTP, the cross-check import, then the outputs and the e-mail to the head."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from jobs.tasks import execute
from tests.intake_factory import report_for
from tracker import models
from tracker.assessment.store import cluster_scores, self_assessments
from tracker.intake.ingest import ingest_bytes
from tracker.web.visit import PortalVisit
from tracker.workflows.demo_assessment import assess_mid_year
from tracker.workflows.sample_assessment import CLUSTER_SCORES, FIRST_TRY, SELF_SCORES

JUNE_30 = date(2023, 6, 30)


def test_the_demo_assessment_takes_every_path_and_writes_the_outputs(ctx):
    for code in SELF_SCORES:
        sheet = report_for(code, JUNE_30, {"new_unions": 12, "agreements": 6, "congresses": 30})
        assert ingest_bytes(ctx, sheet, f"{code}.xlsx", received_at=datetime(2023, 6, 30, 3, tzinfo=UTC)).status \
            == "accepted"
    lines: list[str] = []
    assert assess_mid_year(ctx, PortalVisit, lambda c, name: execute(c, name, trigger="demo"), JUNE_30,
                           out=lines.append, err=lambda _: None)
    with ctx.session() as session:
        own = self_assessments(session, ctx.cluster_id, 2023)
        cluster = cluster_scores(session, ctx.cluster_id, 2023)
        sources = dict(session.exec(select(models.District.code, models.Submission.source)
                                    .join(models.District, models.District.id == models.Submission.district_id)
                                    .where(models.Submission.kind == models.SubmissionKind.assessment,
                                           models.Submission.status == models.SubmissionStatus.accepted)).all())
        rejected = session.exec(select(models.Finding.code, models.Finding.cell)
                                .join(models.Submission, models.Submission.id == models.Finding.submission_id)
                                .where(models.Submission.status == models.SubmissionStatus.rejected)).all()
        outbox = session.exec(select(models.OutboxMessage.kind)).all()
    # the manual lines as each unit typed them (the computed lines are stored as the workbook shows them)
    assert {code: {k: a.scores[k] for k in SELF_SCORES[code]} for code, a in own.items()} == SELF_SCORES
    assert sources["HM"] == models.SubmissionSource.web and sources["HBT"] == models.SubmissionSource.inbox
    assert [code for code, _cell in rejected] == ["score_above_max"] and FIRST_TRY[0] == "HBT"
    given = {(unit, code): v for unit, scores in cluster.items() for code, v in scores.items()
             if v is not None and v != SELF_SCORES[unit].get(code)}
    assert given == CLUSTER_SCORES
    folder = ctx.settings.paths.reports / "assessment" / "2023"
    assert any(p.suffix == ".docx" for p in folder.iterdir()) and any(p.suffix == ".xlsx" for p in folder.iterdir())
    assert "assessment" in outbox
    assert any("Tự chấm điểm!" in line and "vượt điểm tối đa 3" in line for line in lines)

    def accepted_count():
        with ctx.session() as session:
            return len(session.exec(select(models.Submission).where(
                models.Submission.kind == models.SubmissionKind.assessment,
                models.Submission.status == models.SubmissionStatus.accepted)).all())

    before = accepted_count()
    again: list[str] = []  # `make demo` a second time: the same workbooks, already received
    assert assess_mid_year(ctx, PortalVisit, lambda c, name: execute(c, name, trigger="demo"), JUNE_30,
                           out=again.append, err=lambda _: None)
    assert accepted_count() == before
    assert any("duplicate=5" in line for line in again)

