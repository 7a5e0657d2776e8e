"""The web portal through FastAPI's TestClient: every page, the access rules, CSRF, bad uploads."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from tests.intake_factory import ExcelError, report_for
from tracker import models
from tracker.web import tokens
from tracker.web.app import create_app

TODAY = date(2023, 6, 30)  # a Friday in the sample cluster year
NOW = datetime(2023, 6, 30, 8, 15, tzinfo=UTC)  # 15:15 in Hà Nội, before the Friday 17:00 deadline
HOST = "http://testserver"


@pytest.fixture
def app(ctx):
    return create_app(ctx.settings, now=lambda: NOW)


@pytest.fixture
def client(app):
    with TestClient(app, base_url=HOST, follow_redirects=False) as c:
        yield c


def issue(ctx, district: str | None = None, head: bool = False) -> str:
    with ctx.session(write=True) as s:
        token, _ = tokens.issue(s, ctx.cluster_id, role=tokens.ROLE_HEAD if head else tokens.ROLE_DISTRICT,
                                district_code=district)
    return tokens.link_path(tokens.ROLE_HEAD if head else tokens.ROLE_DISTRICT, token)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]{64})"', html).group(1)


# --- tokens -------------------------------------------------------------------------------------------

def test_a_token_is_stored_only_as_its_hash(ctx):
    from sqlmodel import select

    from tracker.models import AccessToken

    link = issue(ctx, "HBT")
    token = link.removeprefix("/d/")
    assert len(token) == 43
    with ctx.session() as s:
        rows = s.exec(select(AccessToken)).all()
    assert [r.token_hash for r in rows] == [tokens.hash_token(token)]
    assert token not in repr(rows)


def test_resolve_refuses_wrong_role_revoked_and_malformed_tokens(ctx):
    link = issue(ctx, "HBT")
    token = link.removeprefix("/d/")
    with ctx.session(write=True) as s:
        assert tokens.resolve(s, ctx.cluster_id, token, tokens.ROLE_DISTRICT).district_code == "HBT"
        assert tokens.resolve(s, ctx.cluster_id, token, tokens.ROLE_HEAD) is None
        assert tokens.resolve(s, "cum-2", token, tokens.ROLE_DISTRICT) is None
        assert tokens.resolve(s, ctx.cluster_id, token[:-1] + ("A" if token[-1] != "A" else "B"),
                              tokens.ROLE_DISTRICT) is None
        assert tokens.resolve(s, ctx.cluster_id, "x' OR 1=1 --", tokens.ROLE_DISTRICT) is None
        assert tokens.revoke(s, ctx.cluster_id, district_code="HBT") != []
        assert tokens.resolve(s, ctx.cluster_id, token, tokens.ROLE_DISTRICT) is None
        assert tokens.revoke(s, ctx.cluster_id, district_code="HBT") == []  # twice is a no-op


# --- access rules ---------------------------------------------------------------------------------------

def test_the_home_page_says_how_to_get_in_and_lists_nothing(client, ctx):
    issue(ctx, "HBT")
    r = client.get("/")
    assert r.status_code == 200
    assert "đường dẫn riêng" in r.text
    assert "Hai Bà Trưng" not in r.text


@pytest.mark.parametrize("path", ["/d/" + "A" * 43, "/d/short", "/h/" + "A" * 43, "/d/", "/nothing"])
def test_a_wrong_token_gets_404_with_a_vietnamese_page(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert "Không tìm thấy trang" in r.text


def test_a_district_link_does_not_open_the_dashboard_and_vice_versa(client, ctx):
    d = issue(ctx, "HBT").removeprefix("/d/")
    h = issue(ctx, head=True).removeprefix("/h/")
    assert client.get(f"/h/{d}").status_code == 404
    assert client.get(f"/d/{h}").status_code == 404
    assert client.get(f"/d/{d}").status_code == 200
    assert client.get(f"/h/{h}").status_code == 200


def test_a_revoked_link_gets_404(client, ctx, cli):
    link = issue(ctx, "HM")
    assert client.get(link).status_code == 200
    result = cli("tokens", "revoke", "HM")
    assert result.exit_code == 0 and "1" in result.stdout
    assert client.get(link).status_code == 404
    assert client.get(link + "/template").status_code == 404


def test_the_district_page_shows_only_that_district(client, ctx):
    r = client.get(issue(ctx, "HBT"))
    assert r.status_code == 200
    assert "LĐLĐ quận Hai Bà Trưng" in r.text
    for other in ("Hoàng Mai", "Ba Đình", "Long Biên", "Hoàn Kiếm", "Đống Đa"):
        assert other not in r.text
    assert 'name="file"' in r.text and 'enctype="multipart/form-data"' in r.text
    assert "30/06/2023" in r.text


def test_pages_carry_headers_that_keep_the_link_private(client, ctx):
    r = client.get(issue(ctx, "HBT"))
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-robots-tag"].startswith("noindex")


# --- CSRF -----------------------------------------------------------------------------------------------

def _post(client, link, *, csrf, headers=None, files=None):
    files = files if files is not None else {"file": ("bao-cao.xlsx", b"PK\x03\x04 not really", "application/zip")}
    return client.post(link + "/upload", data={"csrf": csrf} if csrf is not None else {}, files=files,
                       headers=headers or {})


def test_an_upload_without_the_csrf_token_is_refused(client, ctx):
    link = issue(ctx, "HBT")
    r = _post(client, link, csrf=None)
    assert r.status_code == 403 and "Yêu cầu bị từ chối" in r.text
    r = _post(client, link, csrf="0" * 64)
    assert r.status_code == 403


def test_the_csrf_token_of_another_link_is_refused(client, ctx):
    a, b = issue(ctx, "HBT"), issue(ctx, "HM")
    csrf_a = csrf_of(client.get(a).text)
    assert _post(client, b, csrf=csrf_a).status_code == 403


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Referer": "https://evil.example/page"},
    {"Origin": "http://testserver.evil.example"},
])
def test_a_cross_site_post_is_refused_even_with_a_valid_csrf_token(client, ctx, headers):
    link = issue(ctx, "HBT")
    csrf = csrf_of(client.get(link).text)
    assert _post(client, link, csrf=csrf, headers=headers).status_code == 403


def test_the_server_secret_is_kept_in_a_private_file_and_reused(ctx):
    from tracker.web import security

    path = security.secret_path(ctx.settings.source)
    create_app(ctx.settings)
    first = path.read_bytes()
    assert (path.stat().st_mode & 0o777) == 0o600
    create_app(ctx.settings)
    assert path.read_bytes() == first


# --- bad uploads -----------------------------------------------------------------------------------------

def test_an_upload_over_the_cap_is_refused_before_it_is_read(ctx):
    app = create_app(ctx.settings, now=lambda: NOW, max_upload=100_000)
    with TestClient(app, base_url=HOST, follow_redirects=False) as client:
        link = issue(ctx, "HBT")
        csrf = csrf_of(client.get(link).text)
        big = {"file": ("bao-cao.xlsx", b"\0" * 300_000, "application/octet-stream")}
        r = _post(client, link, csrf=csrf, files=big)
        assert r.status_code == 413
        assert "Tệp quá lớn" in r.text
        # just over the cap, within the envelope allowance: the file itself is measured
        r = _post(client, link, csrf=csrf, files={"file": ("a.xlsx", b"\0" * 100_001, "application/zip")})
        assert r.status_code == 413


def test_an_upload_with_no_file_chosen_is_a_clear_400(client, ctx):
    link = issue(ctx, "HBT")
    csrf = csrf_of(client.get(link).text)
    r = client.post(link + "/upload", data={"csrf": csrf}, files={"file": ("", b"", "application/octet-stream")})
    assert r.status_code == 400 and "Chưa chọn tệp" in r.text


# --- head dashboard --------------------------------------------------------------------------------------

def test_the_dashboard_lists_every_district_and_who_has_not_reported(client, ctx):
    r = client.get(issue(ctx, head=True))
    assert r.status_code == 200
    for name in ("Hai Bà Trưng", "Hoàng Mai", "Ba Đình", "Long Biên", "Hoàn Kiếm", "Đống Đa"):
        assert name in r.text
    assert "Chưa báo cáo tuần này" in r.text
    assert "0/6" in r.text


def test_the_dashboard_takes_a_date_and_refuses_a_year_without_targets_or_figures(client, ctx):
    link = issue(ctx, head=True)
    assert "31/03/2023" in client.get(link, params={"ngay": "31/03/2023"}).text
    r = client.get(link, params={"ngay": "01/01/2022"})
    assert r.status_code == 400 and "Năm 2022" in r.text and "chưa có chỉ tiêu hay số liệu" in r.text
    assert client.get(link, params={"ngay": "hôm qua"}).status_code == 400


def test_the_dashboard_shows_the_weeks_changes_and_the_trong_tuan_block(client, ctx):
    from tests.test_report_week_changes import THIS_WEEK, two_weeks

    two_weeks(ctx)
    page = client.get(issue(ctx, head=True), params={"ngay": "30/06/2023"}).text
    assert page.index('id="trong-tuan"') < page.index('id="bang-tien-do"')
    for line in THIS_WEEK:
        assert f"<li>{line}</li>" in page.replace("&gt;", ">"), line
    assert '16 <span class="change" title="thay đổi trong tuần">(+2)</span>/30' in page  # LB 14 → 16
    assert '17 <span class="change" title="thay đổi trong tuần">(—)</span>/35' in page  # HM did not move
    assert '<span class="move up" title="so với tuần trước">▲1</span>' in page  # LB overtook BD
    assert '<span class="move down" title="so với tuần trước">▼1</span>' in page
    assert "Cùng kỳ năm trước" not in page  # no figures of 2022 in this database
    from tests.test_status import add_sheet

    with ctx.session(write=True) as s:
        add_sheet(s, "LB", date(2022, 6, 30), {"new_unions": 9, "new_members": 1234})
    page = client.get(issue(ctx, head=True), params={"ngay": "30/06/2023"}).text
    row = page[page.index("<td>Cùng kỳ năm trước</td>"):]
    row = row[:row.index("</tr>")]
    assert re.findall(r'<td class="num">([^<]*)</td>', row) == ["9", "—", "—", "1.234", "—"]


def test_the_status_colours_come_from_the_shared_palette(client):
    from tracker.reporting.palette import FILL

    css = client.get("/status.css").text
    assert f".st-at_risk{{background:{FILL['at_risk']}" in css


# --- CLI ---------------------------------------------------------------------------------------------

def test_tokens_issue_prints_only_the_link_and_list_never_shows_it(cli):
    assert cli("init").exit_code == 0
    r = cli("tokens", "issue", "HBT", "--label", "chị Lan")
    assert r.exit_code == 0, r.stderr
    link = r.stdout.strip()
    assert re.fullmatch(r"/d/[A-Za-z0-9_\-]{43}", link)
    r = cli("tokens", "issue", "--head", "--base-url", "https://thidua.example.org/")
    assert re.fullmatch(r"https://thidua\.example\.org/h/[A-Za-z0-9_\-]{43}", r.stdout.strip())
    listed = cli("tokens", "list")
    assert "HBT" in listed.stdout and "chị Lan" in listed.stdout and link[3:] not in listed.stdout
    assert cli("tokens", "revoke", "--token", link).stdout.startswith("Đã thu hồi / revoked: 1")
    assert "HBT" not in cli("tokens", "list").stdout
    assert "HBT" in cli("tokens", "list", "--all").stdout


def test_tokens_issue_prints_a_whole_link_from_the_configs_portal_address(cli, web_config, monkeypatch):
    config = web_config
    assert cli("init", config=config).exit_code == 0
    link = cli("tokens", "issue", "HBT", config=config).stdout.strip()
    assert re.fullmatch(r"https://thidua\.example\.org/d/[A-Za-z0-9_\-]{43}", link)
    given = cli("tokens", "issue", "HBT", "--base-url", "http://10.0.0.5:8000", config=config).stdout.strip()
    assert re.fullmatch(r"http://10\.0\.0\.5:8000/d/[A-Za-z0-9_\-]{43}", given)  # --base-url wins
    monkeypatch.setenv("TRACKER_WEB_BASE_URL", "https://cong.example.vn")
    assert cli("tokens", "issue", "--head", config=config).stdout.startswith("https://cong.example.vn/h/")


def test_tokens_issue_refuses_an_unknown_district_or_no_choice(cli):
    assert cli("init").exit_code == 0
    r = cli("tokens", "issue", "XYZ")
    assert r.exit_code == 2 and "XYZ" in r.stderr and "HBT" in r.stderr and r.stdout == ""
    assert cli("tokens", "issue").exit_code == 2
    assert cli("tokens", "issue", "HBT", "--head").exit_code == 2
    assert cli("tokens", "issue", "hbt").exit_code == 0  # codes are matched like everywhere else


def test_the_dashboard_draws_its_charts_and_caches_them(client, ctx):
    link = issue(ctx, head=True)
    html = client.get(link).text
    srcs = re.findall(r'<img src="([^"]+)"', html)
    assert any("/charts/ranking.png" in s for s in srcs)
    assert any("/charts/percent-new_unions.png" in s for s in srcs)
    src = next(s for s in srcs if "percent-congresses" in s).replace("&amp;", "&")
    r = client.get(src)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content[:8] == b"\x89PNG\r\n\x1a\n"
    cached = list((ctx.settings.paths.reports / "web" / "charts").rglob("percent-congresses.png"))
    assert len(cached) == 1
    assert client.get(src).content == r.content
    assert client.get(link + "/charts/nothing.png").status_code == 404
    assert client.get("/h/" + "A" * 43 + "/charts/ranking.png").status_code == 404


def test_the_chart_cache_keeps_only_the_folders_used_last(client, ctx, monkeypatch):
    from tracker.web import charts

    monkeypatch.setattr(charts, "CACHE_FOLDERS", 3)
    link = issue(ctx, head=True)
    root = ctx.settings.paths.reports / "web" / "charts"
    (root / "notes").mkdir(parents=True)  # not a cache folder: never deleted

    def chart(day: int) -> bytes:
        r = client.get(f"{link}/charts/ranking.png?ngay={day:02d}/06/2023")
        assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n"
        return r.content

    def cached_days() -> set[int]:
        return {int(p.name[8:10]) for p in root.iterdir() if p.name.startswith("2023-06-")}

    for day in range(1, 6):
        chart(day)
        time.sleep(0.02)  # distinct modification times even on a coarse file system
    assert cached_days() == {3, 4, 5}
    third = chart(3)  # a hit: day 3 becomes the most recently used
    time.sleep(0.02)
    chart(6)
    assert cached_days() == {3, 5, 6}
    assert (root / "notes").is_dir()
    assert chart(3) == third


# --- uploads through the intake ----------------------------------------------------------------------------

GOOD = {"new_unions": 16, "agreements": 11, "congresses": 40, "new_members": 1520, "union_fees": 2345.5}


def upload(client, link: str, data: bytes, name: str = "Báo cáo tuần 26.xlsx"):
    csrf = csrf_of(client.get(link).text)
    return client.post(link + "/upload", data={"csrf": csrf},
                       files={"file": (name, data, "application/octet-stream")})


def test_a_good_sheet_is_accepted_and_the_verdict_shows_the_figures_read(client, ctx):
    link = issue(ctx, "LB")
    r = upload(client, link, report_for("LB", TODAY, GOOD))
    assert r.status_code == 303
    verdict_url = r.headers["location"]
    assert re.fullmatch(re.escape(link) + r"/submissions/\d+", verdict_url)
    page = client.get(verdict_url)
    assert page.status_code == 200
    assert "Đã tiếp nhận" in page.text and "Bị từ chối" not in page.text
    for text in ("1.520", "2.345,5", "Báo cáo!E9", "Phát triển đoàn viên mới", "30/06/2023"):
        assert text in page.text, text
    with ctx.session() as s:
        sub = s.exec(select(models.Submission)).one()
    assert (sub.source, sub.status, sub.file_name) == ("web", "accepted", "Báo cáo tuần 26.xlsx")
    assert sub.sender.startswith("web-link:")


def test_the_district_page_then_shows_the_history_and_progress_against_targets(client, ctx, cli):
    link = issue(ctx, "LB")
    upload(client, link, report_for("LB", TODAY, GOOD))
    page = client.get(link).text
    history = page[page.index('id="lich-su"'):]
    assert "Đã tiếp nhận" in history and "Báo cáo tuần 26.xlsx" in history and "30/06/2023 15:15" in history
    progress = page[page.index('id="tien-do"'):page.index('id="lich-su"')]
    assert "1.520" in progress and "Đơn vị đã báo cáo tuần này" in page
    assert "nộp muộn" not in page


def test_the_same_file_twice_is_already_received(client, ctx):
    link = issue(ctx, "LB")
    data = report_for("LB", TODAY, GOOD)
    first = upload(client, link, data).headers["location"]
    again = upload(client, link, data)
    assert again.status_code == 303 and again.headers["location"] == first + "?duplicate=1"
    assert "đã được tiếp nhận trước đó" in client.get(again.headers["location"]).text
    with ctx.session() as s:
        assert len(s.exec(select(models.Submission)).all()) == 1


def test_a_sheet_with_errors_is_rejected_with_the_cells_and_the_annotated_workbook(client, ctx, tmp_path):
    link = issue(ctx, "LB")
    bad = report_for("LB", TODAY, {"new_unions": "mười sáu", "agreements": -3, "congresses": ExcelError("#N/A")})
    r = upload(client, link, bad, name="LB sai.xlsx")
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert "Bị từ chối" in page.text and "Đã tiếp nhận" not in page.text
    for cell in ("Báo cáo!E9", "Báo cáo!E10", "Báo cáo!E11"):
        assert cell in page.text, cell
    href = re.search(r'href="([^"]+/annotated)"', page.text).group(1)
    annotated = client.get(href)
    assert annotated.status_code == 200
    assert "attachment" in annotated.headers["content-disposition"]
    (tmp_path / "a.xlsx").write_bytes(annotated.content)
    ws = openpyxl.load_workbook(tmp_path / "a.xlsx")["Báo cáo"]
    assert ws["E9"].comment is not None  # the faulty cell carries the intake's comment
    with ctx.session() as s:
        assert s.exec(select(models.Figure)).all() == []


def test_a_file_that_is_not_a_workbook_is_rejected_with_a_clear_reason(client, ctx):
    link = issue(ctx, "LB")
    r = upload(client, link, "Kính gửi Cụm trưởng, số liệu tuần này...".encode(), name="ghi-chu.xlsx")
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and "Bị từ chối" in page.text


def test_a_district_link_takes_only_that_districts_sheet(client, ctx):
    hbt, hm = issue(ctx, "HBT"), issue(ctx, "HM")
    sheet_of_hm = report_for("HM", TODAY, GOOD)
    r = upload(client, hbt, sheet_of_hm)
    page = client.get(r.headers["location"]).text
    assert "Bị từ chối" in page and "Báo cáo!B4" in page and "Hai Bà Trưng" in page
    # the same bytes through the right link are judged afresh and accepted
    r = upload(client, hm, sheet_of_hm)
    assert "Đã tiếp nhận" in client.get(r.headers["location"]).text


def test_a_district_cannot_see_another_districts_submission(client, ctx):
    hbt, hm = issue(ctx, "HBT"), issue(ctx, "HM")
    sheet_of_hm = report_for("HM", TODAY, GOOD)
    accepted = upload(client, hm, sheet_of_hm).headers["location"]
    rejected = upload(client, hm, report_for("HM", TODAY, {"agreements": -1})).headers["location"]
    for url in (accepted, rejected, rejected + "/annotated"):
        own = client.get(url)
        assert own.status_code == 200
        other = client.get(url.replace(hm, hbt))
        assert other.status_code == 404
    assert "Hoàng Mai" not in client.get(hbt).text


def test_bytes_rejected_before_elsewhere_show_their_errors_by_cell(client, ctx):
    from tests.intake_factory import report_xlsx
    from tracker.intake.ingest import ingest_bytes

    bad = report_xlsx(district="Tây Hồ", as_of="30/06/2023")  # names no district of the cluster
    assert ingest_bytes(ctx, bad, "from-the-inbox.xlsx", source="inbox").status == "rejected"
    r = upload(client, issue(ctx, "HBT"), bad)  # the same bytes again, through HBT's link
    assert r.status_code == 200 and "Bị từ chối" in r.text
    assert "Báo cáo!B4" in r.text and "Tây Hồ" in r.text  # the errors table, by cell
    assert "from-the-inbox.xlsx" not in r.text  # the name this upload was given, not the earlier one's


# --- a sheet of another district through a link ---------------------------------------------------------------

EARLIER = datetime(2023, 6, 29, 2, 40, tzinfo=UTC)  # 09:40 on 29/06 in Hà Nội


def sent_by_hm(ctx, data: bytes, name: str, at: datetime = EARLIER):
    """HM's clerk uploads through HM's own link, before HBT's clerk does."""
    with TestClient(create_app(ctx.settings, now=lambda: at), base_url=HOST, follow_redirects=False) as c:
        return upload(c, issue(ctx, "HM"), data, name=name)


