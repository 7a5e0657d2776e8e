"""The portal and the self-assessment (docs/portal-and-mailbox.md §4): the unit's page offers the workbook at the
end of the year, the upload form takes it (recognised by content), a link takes only its own unit's workbook."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl
from fastapi.testclient import TestClient
from sqlmodel import select

from tests.test_web import HOST, csrf_of, issue
from tracker import models
from tracker.assessment.store import self_assessments
from tracker.web.app import create_app

DECEMBER = datetime(2023, 12, 4, 3, tzinfo=UTC)  # 10:00 in Hà Nội, Monday 4 December 2023
JUNE = datetime(2023, 6, 30, 8, tzinfo=UTC)


def client_at(ctx, now: datetime) -> TestClient:
    return TestClient(create_app(ctx.settings, now=lambda: now), base_url=HOST, follow_redirects=False)


def filled_template(client, link: str, scores: dict[str, object]) -> bytes:
    r = client.get(link + "/assessment-template")
    assert r.status_code == 200 and "tu-cham-diem_" in r.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    ws = wb["Tự chấm điểm"]
    rows = {ws.cell(r, 1).value: r for r in range(10, ws.max_row + 1) if ws.cell(r, 1).value}
    for code, value in scores.items():
        ws.cell(rows[code], 4).value = value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(client, link: str, data: bytes, name: str = "Tự chấm điểm.xlsx"):
    csrf = csrf_of(client.get(link).text)
    return client.post(link + "/upload", data={"csrf": csrf}, files={"file": (name, data, "application/octet-stream")})


def test_before_december_the_page_offers_no_self_assessment(ctx):
    link = issue(ctx, "LB")
    with client_at(ctx, JUNE) as client:
        assert 'id="tu-cham-diem"' not in client.get(link).text
        assert client.get(link + "/assessment-template").status_code == 404


def test_in_december_a_unit_downloads_fills_and_uploads_its_self_assessment(ctx):
    link = issue(ctx, "LB")
    with client_at(ctx, DECEMBER) as client:
        page = client.get(link).text
        assert "Tự chấm điểm thi đua năm 2023" in page and "Tải bảng tự chấm điểm (.xlsx)" in page
        r = upload(client, link, filled_template(client, link, {"2.1": 13, "2.2": 14.5, "T1": 1, "P1": 0}))
        assert r.status_code == 303
        verdict = client.get(r.headers["location"]).text
        assert "Đã tiếp nhận" in verdict and "bảng tự chấm điểm năm 2023" in verdict
        assert "14,5" in verdict and "Phối hợp, hỗ trợ các đơn vị trong Cụm" in verdict
        assert "Tự chấm điểm!D19" in verdict
        history = client.get(link).text
        history = history[history.index('id="lich-su"'):]
        assert "Bảng tự chấm điểm năm 2023" in history and "Tự chấm điểm.xlsx" in history
    with ctx.session() as s:
        assert self_assessments(s, ctx.cluster_id, 2023)["LB"].scores["2.2"] == 14.5
        sub = s.exec(select(models.Submission)).one()
    assert (sub.kind, sub.source, sub.as_of) == ("assessment", "web", None)


def test_another_units_link_refuses_the_workbook(ctx):
    own, other = issue(ctx, "LB"), issue(ctx, "HBT")
    with client_at(ctx, DECEMBER) as client:
        data = filled_template(client, own, {"2.1": 13})
        r = upload(client, other, data)
        page = client.get(r.headers["location"]).text if r.status_code == 303 else r.text
        assert "Bị từ chối" in page and "Tự chấm điểm!C4" in page
    with ctx.session() as s:
        assert self_assessments(s, ctx.cluster_id, 2023) == {}
        sub = s.exec(select(models.Submission)).one()
    assert (sub.kind, sub.status, sub.district_id) == ("assessment", "rejected", None)


def test_once_requests_were_sent_the_page_offers_it_before_december(ctx):
    from tracker.workflows.assessment_requests import send_assessment_requests

    send_assessment_requests(ctx, 2023, now=JUNE)
    link = issue(ctx, "HK")
    with client_at(ctx, JUNE) as client:
        assert 'id="tu-cham-diem"' in client.get(link).text
        assert client.get(link + "/assessment-template").status_code == 200
