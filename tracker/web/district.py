"""A district's page ``/d/<token>``: the confirmation banner, this week's template, the upload form, the
verdict, history, progress; at the end of the year the self-assessment workbook (docs/portal-and-mailbox.md
§4: from 1 December of the cluster year, or once assessment requests of the year were sent, or once the unit
sent one), uploaded through the same form and recognised by content.

An upload goes through exactly the code `tracker pull` uses (:func:`tracker.intake.ingest_bytes`),
with ``source="web"`` and the link as its sender; a confirmation through the function `tracker period
confirm` uses (:mod:`tracker.web.confirmation`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from tracker.assessment.computed import scoring_table
from tracker.assessment.store import self_assessments
from tracker.findings import make
from tracker.intake.assessment_template import assessment_template_filename, unit_assessment_template
from tracker.intake.files import received_name
from tracker.intake.ingest import ingest_bytes
from tracker.intake.rejection import existing_outputs
from tracker.intake.template import default_as_of, district_template, template_filename
from tracker.models import SubmissionSource
from tracker.standing import cluster_progress, resolve_day
from tracker.web import confirmation, security, tokens, views
from tracker.web.portal import Portal, portal
from tracker.workflows.assessment_requests import requests_sent

router = APIRouter()

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def district_access(token: str, request: Request) -> tokens.Access:
    state = portal(request)
    with state.ctx.session() as session:
        access = tokens.resolve(session, state.ctx.cluster_id, token, tokens.ROLE_DISTRICT)
    if access is None:
        raise HTTPException(status_code=404)
    return access


def _as_of(state: Portal):
    """Today (in the cluster year): the date the district's progress is shown as of."""
    return resolve_day(state.ctx, None, today=state.today()).day


def _template_as_of(state: Portal):
    """The as-of date of this week's template (the intake's rule: the reporting day of the week)."""
    return default_as_of(state.settings, state.today())


def assessment_year(state: Portal, district_code: str | None) -> int | None:
    """The year whose self-assessment the page offers, or None: the cluster year, from 1 December of it, or
    once its assessment requests were sent, or once the unit sent one (a scoring table is configured)."""
    year = state.settings.cluster.year
    if not state.settings.assessment.enabled:
        return None
    if state.today() >= date(year, 12, 1) or requests_sent(state.ctx, year):
        return year
    with state.ctx.session() as session:
        return year if district_code in self_assessments(session, state.ctx.cluster_id, year) else None


@router.get("/d/{token}", response_class=HTMLResponse)
def district_page(request: Request, token: str, access: tokens.Access = Depends(district_access)):
    state = portal(request)
    as_of = _as_of(state)
    progress = cluster_progress(state.ctx, as_of)
    mine = progress.district(access.district_code)
    with state.ctx.session() as session:
        subs = views.history(session, state.ctx.cluster_id, access.district_id, access.token_id)
        banner = confirmation.banner(session, state.settings, access.district_code or "", as_of.year)
    return state.render(
        request, "district.html", template_as_of=_template_as_of(state), banner=banner,
        confirm_by=confirmation.who(access),
        access=access, token=token, as_of=as_of, progress=progress, mine=mine,
        assessment_year=assessment_year(state, access.district_code),
        specs={s.key: s for s in progress.indicators}, history=subs, local=state.local,
        csrf=security.csrf_token(state.secret, access.token_hash), max_upload=state.max_upload,
    )


@router.get("/d/{token}/template")
def download_template(request: Request, token: str, access: tokens.Access = Depends(district_access)):
    """This week's workbook for the district, prefilled by the intake's template writer."""
    state = portal(request)
    as_of = _template_as_of(state)
    data = district_template(state.ctx, access.district_code, as_of)
    return Response(data, media_type=XLSX, headers=_attachment(template_filename(access.district_code, as_of)))


@router.get("/d/{token}/assessment-template")
def download_assessment_template(request: Request, token: str, access: tokens.Access = Depends(district_access)):
    """The unit's self-assessment workbook of the year (computed scores as of 31/12), when the page offers it."""
    state = portal(request)
    year = assessment_year(state, access.district_code)
    if year is None:
        raise HTTPException(status_code=404)
    data = unit_assessment_template(state.ctx, access.district_code, year)
    return Response(data, media_type=XLSX,
                    headers=_attachment(assessment_template_filename(access.district_code, year)))


async def _posted_form(request: Request, state: Portal, access: tokens.Access, **limits):
    """A form posted to a unit's page, after the portal's two checks (docs/portal-and-mailbox.md): the
    request comes from this server's own page, and carries the link's CSRF token. 403 otherwise."""
    if not security.same_origin(request.headers.get("host"), request.headers.get("origin"),
                                request.headers.get("referer")):
        raise HTTPException(status_code=403)
    form = await request.form(**limits)
    if not security.csrf_ok(state.secret, access.token_hash, _text(form.get("csrf"))):
        raise HTTPException(status_code=403)
    return form