def without_links(page: str) -> str:
    """The page without the link's secret (random letters that could spell anything)."""
    return re.sub(r"/d/[A-Za-z0-9_-]{43}", "/d/…", page)


def district_id(ctx, code: str) -> int:
    with ctx.session() as s:
        return s.exec(select(models.District.id).where(models.District.code == code)).one()


def test_another_districts_sheet_received_before_is_refused_through_a_link_revealing_nothing(client, ctx):
    sheet_of_hm = report_for("HM", TODAY, GOOD)
    assert sent_by_hm(ctx, sheet_of_hm, "HM gửi tuần 26.xlsx").status_code == 303
    hbt = issue(ctx, "HBT")

    r = upload(client, hbt, sheet_of_hm, name="Báo cáo tuần 26.xlsx")  # the very same bytes, through HBT's link

    assert r.status_code == 303 and r.headers["location"].startswith(hbt + "/submissions/")
    assert "duplicate" not in r.headers["location"]
    page = without_links(client.get(r.headers["location"]).text)
    assert "Bị từ chối" in page and "Đã tiếp nhận" not in page
    errors = page[page.index('id="loi"'):]
    assert "Báo cáo!B4" in errors and "Ô «Đơn vị» ghi một đơn vị khác" in errors  # the unit cell
    for secret in ("trước đó", "already", "HM gửi tuần 26", "Hoàng Mai", "HM", "29/06", "09:40"):
        assert secret not in page, secret
    district_page = without_links(client.get(hbt).text)
    for secret in ("HM gửi tuần 26", "Hoàng Mai", "29/06", "Đơn vị đã báo cáo tuần này"):
        assert secret not in district_page, secret
    # nothing stored for HBT; HM's sheet stays HM's current one
    hbt_id, hm_id = district_id(ctx, "HBT"), district_id(ctx, "HM")
    with ctx.session() as s:
        subs = s.exec(select(models.Submission).order_by(models.Submission.id)).all()
        figures = s.exec(select(models.Figure)).all()
    # the refused upload is the sender's (the HBT link's), not HM's: HM never sees it or counts it
    assert [(x.status, x.district_id, x.superseded_by_id) for x in subs] == [
        ("accepted", hm_id, None), ("rejected", None, None)]
    assert subs[1].file_name == "Báo cáo tuần 26.xlsx" and subs[1].sender.startswith("web-link:")
    assert len(figures) == len(GOOD) and {f.submission_id for f in figures} == {subs[0].id}
    assert not any(x.district_id == hbt_id for x in subs + figures)
    assert "Báo cáo tuần 26.xlsx" in district_page  # HBT's clerk sees the upload in its own history
    hm_page = without_links(client.get(issue(ctx, "HM")).text)
    assert "HM gửi tuần 26" in hm_page and "Báo cáo tuần 26.xlsx" not in hm_page


