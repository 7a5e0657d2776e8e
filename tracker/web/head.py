"""The cluster head's dashboard ``/h/<token>``: what changed this week (Trong tuần), status table and
ranking with the week's changes, charts, who has not reported, the latest weekly report and review pack
to download."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from tracker.assessment.store import has_assessment, load_assessment
from tracker.assessment.words import score_text, vote_text
from tracker.calendar import district_short_name
from tracker.errors import TrackerError
from tracker.progress import STATUSES
from tracker.reporting import highlights
from tracker.reporting.wording import rules_paragraph
from tracker.standing import cluster_progress, resolve_day
from tracker.text import format_rank_change, parse_date
from tracker.web import tokens
from tracker.web.charts import chart_png, chart_refs
from tracker.web.downloads import find, latest_groups
from tracker.web.portal import Portal, portal

router = APIRouter()


def head_access(token: str, request: Request) -> tokens.Access:
    state = portal(request)
    with state.ctx.session() as session:
        access = tokens.resolve(session, state.ctx.cluster_id, token, tokens.ROLE_HEAD)
    if access is None:
        raise HTTPException(status_code=404)
    return access


def _as_of(state: Portal, text: str | None):
    day = parse_date(text) if text else None
    if text and day is None:
        raise HTTPException(status_code=400, detail=(
            f"Ngày không hợp lệ: «{text}» (viết dd/mm/yyyy).", f"Invalid date {text!r} (write dd/mm/yyyy)."))
    try:
        return resolve_day(state.ctx, day, today=state.today())
    except TrackerError as exc:
        raise HTTPException(status_code=400, detail=(exc.vi, exc.en)) from None


@router.get("/h/{token}", response_class=HTMLResponse)
def dashboard(request: Request, token: str, ngay: str | None = None,
              access: tokens.Access = Depends(head_access)):
    state = portal(request)
    as_of = _as_of(state, ngay)
    progress = cluster_progress(state.ctx, as_of.day)
    return state.render(
        request, "head.html", token=token, as_of=as_of, progress=progress, missing=progress.not_reported,
        specs={s.key: s for s in progress.indicators}, local=state.local, statuses=STATUSES, short=district_short_name,
        charts=chart_refs(progress), downloads=latest_groups(state.settings.paths.reports),
        # The paragraph the weekly e-mail prints, from the rules these figures were computed with.
        rules_text=rules_paragraph(progress.rules), assessment=_assessment(state, as_of.day),
        score=score_text, vote_text=vote_text,
        # The Trong tuần block of the weekly e-mail, and the words beside each actual and rank.
        this_week=highlights.blocks(highlights.week_highlights(progress)), change=highlights.change_text,
        rank_move=format_rank_change,
    )


def _assessment(state: Portal, day):
    """The assessment of the dashboard date's year as of that date, once a unit has sent its self-assessment
    or the head has imported a cross-check (docs/portal-and-mailbox.md §5); else None."""
    if not state.settings.assessment.enabled:
        return None
    with state.ctx.session() as session:
        if not has_assessment(session, state.ctx.cluster_id, day.year):
            return None
        return load_assessment(session, state.settings, day.year, day)


@router.get("/h/{token}/charts/{name}.png")
async def chart(request: Request, token: str, name: str, ngay: str | None = None,
                access: tokens.Access = Depends(head_access)):
    """A dashboard chart as of the date shown on the dashboard (drawn in a worker thread, then cached)."""
    state = portal(request)
    as_of = _as_of(state, ngay)
    png = await run_in_threadpool(chart_png, state.ctx, as_of.day, name)
    if png is None:
        raise HTTPException(status_code=404)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


@router.get("/h/{token}/files/{kind}/{period}/{name}")
def download(request: Request, token: str, kind: str, period: str, name: str,
             access: tokens.Access = Depends(head_access)):
    """A file of the latest reports listed on the dashboard (any report folder of that kind, in fact)."""
    state = portal(request)
    path = find(state.settings.paths.reports, kind, period, name)
    if path is None:
        raise HTTPException(status_code=404)
    return FileResponse(path, filename=path.name, content_disposition_type="attachment")
