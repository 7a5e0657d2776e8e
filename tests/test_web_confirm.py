"""The portal's confirmation banner and its **Xác nhận số liệu** form, through FastAPI's TestClient on the
database under test (SQLite or PostgreSQL): confirming, CSRF and origin rules, a stale form, a new sheet
that voids the confirmation, a closed period. The same form in real Chromium is in tests/test_web_browser.py."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from tests.intake_factory import report_for
from tests.test_confirmations import BASE_URL, LINK, bodies, message, outbox_files, seed
from tests.test_status import add_sheet
from tracker import closing, models
from tracker.calendar import parse_period
from tracker.web import tokens
from tracker.web.app import create_app

HOST = "http://testserver"
H1 = parse_period("2023-H1")
JUNE_30 = date(2023, 6, 30)
GOOD = {"new_unions": 16, "agreements": 11, "congresses": 40, "new_members": 1520, "union_fees": 2345.5}


class Clock:
    """The portal's clock, moved by the test (a confirmation and a later sheet need distinct times)."""

    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kw) -> None:
        self.at += timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2023, 7, 3, 2, 0, tzinfo=UTC))  # Monday 09:00 in Hà Nội


@pytest.fixture
def client(ctx, clock):
    with TestClient(create_app(ctx.settings, now=clock), base_url=HOST, follow_redirects=False) as c:
        yield c


def issue(ctx, district: str, label: str = "chị Lan") -> str:
    with ctx.session(write=True) as s:
        token, _ = tokens.issue(s, ctx.cluster_id, role=tokens.ROLE_DISTRICT, district_code=district, label=label)
    return tokens.link_path(tokens.ROLE_DISTRICT, token)


def ask(ctx, as_of: date = JUNE_30, at: datetime = datetime(2023, 7, 1, 1, tzinfo=UTC)) -> None:
    with ctx.session(write=True) as s:
        closing.record_request(s, ctx.cluster_id, H1, as_of, at)


def banner(html: str) -> str:
    """The banner's text, tags removed (empty when there is none)."""
    m = re.search(r'<section class="card banner[^"]*" id="xac-nhan">(.*?)</section>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(1))) if m else ""


def form_of(html: str) -> dict[str, str]:
    form = re.search(r'<form method="post" action="[^"]+/confirm".*?</form>', html, re.S).group(0)
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))


def confirmed(ctx) -> list[str]:
    with ctx.session() as s:
        return closing.period_states(s, ctx.settings, [H1])[0]["confirmed"]


def test_no_banner_before_the_units_are_asked(client, ctx):
    seed(ctx)
    page = client.get(issue(ctx, "LB")).text
    assert banner(page) == "" and "/confirm" not in page


def test_a_unit_confirms_through_its_page_and_period_list_shows_it(client, ctx, cli):
    seed(ctx)
    ask(ctx)
    link = issue(ctx, "LB")
    page = client.get(link).text
    shown = banner(page)
    assert "Xác nhận số liệu sơ kết 6 tháng đầu năm 2023" in shown and "tính đến ngày 30/06/2023" in shown
    assert "Thành lập CĐCS mới (CĐCS) 30 16 53,3% 30/06/2023" in shown
    assert "Thu kinh phí công đoàn (triệu đồng) 3.100 1.690,5 54,5% 30/06/2023" in shown
    assert "Đã xác nhận" not in shown
    fields = form_of(page)
    assert (fields["period"], fields["as_of"]) == ("2023-H1", "2023-06-30")

    r = client.post(link + "/confirm", data=fields)
    assert r.status_code == 303 and r.headers["location"] == link + "#xac-nhan"
    after = banner(client.get(link).text)
    assert "Đã xác nhận lúc 03/07/2023 09:00 (chị Lan)" in after and "/confirm" not in client.get(link).text

    listed = json.loads(cli("period", "list", "--format", "json").stdout)[0]
    assert (listed["period"], listed["confirmed"]) == ("2023-H1", ["LB"])
    with ctx.session() as s:
        row = s.exec(select(models.Confirmation)).one()
    assert (row.channel, row.confirmed_by, row.as_of) == ("web", "chị Lan", JUNE_30)
    assert {f["indicator"]: f["value"] for f in row.figures} == {"new_unions": 16, "agreements": 11,
                                                                 "union_fees": 1690.5}
    # the form sent twice (a double click) confirms once
    assert client.post(link + "/confirm", data=fields).status_code == 303
    with ctx.session() as s:
        assert len(s.exec(select(models.Confirmation)).all()) == 1


@pytest.mark.parametrize(("csrf", "headers"), [
    (None, {}),
    ("0" * 64, {}),
    ("other-link", {}),
    ("own", {"Origin": "https://evil.example"}),
    ("own", {"Origin": "null"}),
    ("own", {"Referer": "https://evil.example/page"}),
])
def test_a_wrong_csrf_token_or_a_foreign_origin_is_refused_and_nothing_is_confirmed(client, ctx, csrf, headers):
    seed(ctx)
    ask(ctx)
    link, other = issue(ctx, "LB"), issue(ctx, "HM")
    fields = form_of(client.get(link).text)
    if csrf is None:
        del fields["csrf"]
    elif csrf == "other-link":
        fields["csrf"] = form_of(client.get(other).text)["csrf"]
    elif csrf != "own":
        fields["csrf"] = csrf
    r = client.post(link + "/confirm", data=fields, headers=headers)
    assert r.status_code == 403 and "Yêu cầu bị từ chối" in r.text
    assert confirmed(ctx) == []