def test_a_refused_sheet_never_writes_over_the_quarantine_of_an_earlier_rejection(client, ctx):
    faulty_of_hm = report_for("HM", TODAY, {**GOOD, "agreements": -1})
    name = "Báo cáo tuần 26.xlsx"
    rejected = sent_by_hm(ctx, faulty_of_hm, name, at=datetime(2023, 6, 30, 1, 0, tzinfo=UTC))  # the same day
    assert rejected.status_code == 303
    with ctx.session() as s:
        hm_sub = s.exec(select(models.Submission)).one()
    hm_folder = Path(hm_sub.stored_path).parent
    hm_files = {p.name: p.read_bytes() for p in hm_folder.iterdir()}

    r = upload(client, issue(ctx, "HBT"), faulty_of_hm, name=name)  # same bytes, same name, through HBT's link
    page = client.get(r.headers["location"]).text
    assert "Báo cáo!B4" in page and "Báo cáo!E10" in page  # the link's rule and the sheet's own error

    with ctx.session() as s:
        refused = s.exec(select(models.Submission).where(models.Submission.id != hm_sub.id)).one()
    assert Path(refused.stored_path).parent != hm_folder
    assert {p.name: p.read_bytes() for p in hm_folder.iterdir()} == hm_files  # HM's own report, untouched
    assert "Ô «Đơn vị»" not in (hm_folder / "bao-cao-loi.txt").read_text(encoding="utf-8")


