"""The year-end self-assessment requests, as far as the units are concerned (docs/assessment.md §9): each unit is mailed
its self-assessment workbook (:mod:`tracker.intake.assessment_template`) through the outbox, once per unit and
year, with its portal link when the portal has an address. What comes back goes through the intake like a
weekly sheet (:mod:`tracker.intake.ingest`).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlmodel import select

from tracker.context import Context
from tracker.intake.assessment_template import assessment_template_filename, assessment_templates
from tracker.mail.compose import Draft, Part
from tracker.mail.messages import SendReport, Spec, assessment_request_draft, assessment_request_subject, send
from tracker.mail.outbox import ASSESSMENT_REQUEST
from tracker.models import OutboxMessage
from tracker.workflows.assessment import assessment_day
from tracker.workflows.sending import PortalLink


def assessment_year(ctx: Context, year: int | None) -> int:
    """``year``, default the config's; a year the cluster does not have is a usage error (the rule of
    :func:`tracker.workflows.assessment.assessment_day`)."""
    return assessment_day(ctx, year).year


def send_assessment_requests(ctx: Context, year: int | None = None, *, dry_run: bool = False,
                             now: datetime | None = None, portal_link: PortalLink | None = None) -> SendReport:
    """One message per unit with its self-assessment workbook of ``year`` (computed scores as of 31/12 of the
    year) attached, once per unit and year. With ``portal_link`` each new message carries a link of its own,
    issued only when the message is built (a second send, or a dry run, issues none)."""
    settings = ctx.settings
    year = assessment_year(ctx, year)
    as_of = date(year, 12, 31)
    workbook = assessment_templates(ctx, year, as_of)  # the cluster's scores read once, for every unit
    specs = []
    for unit in settings.districts:

        def make(folder: Path, unit=unit) -> Draft:
            template = Part(assessment_template_filename(unit.code, year), workbook(unit.code))
            link = portal_link(unit.code, f"tự chấm điểm {year}") if portal_link is not None else None
            return assessment_request_draft(settings, district_name=unit.name, recipients=tuple(unit.emails),
                                            year=year, as_of=as_of, template=template, link=link)

        subject = assessment_request_subject(settings, year, unit.name)
        specs.append(Spec(unit.code, tuple(unit.emails), subject, make))
    return send(ctx, ASSESSMENT_REQUEST, str(year), specs, out_dir=None, dry_run=dry_run, now=now)


def requests_sent(ctx: Context, year: int) -> bool:
    """Whether assessment requests of ``year`` went out (any unit's message is in the outbox)."""
    with ctx.session() as session:
        return session.exec(select(OutboxMessage.id).where(
            OutboxMessage.cluster_id == ctx.cluster_id, OutboxMessage.kind == ASSESSMENT_REQUEST,
            OutboxMessage.period == str(year)).limit(1)).first() is not None
