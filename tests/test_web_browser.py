"""The portal in a real browser: Debian's Chromium driven by Playwright, against uvicorn on loopback.

A clerk downloads this week's template, fills it in, uploads it and reads the verdict; then uploads a
sheet with mistakes and gets the errors by cell and the annotated workbook. Screenshots of every page
go to ``$TRACKER_WEB_SCREENSHOTS`` (default: the test's tmp folder) for a person to look at.

Skipped, with the reason, when /usr/bin/chromium is not installed (``apt-get install chromium``).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
TODAY = date(2023, 6, 30)
NOW = datetime(2023, 6, 30, 8, 15, tzinfo=UTC)  # Friday 15:15 in Hà Nội

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="Chromium is not installed at /usr/bin/chromium (apt-get install chromium)"),
    pytest.mark.slow,
]


@pytest.fixture
def server(ctx):
    """The portal served by uvicorn on a free loopback port, in a thread."""
    import uvicorn

    from tracker.web.app import create_app

    app = create_app(ctx.settings, now=lambda: NOW)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # log_config=None: uvicorn's default dictConfig would stop its loggers propagating for the rest of the
    # session, and later tests read the access log through caplog.
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("TRACKER_WEB_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _issue(ctx, district=None, head=False) -> str:
    from tracker.web import tokens

    role = tokens.ROLE_HEAD if head else tokens.ROLE_DISTRICT
    with ctx.session(write=True) as s:
        token, _ = tokens.issue(s, ctx.cluster_id, role=role, district_code=district)
    return tokens.link_path(role, token)


def _fill(template: Path, out: Path, values: dict[str, object]) -> Path:
    """The downloaded template with the year-to-date column filled in, as a clerk would (openpyxl)."""
    import openpyxl

    from tracker.text import fold

    wb = openpyxl.load_workbook(template)
    ws = wb["Báo cáo"]
    header = key_col = ytd_col = None
    for row in ws.iter_rows(min_row=1, max_row=40):
        for cell in row:
            if fold(cell.value) == fold("Mã chỉ tiêu"):
                header, key_col = cell.row, cell.column
            elif header and cell.row == header and fold(cell.value) in (fold("Luỹ kế từ đầu năm"),
                                                                        fold("Lũy kế từ đầu năm")):
                ytd_col = cell.column
        if header:
            break
    assert header and ytd_col, "the template has the table of docs/sheet-format.md §5"
    row = header + 1
    while ws.cell(row, key_col).value:
        key = ws.cell(row, key_col).value
        if key in values:
            ws.cell(row, ytd_col).value = values[key]
        row += 1
    wb.save(out)
    return out


def test_a_clerk_uploads_a_good_and_a_bad_sheet_and_reads_the_verdicts(ctx, server, browser, shots, tmp_path):
    link = _issue(ctx, "LB")
    page = browser.new_page(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    page.goto(server + link)
    assert "LĐLĐ quận Long Biên" in page.inner_text("h1.who")
    page.screenshot(path=shots / "1-district-page.png", full_page=True)

    with page.expect_download() as dl:
        page.click("text=Tải mẫu báo cáo tuần này")
    template = tmp_path / dl.value.suggested_filename
    dl.value.save_as(template)
    assert template.suffix == ".xlsx"

    good = _fill(template, tmp_path / "Long Biên tuần 26.xlsx",
                 {"new_unions": 16, "agreements": 11, "congresses": 40, "new_members": 1520, "union_fees": 2345.5})
    page.set_input_files("input[name=file]", str(good))
    page.click("button:has-text('Gửi báo cáo')")
    page.wait_for_load_state()
    assert page.inner_text("#ket-qua h1") == "Đã tiếp nhận"
    figures = page.inner_text("#so-lieu")
    assert "1.520" in figures and "2.345,5" in figures and "Báo cáo!" in figures
    page.screenshot(path=shots / "2-accepted.png", full_page=True)

    page.click("text=Về trang của đơn vị")
    bad = _fill(template, tmp_path / "Long Biên sai.xlsx", {"new_unions": "mười sáu", "agreements": -3})
    page.set_input_files("input[name=file]", str(bad))
    page.click("button:has-text('Gửi báo cáo')")
    page.wait_for_load_state()
    assert page.inner_text("#ket-qua h1") == "Bị từ chối"
    errors = page.inner_text("#loi")
    assert errors.count("Báo cáo!") >= 2
    page.screenshot(path=shots / "3-rejected.png", full_page=True)
    with page.expect_download() as dl:
        page.click("text=Tải tệp đã đánh dấu ô lỗi")
    annotated = tmp_path / "annotated.xlsx"
    dl.value.save_as(annotated)
    assert annotated.read_bytes()[:2] == b"PK"

    page.goto(server + link)
    history = page.inner_text("#lich-su")
    assert "Đã tiếp nhận" in history and "Bị từ chối" in history
    page.screenshot(path=shots / "4-district-after.png", full_page=True)

    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    phone.goto(server + link)
    phone.screenshot(path=shots / "5-district-phone.png", full_page=True)
    # nothing wider than the screen except inside the scrolling table boxes
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.goto(page.url)  # the district's page, then its last verdict, on a phone
    phone.click("text=Xem chi tiết >> nth=0")
    assert phone.inner_text("#ket-qua h1") == "Bị từ chối"
    phone.screenshot(path=shots / "6-rejected-phone.png", full_page=True)

    head_link = _issue(ctx, head=True)
    head = browser.new_page(viewport={"width": 1280, "height": 900})
    head.goto(server + head_link)
    missing = head.inner_text("#chua-bao-cao")
    assert "Long Biên" not in missing and "Hai Bà Trưng" in missing
    ranking = head.inner_text("#bang-tien-do tbody tr >> nth=0")
    assert ranking.startswith("1") and "Long Biên" in ranking
    # every chart is drawn by the reporting code and actually arrives as an image
    head.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=60_000)
    sizes = head.evaluate("Array.from(document.images).map(i => i.naturalWidth)")
    assert len(sizes) == 7 and min(sizes) > 300
    head.screenshot(path=shots / "7-dashboard.png", full_page=True)
    phone.goto(server + head_link)
    phone.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=60_000)
    phone.screenshot(path=shots / "8-dashboard-phone.png", full_page=True)


def test_a_unit_confirms_its_figures_and_a_tampered_csrf_token_is_refused(ctx, server, browser, shots):
    """The **Xác nhận số liệu** form in Chromium: a tampered CSRF token gets the 403 page and records
    nothing; the form as served records the confirmation, and the banner then says when."""
    from tests.test_confirmations import seed
    from tracker import closing
    from tracker.calendar import parse_period

    seed(ctx)
    h1 = parse_period("2023-H1")
    with ctx.session(write=True) as s:
        closing.record_request(s, ctx.cluster_id, h1, date(2023, 6, 30), NOW)
    link = _issue(ctx, "LB")
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(server + link)
    ask = page.inner_text("#xac-nhan")
    assert "Xác nhận số liệu sơ kết 6 tháng đầu năm 2023" in ask and "1.690,5" in ask and "53,3%" in ask
    page.screenshot(path=shots / "9-confirmation-banner.png", full_page=True)
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    phone.goto(server + link)
    phone.screenshot(path=shots / "9-confirmation-banner-phone.png", full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    page.evaluate("document.querySelector('form.confirm input[name=csrf]').value = '0'.repeat(64)")
    with page.expect_response(lambda r: r.url.endswith("/confirm")) as answer:
        page.click("button:has-text('Xác nhận số liệu')")
    assert answer.value.status == 403
    assert "Yêu cầu bị từ chối" in page.inner_text("main")
    with ctx.session() as s:
        assert closing.valid_confirmations(s, ctx.cluster_id, h1, date(2023, 6, 30)) == {}

    page.goto(server + link)
    page.click("button:has-text('Xác nhận số liệu')")
    page.wait_for_load_state()
    assert "Đã xác nhận lúc 30/06/2023 15:15" in page.inner_text("#xac-nhan")
    page.screenshot(path=shots / "10-confirmed.png", full_page=True)
    with ctx.session() as s:
        assert set(closing.valid_confirmations(s, ctx.cluster_id, h1, date(2023, 6, 30))) == {"LB"}