def test_this_weeks_template_is_prefilled_for_the_district(client, ctx, tmp_path):
    link = issue(ctx, "HK")
    r = client.get(link + "/template")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "bao-cao_HK_2023-06-30.xlsx" in r.headers["content-disposition"]
    (tmp_path / "t.xlsx").write_bytes(r.content)
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    values = [c.value for row in wb["Báo cáo"].iter_rows() for c in row if c.value is not None]
    assert "LĐLĐ quận Hoàn Kiếm" in values
    assert any(v == datetime(2023, 6, 30) or v == "30/06/2023" for v in values)


def test_the_dashboard_reflects_an_upload(client, ctx):
    upload(client, issue(ctx, "LB"), report_for("LB", TODAY, GOOD))
    html = client.get(issue(ctx, head=True)).text
    missing = html[html.index('id="chua-bao-cao"'):html.index('id="bang-tien-do"')]
    assert "Long Biên" not in missing and "Hai Bà Trưng" in missing
    assert "1/6" in html


def test_the_dashboard_offers_the_latest_weekly_report_to_download(client, ctx, tmp_path):
    from tracker.reporting.weekly import build_weekly

    upload(client, issue(ctx, "LB"), report_for("LB", TODAY, GOOD))
    older = ctx.settings.paths.reports / "weekly" / "2023-W25"
    older.mkdir(parents=True)
    (older / "tuần 25.xlsx").write_bytes(b"PK")
    report = build_weekly(ctx, TODAY, now=NOW)
    link = issue(ctx, head=True)
    html = client.get(link).text
    section = html[html.index('id="tai-ve"'):]
    assert "Báo cáo tiến độ tuần 26/2023" in section and "tuần 25" not in section
    hrefs = re.findall(r'href="([^"]+)"', section)
    workbook = next(h for h in hrefs if h.endswith(".xlsx"))
    r = client.get(workbook)
    assert r.status_code == 200 and r.content == report.workbook.read_bytes()
    assert "filename*=utf-8''" in r.headers["content-disposition"]  # the Vietnamese name arrives intact
    assert "email.html" not in section