@router.post("/d/{token}/upload")
async def upload(request: Request, token: str, access: tokens.Access = Depends(district_access)):
    state = portal(request)
    form = await _posted_form(request, state, access, max_files=1, max_fields=4, max_part_size=4096)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise HTTPException(status_code=400, detail=(
            "Chưa chọn tệp báo cáo. Hãy bấm «Chọn tệp», chọn tệp Excel rồi bấm «Gửi báo cáo».",
            "No file chosen. Choose the Excel file, then press the send button."))
    data = await upload.read(state.max_upload + 1)
    if len(data) > state.max_upload:
        raise HTTPException(status_code=413)
    if not data:
        raise HTTPException(status_code=400, detail=("Tệp rỗng (0 byte).", "The file is empty (0 bytes)."))
    filename = received_name(upload.filename)  # whole: the stored files get names that fit the disk

    result = await run_in_threadpool(
        ingest_bytes, state.ctx, data, filename, source=SubmissionSource.web, sender=views.web_sender(access.token_id),
        received_at=state.now(), checks=[link_check(access)],
    )
    if not await run_in_threadpool(_visible, state, access, result.submission_id):
        # Bytes judged before, for another district or through another way in: the verdict, without
        # showing that other submission's details.
        return state.render(request, "verdict_only.html", access=access, token=token, result=result)
    url = f"/d/{token}/submissions/{result.submission_id}"
    if result.status == "duplicate" or result.repeated:
        url += "?duplicate=1"
    return RedirectResponse(url, status_code=303)


@router.post("/d/{token}/confirm")
async def confirm(request: Request, token: str, access: tokens.Access = Depends(district_access)):
    """The **Xác nhận số liệu** form: the upload's CSRF rules, then :func:`tracker.web.confirmation.record`."""
    state = portal(request)
    form = await _posted_form(request, state, access, max_files=0, max_fields=8, max_part_size=1024)
    fields = {name: _text(form.get(name)) for name in ("period", "as_of", "figures")}
    done = await run_in_threadpool(confirmation.record, state, access, _as_of(state).year, fields)
    if done is None:
        raise HTTPException(status_code=409, detail=(
            "Số liệu cần xác nhận đã thay đổi từ khi trang được mở (đơn vị vừa gửi báo cáo mới, hoặc Cụm vừa "
            "đề nghị xác nhận lại). Hãy mở lại đường dẫn của đơn vị, kiểm tra số liệu rồi xác nhận.",
            "The figures to confirm changed since the page was opened (a new sheet, or a new request). Open "
            "your link again, check the figures and confirm."))
    return RedirectResponse(f"/d/{token}#xac-nhan", status_code=303)


def _visible(state: Portal, access: tokens.Access, submission_id: int | None) -> bool:
    if submission_id is None:
        return False
    with state.ctx.session() as session:
        return views.district_submission(session, state.ctx.cluster_id, access.district_id, access.token_id,
                                         submission_id) is not None


def link_check(access: tokens.Access):
    """The rule of the web source (as the sender rule is the mailbox's): a district's link takes only
    that district's sheet. A sheet naming another district is rejected, pointing at its `Đơn vị` cell;
    the intake applies this rule before the duplicate rule (:mod:`tracker.intake.ingest`).

    The message names no district: the clerk sees the sheet and the cell, and the finding is stored with
    a submission of the district the sheet names, whose own clerk may read it."""
    def check(report):
        if report.district is None or report.district == access.district_code:
            return []
        return [make("sender_not_in_district", "portal_link", sheet=report.sheet, ref=report.district_cell)]

    return check


@router.get("/d/{token}/submissions/{submission_id}", response_class=HTMLResponse)
def verdict_page(request: Request, token: str, submission_id: int, duplicate: int = 0,
                 access: tokens.Access = Depends(district_access)):
    state = portal(request)
    with state.ctx.session() as session:
        sub = views.district_submission(session, state.ctx.cluster_id, access.district_id, access.token_id,
                                        submission_id)
        if sub is None:
            raise HTTPException(status_code=404)
        verdict = views.verdict(session, sub)
    table = scoring_table(state.settings)
    labels = {x.code: x.label for x in (*table.criteria, *table.bonus, *table.penalty)}
    return state.render(request, "verdict.html", access=access, token=token, verdict=verdict, labels=labels,
                        duplicate=bool(duplicate), local=state.local,
                        annotated=_annotated_path(state, sub) is not None)


@router.get("/d/{token}/submissions/{submission_id}/annotated")
def annotated_workbook(request: Request, token: str, submission_id: int,
                       access: tokens.Access = Depends(district_access)):
    """The rejected workbook with the faulty cells highlighted and commented."""
    state = portal(request)
    with state.ctx.session() as session:
        sub = views.district_submission(session, state.ctx.cluster_id, access.district_id, access.token_id,
                                        submission_id)
    path = _annotated_path(state, sub) if sub is not None else None
    if path is None:
        raise HTTPException(status_code=404)
    stem = Path(sub.file_name or "bao-cao").stem
    return FileResponse(path, media_type=XLSX, filename=f"{stem} - đã đánh dấu lỗi.xlsx",
                        content_disposition_type="attachment")


def _annotated_path(state: Portal, sub) -> Path | None:
    """The highlighted copy the intake kept next to a rejected file in quarantine, if it made one."""
    if sub.status != "rejected" or not sub.stored_path:
        return None
    _report, annotated = existing_outputs(Path(sub.stored_path).parent)
    return annotated if annotated is not None and annotated.is_file() else None


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _attachment(filename: str) -> dict[str, str]:
    ascii_name = filename.encode("ascii", "ignore").decode() or "bao-cao.xlsx"
    return {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=utf-8''{quote(filename)}"}