def test_a_new_sheet_voids_the_confirmation_and_the_banner_asks_again(client, ctx, clock, cli):
    seed(ctx)
    ask(ctx)
    link = issue(ctx, "LB")
    assert client.post(link + "/confirm", data=form_of(client.get(link).text)).status_code == 303
    assert confirmed(ctx) == ["LB"]

    clock.advance(hours=2)  # LB uploads a corrected sheet dated 30/06 through its page
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', client.get(link).text).group(1)
    upload = client.post(link + "/upload", data={"csrf": csrf},
                         files={"file": ("LB sửa.xlsx", report_for("LB", JUNE_30, {**GOOD, "new_unions": 18}),
                                         "application/octet-stream")})
    assert upload.status_code == 303
    page = client.get(link).text
    shown = banner(page)
    assert "Cần xác nhận lại" in shown and "sau lần xác nhận lúc 03/07/2023 09:00" in shown
    assert "Thành lập CĐCS mới (CĐCS) 30 18 60,0% 30/06/2023" in shown and "Đã xác nhận" not in shown
    assert confirmed(ctx) == []
    assert json.loads(cli("period", "list", "--format", "json").stdout)[0]["confirmed"] == []

    clock.advance(minutes=5)  # confirming again counts again
    assert client.post(link + "/confirm", data=form_of(page)).status_code == 303
    assert confirmed(ctx) == ["LB"] and "Đã xác nhận lúc 03/07/2023 11:05" in banner(client.get(link).text)


def test_a_form_shown_before_the_figures_changed_is_refused_as_stale(client, ctx, clock):
    seed(ctx)
    ask(ctx)
    link = issue(ctx, "LB")
    fields = form_of(client.get(link).text)
    with ctx.session(write=True) as s:  # a sheet arrives by e-mail while the page is open
        add_sheet(s, "LB", JUNE_30, {"new_unions": 17}, received=datetime(2023, 7, 3, 1, tzinfo=UTC), file_hash="mail")
    r = client.post(link + "/confirm", data=fields)
    assert r.status_code == 409 and "đã thay đổi từ khi trang được mở" in r.text
    assert confirmed(ctx) == []
    # a newer request, as of another date: the old form is stale too
    ask(ctx, date(2023, 6, 15), datetime(2023, 7, 2, tzinfo=UTC))
    fresh = form_of(client.get(link).text)
    assert fresh["as_of"] == "2023-06-15"
    assert client.post(link + "/confirm", data={**fresh, "as_of": "2023-06-30"}).status_code == 409
    assert client.post(link + "/confirm", data=fresh).status_code == 303


def test_a_closed_period_shows_the_snapshot_and_an_amended_unit_gets_no_form(client, ctx):
    seed(ctx)
    ask(ctx)
    with ctx.session(write=True) as s:
        closing.close_period(s, ctx.settings, H1, by="admin", now=datetime(2023, 7, 2, 2, tzinfo=UTC))
        add_sheet(s, "LB", JUNE_30, {"new_unions": 18}, received=datetime(2023, 7, 2, 5, tzinfo=UTC), file_hash="late")
    lb = client.get(issue(ctx, "LB")).text
    shown = banner(lb)
    assert "Số liệu đã chốt đến ngày 30/06/2023 (chốt lúc 02/07/2023 09:00)" in shown
    assert "Thành lập CĐCS mới (CĐCS) 30 16 53,3%" in shown  # frozen, not the 18 sent since
    assert "Đã gửi số liệu sửa sau khi chốt" in shown and "/confirm" not in lb
    hm_link = issue(ctx, "HM")
    hm = client.get(hm_link).text
    assert "Thành lập CĐCS mới (CĐCS) 35 7 20,0% 23/06/2023" in banner(hm)
    assert client.post(hm_link + "/confirm", data=form_of(hm)).status_code == 303
    assert confirmed(ctx) == ["HM"]


def test_the_link_in_the_message_opens_the_page_where_the_unit_confirms(ctx, cli, web_config, client):
    seed(ctx)
    assert cli("send", "confirmations", "--period", "2023-H1", config=web_config).exit_code == 0
    text, _html = bodies(message(outbox_files(web_config)["HM"]))
    link = LINK.search(text).group(0).removeprefix(BASE_URL)
    page = client.get(link).text
    assert "LĐLĐ quận Hoàng Mai" in page and "Thành lập CĐCS mới (CĐCS) 35 7 20,0%" in banner(page)
    assert client.post(link + "/confirm", data=form_of(page)).status_code == 303
    listed = json.loads(cli("period", "list", "--format", "json", config=web_config).stdout)[0]
    assert listed["confirmed"] == ["HM"]
    with ctx.session() as s:
        assert s.exec(select(models.Confirmation)).one().confirmed_by == "xác nhận 2023-H1 (số liệu đến 30/06/2023)"