def test_downloads_list_the_latest_review_pack_and_never_leave_its_folder(client, ctx):
    reports = ctx.settings.paths.reports
    for period, names in {"2023-H1": ["Sơ kết.pdf", "Sơ kết.pptx", "1.png"], "2022": ["old.pdf"],
                          "notes": ["x.pdf"]}.items():
        (reports / "review" / period).mkdir(parents=True)
        for name in names:
            (reports / "review" / period / name).write_bytes(b"%PDF" + name.encode())
    (reports / "secret.txt").write_text("no")
    link = issue(ctx, head=True)
    section = client.get(link).text.split('id="tai-ve"')[1]
    assert "Tài liệu sơ kết 6 tháng đầu năm 2023" in section
    names = re.findall(r">([^<]+\.(?:pdf|pptx|png))</a>", section)
    assert names == ["Sơ kết.pdf", "Sơ kết.pptx", "1.png"]
    assert client.get(link + "/files/review/2023-H1/S%C6%A1%20k%E1%BA%BFt.pdf").content == "%PDFSơ kết.pdf".encode()
    for bad in ("/files/review/2023-H1/..%2F..%2Fsecret.txt", "/files/review/..%2F/secret.txt",
                "/files/review/notes/x.pdf", "/files/other/2023-H1/1.png", "/files/review/2023-H1/nothing.pdf"):
        assert client.get(link + bad).status_code == 404, bad
    district = issue(ctx, "HBT").replace("/d/", "/h/")
    assert client.get(district + "/files/review/2023-H1/1.png").status_code == 404


def test_tracker_web_serves_the_portal_until_stopped(cli, config_path):
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx2

    assert cli("init").exit_code == 0
    link = cli("tokens", "issue", "DD").stdout.strip()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-c", "from tracker.cli import main; main()", "--config",
                             str(config_path), "web", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx2.get(f"http://127.0.0.1:{port}{link}", timeout=5)
                break
            except httpx2.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else ""
                time.sleep(0.2)
        assert r.status_code == 200 and "LĐLĐ quận Đống Đa" in r.text
        assert httpx2.get(f"http://127.0.0.1:{port}/d/{'x' * 43}", timeout=5).status_code == 404
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out == ""  # a server prints nothing on stdout; its log goes to stderr
    assert f"http://127.0.0.1:{port}/" in err
    assert '"GET /d/' in err and link[3:] not in err  # the access log never holds a whole link


def test_an_accepted_sheet_with_a_blank_indicator_shows_the_warning(client, ctx):
    link = issue(ctx, "BD")
    r = upload(client, link, report_for("BD", TODAY, {**GOOD, "union_fees": None}))
    page = client.get(r.headers["location"]).text
    assert "Đã tiếp nhận" in page
    warnings = page[page.index('id="canh-bao"'):]
    assert "Báo cáo!E13" in warnings and "Thu kinh phí công đoàn" in warnings


def test_a_new_version_for_the_same_date_supersedes_the_older_one(client, ctx):
    link = issue(ctx, "BD")
    first = upload(client, link, report_for("BD", TODAY, GOOD)).headers["location"]
    upload(client, link, report_for("BD", TODAY, {**GOOD, "new_unions": 17}))
    assert "Đơn vị đã gửi một bản mới hơn cho cùng ngày số liệu" in client.get(first).text
    assert "đã có bản mới hơn" in client.get(link).text
    progress = client.get(link).text.split('id="tien-do"')[1].split('id="lich-su"')[0]
    assert ">17<" in progress.replace(" ", "")


def test_tracker_web_refuses_to_start_before_init(cli):
    r = cli("web", "--port", "1")
    assert r.exit_code == 2 and "tracker init" in r.stderr


def test_the_portal_shows_the_score_as_the_reports_do(client, ctx):
    # Ranks are decided on the score rounded to 4 decimals: 2 would show tied scores with different ranks.
    from tracker.standing import cluster_progress
    from tracker.text import format_number

    link = issue(ctx, "LB")
    upload(client, link, report_for("LB", TODAY, GOOD))
    score = format_number(cluster_progress(ctx, TODAY).district("LB").score, 4)
    assert len(score.split(",")[1]) == 4
    assert f"điểm {score}." in client.get(link).text
    dashboard = client.get(issue(ctx, head=True)).text
    assert f">{score}<" in dashboard
    assert "nộp muộn: báo cáo đầu tiên của tuần đến sau 17:00 thứ Sáu" in dashboard
