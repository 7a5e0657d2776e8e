"""The assessment's result (docs/assessment.md §4, §6): `tracker assess` as a table, JSON and CSV, the
workbook, the ranking chart and the draft minutes of `tracker report assessment`, `tracker send
assessment` once per year, and the table on the head's dashboard — all on scores stored the way intake
and the cross-check import store them."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from sqlmodel import select

from tests.test_status import add_sheet
from tracker import models
from tracker.assessment.store import ScoreLine, store_review, store_self_scores

FLAG = "Cờ thi đua của LĐLĐ Thành phố"
MERIT = "Bằng khen của LĐLĐ Thành phố"
AS_OF = "30/06/2023"


def _self(session, code: str, scores: dict[str, float | None], received: datetime) -> None:
    district = session.exec(select(models.District).where(models.District.code == code)).one()
    sub = models.Submission(cluster_id="cum-1", file_hash=f"self-{code}-{received.timestamp()}",
                            file_name=f"Tự chấm {code}.xlsx", kind=models.SubmissionKind.assessment,
                            district_id=district.id, received_at=received, sheet="Tự chấm điểm")
    session.add(sub)
    session.flush()
    lines = [ScoreLine(c, v, f"E{9 + n}") for n, (c, v) in enumerate(scores.items())]
    store_self_scores(session, sub, year=2023, as_of=date(2023, 6, 30), lines=lines, sheet="Tự chấm điểm")


@pytest.fixture
def scored(ctx):
    """LB leads alone (a figure on time, its own 2.1 cut by the cluster); HM, BD and HK tie for the two
    merit awards; HBT is last but one; DD sent nothing."""
    with ctx.session(write=True) as session:
        add_sheet(session, "LB", date(2023, 6, 30), {"new_unions": 45}, received=datetime(2023, 6, 30, 3, tzinfo=UTC))
        at = datetime(2023, 7, 1, 2, tzinfo=UTC)
        _self(session, "LB", {"2.1": 14, "2.2": 15, "T1": 3, "P1": None}, at)
        for code in ("HM", "BD", "HK"):
            _self(session, code, {"2.1": 10, "2.2": 10, "T1": None, "P1": None}, at)
        _self(session, "HBT", {"2.1": 5, "2.2": 5, "T1": None, "P1": 1}, at)
        store_review(session, "cum-1", 2023, file_hash="review-1", file_name="Thẩm định.xlsx", stored_path="",
                     rows=[("LB", ScoreLine("2.1", 12, "D2"))], sheet="Thẩm định",
                     now=datetime(2023, 7, 3, tzinfo=UTC))
    return ctx


def test_json_is_the_documented_object_with_stored_scores_and_the_proposals(scored, cli):
    r = cli("assess", "--year", "2023", "--as-of", AS_OF, "--format", "json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert {k: data[k] for k in ("cluster", "year", "as_of", "total_points")} == {
        "cluster": "cum-1", "year": 2023, "as_of": "2023-06-30", "total_points": 100}
    units = {u["code"]: u for u in data["units"]}
    assert [u["code"] for u in data["units"]][0] == "LB" and len(units) == 6
    lb = units["LB"]
    assert set(lb) == {"code", "name", "criteria", "bonus", "penalty", "self_total", "final_total", "rank", "award",
                       "vote_needed"}
    c21 = next(c for c in lb["criteria"] if c["code"] == "2.1")
    assert c21 == {"code": "2.1", "points": 15, "applicable": True, "computed": None, "self": 14, "cluster": 12,
                   "final": 12}
    c11 = next(c for c in lb["criteria"] if c["code"] == "1.1")
    assert c11["computed"] == c11["self"] == c11["final"] == 12  # 45 of a target ≤ 45: full marks
    assert lb["bonus"] == [{"code": "T1", "self": 3, "cluster": None, "final": 3}]
    assert lb["penalty"] == [{"code": "P1", "self": None, "cluster": None, "final": 0}]
    assert (lb["rank"], lb["award"], lb["vote_needed"]) == (1, FLAG, None)
    for code in ("HM", "BD", "HK"):
        assert (units[code]["rank"], units[code]["award"], units[code]["vote_needed"]) == (2, None, MERIT)
    assert units["HBT"]["rank"] == 5 and units["HBT"]["penalty"][0]["final"] == 1
    assert units["DD"]["self_total"] == 0 and units["DD"]["award"] is None


def test_csv_has_one_row_per_unit_and_code_with_the_documented_columns(scored, cli):
    r = cli("assess", "--as-of", AS_OF, "--format", "csv")
    assert r.exit_code == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert list(rows[0]) == ["cluster", "year", "as_of", "rank", "unit_code", "unit_name", "kind", "code", "points",
                             "applicable", "computed", "self", "cluster_score", "final", "self_total", "final_total",
                             "award", "vote_needed"]
    assert len(rows) == 6 * (8 + 1 + 1)
    lb21 = next(r for r in rows if r["unit_code"] == "LB" and r["code"] == "2.1")
    assert (lb21["kind"], lb21["self"], lb21["cluster_score"], lb21["final"], lb21["award"]) == (
        "criterion", "14", "12", "12", FLAG)
    p1 = next(r for r in rows if r["unit_code"] == "LB" and r["code"] == "P1")
    assert (p1["kind"], p1["points"], p1["self"], p1["final"]) == ("penalty", "2", "", "0")
    assert next(r for r in rows if r["unit_code"] == "HM")["vote_needed"] == MERIT


def test_the_table_shows_ranks_scores_and_who_the_meeting_votes_on(scored, cli):
    r = cli("assess", "--as-of", AS_OF)
    assert r.exit_code == 0, r.stderr
    for word in ("Hạng", "Đơn vị", "Tự chấm", "Điểm cuối", "Đề nghị khen thưởng", "Cần bỏ phiếu",
                 "LĐLĐ quận Long Biên", FLAG, f"Bỏ phiếu xét {MERIT}", "30/06/2023"):
        assert word in r.stdout, word
    assert "2 suất do Hội nghị bỏ phiếu" in r.stdout


def test_a_year_without_data_or_a_date_outside_the_year_is_one_clear_usage_error(scored, cli):
    r = cli("assess", "--year", "2019")
    assert r.exit_code == 2 and "Năm 2019" in r.stderr and "2023" in r.stderr and "Traceback" not in r.stderr
    r = cli("assess", "--year", "2023", "--as-of", "01/02/2022")
    assert r.exit_code == 2 and "không thuộc năm 2023" in r.stderr
    assert cli("assess", "--format", "xml").exit_code == 2


def test_the_year_defaults_to_the_cluster_year_as_of_31_december(scored, cli):
    data = json.loads(cli("assess", "--format", "json").stdout)
    assert (data["year"], data["as_of"]) == (2023, "2023-12-31")


@pytest.fixture
def written(scored, cli, tmp_path):
    r = cli("report", "assessment", "--as-of", AS_OF, "-o", str(tmp_path / "out"))
    assert r.exit_code == 0, r.stderr
    return [p for p in (line.strip() for line in r.stdout.splitlines()) if p]


def _one(paths, suffix):
    return next(p for p in paths if p.endswith(suffix))


def test_report_assessment_writes_workbook_chart_minutes_and_email(written):
    assert {p.rsplit(".", 1)[-1] for p in written} == {"xlsx", "png", "docx", "html", "txt"}
    assert "Kết quả chấm điểm thi đua năm 2023 - Cụm thi đua số 1.xlsx" in _one(written, ".xlsx")


def test_the_workbook_shows_self_cluster_final_and_marks_the_differences(written):
    wb = openpyxl.load_workbook(_one(written, ".xlsx"))
    assert wb.sheetnames == ["Kết quả", "Chi tiết"]
    ws = wb["Chi tiết"]
    header = [c.value for c in ws[4]]
    col = {t: header.index(t) for t in header if t}
    rows = [[c for c in row] for row in ws.iter_rows(min_row=5)]
    lb21 = next(r for r in rows if r[col["Mã đơn vị"]].value == "LB" and r[col["Mã tiêu chí"]].value == "2.1")
    assert (lb21[col["Tự chấm"]].value, lb21[col["Cụm chấm"]].value, lb21[col["Điểm cuối cùng"]].value,
            lb21[col["Chênh lệch"]].value) == (14, 12, 12, -2)
    fill = lb21[col["Cụm chấm"]].fill.fgColor.rgb
    assert fill not in (None, "00000000")
    lb22 = next(r for r in rows if r[col["Mã đơn vị"]].value == "LB" and r[col["Mã tiêu chí"]].value == "2.2")
    assert lb22[col["Cụm chấm"]].fill.fgColor.rgb != fill and lb22[col["Chênh lệch"]].value is None
    legend = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "Ô tô màu" in c.value]
    assert legend  # the highlight is explained
    # a computed criterion shows the figure and target it comes from
    lb11 = next(r for r in rows if r[col["Mã đơn vị"]].value == "LB" and r[col["Mã tiêu chí"]].value == "1.1")
    assert lb11[col["Thực hiện / số tuần đúng hạn"]].value == 45 and lb11[col["Chỉ tiêu / số tuần phải nộp"]].value
    assert "Thực hiện 45 / chỉ tiêu" in lb11[col["Căn cứ tính điểm"]].value
    lb16 = next(r for r in rows if r[col["Mã đơn vị"]].value == "LB" and r[col["Mã tiêu chí"]].value == "1.6")
    assert lb16[col["Thực hiện / số tuần đúng hạn"]].value == 1 and lb16[col["Chỉ tiêu / số tuần phải nộp"]].value == 26
    total = next(r for r in rows if r[col["Mã đơn vị"]].value == "LB" and r[col["Loại"]].value == "Tổng cộng")
    assert total[col["Điểm cuối cùng"]].value > total[col["Tự chấm"]].value - 3  # the total row is there


def test_the_workbook_results_sheet_ranks_and_proposes(written):
    ws = openpyxl.load_workbook(_one(written, ".xlsx"))["Kết quả"]
    header = [c.value for c in ws[4]]
    first = [c.value for c in ws[5]]
    assert first[header.index("Hạng")] == 1 and first[header.index("Mã đơn vị")] == "LB"
    assert first[header.index("Đề nghị khen thưởng")] == FLAG
    second = [c.value for c in ws[6]]
    assert second[header.index("Cần bỏ phiếu")] == f"Bỏ phiếu xét {MERIT}"
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(t.startswith(f"{MERIT} (2)") for t in texts)
    assert any("2 suất do Hội nghị bỏ phiếu" in t for t in texts)


def test_the_minutes_are_an_official_bien_ban_with_proposals_and_a_vote_table(written):
    doc = Document(_one(written, ".docx"))
    texts = [p.text for p in doc.paragraphs]
    assert "BIÊN BẢN" in texts and "Họp bình xét thi đua năm 2023 của Cụm thi đua số 1" in texts
    assert "I. THÀNH PHẦN" in texts and "II. NỘI DUNG" in texts and "III. KẾT LUẬN" in texts
    assert any(t.startswith(f"- {FLAG} (1): LĐLĐ quận Long Biên") for t in texts)
    assert any(t.startswith(f"- {MERIT} (2): 2 suất do Hội nghị bỏ phiếu") for t in texts)
    assert any("[...]" in t for t in texts)
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    vote = next(t for t in tables if t[0][-2:] == ["Số phiếu đồng ý", "Tỷ lệ (%)"])
    assert sorted(r[1] for r in vote[1:]) == sorted(["LĐLĐ quận Hoàng Mai", "LĐLĐ quận Ba Đình",
                                                     "LĐLĐ quận Hoàn Kiếm"])
    assert all(r[-2:] == ["", ""] for r in vote[1:])
    ranking = next(t for t in tables if t[0][0] == "Hạng")
    assert ranking[1][:2] == ["1", "LĐLĐ quận Long Biên"] and ranking[1][-1] == FLAG
    # the header says "Số: /BB-…" and the two signers sit side by side, Nơi nhận under them
    assert doc.tables[0].rows[1].cells[0].text.startswith("Số:") and "/BB-CTĐ1" in doc.tables[0].rows[1].cells[0].text
    sign = next(t for t in doc.tables if "THƯ KÝ" in t.rows[0].cells[0].text)
    assert "CHỦ TRÌ" in sign.rows[0].cells[1].text
    assert texts.index("Nơi nhận:") > texts.index("III. KẾT LUẬN")
    annex = next(t for t in tables if t[0][:3] == ["Mã", "Tiêu chí", "Điểm chuẩn"])
    row21 = next(r for r in annex if r[0] == "2.1")
    assert "14,00 → 12,00" in row21  # the cluster changed LB's own score


def test_the_minutes_keep_the_official_format(written):
    from docx.shared import Mm

    doc = Document(_one(written, ".docx"))
    section = doc.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(1) and abs(section.left_margin - Mm(30)) < Mm(1)
    assert doc.sections[-1].page_width > doc.sections[-1].page_height  # the annex is landscape
    title = next(p for p in doc.paragraphs if p.text == "BIÊN BẢN")
    assert title.runs[0].bold and title.alignment == 1
    assert doc.styles["Normal"].font.name == "Times New Roman"


def test_send_assessment_mails_the_head_once_per_year(scored, cli, settings):
    r = cli("send", "assessment", "--as-of", AS_OF, "--dry-run")
    assert r.exit_code == 0 and "sẽ gửi" in r.stdout
    r = cli("send", "assessment", "--as-of", AS_OF)
    assert r.exit_code == 0, r.stdout + r.stderr
    with scored.session() as s:
        rows = s.exec(select(models.OutboxMessage)).all()
    assert len(rows) == 1 and rows[0].kind == "assessment" and rows[0].period == "2023"
    assert rows[0].subject == "[Cụm thi đua số 1] Kết quả chấm điểm thi đua năm 2023 (số liệu đến 30/06/2023)"
    raw = bytes(rows[0].message)
    for name in ("xlsx", "docx", "png"):
        assert f".{name}".encode() in raw
    again = cli("send", "assessment", "--as-of", "31/07/2023")
    assert again.exit_code == 0 and "không gửi lại" in again.stdout
    with scored.session() as s:
        assert len(s.exec(select(models.OutboxMessage)).all()) == 1
    assert (settings.paths.reports / "assessment" / "2023").is_dir()


def test_the_email_body_lists_the_ranking_and_the_proposals(written):
    html = Path(_one(written, "email.html")).read_text(encoding="utf-8")
    text = Path(_one(written, "email.txt")).read_text(encoding="utf-8")
    for body in (html, text):
        assert "LĐLĐ quận Long Biên" in body and FLAG in body and "Bỏ phiếu xét" in body
    assert 'src="cid:assessment-2023.ranking.cum-1@cluster-tracker"' in html


def test_the_dashboard_shows_the_assessment_of_its_year_once_there_is_one(ctx):
    from fastapi.testclient import TestClient

    from tests.test_web import HOST, NOW, issue
    from tracker.web.app import create_app

    with TestClient(create_app(ctx.settings, now=lambda: NOW), base_url=HOST) as client:
        link = issue(ctx, head=True)
        before = client.get(link, params={"ngay": AS_OF})
        assert before.status_code == 200 and "Chấm điểm thi đua năm 2023" not in before.text
        with ctx.session(write=True) as session:
            _self(session, "HM", {"2.1": 10, "2.2": 10}, datetime(2023, 7, 1, 2, tzinfo=UTC))
            _self(session, "BD", {"2.1": 10, "2.2": 10}, datetime(2023, 7, 1, 2, tzinfo=UTC))
        html = client.get(link, params={"ngay": AS_OF}).text
    assert 'id="cham-diem"' in html and "Chấm điểm thi đua năm 2023" in html
    section = html.split('id="cham-diem"', 1)[1].split("</section>", 1)[0]
    for word in ("Hạng", "Tự chấm", "Điểm cuối cùng", "Hoàng Mai", "Ba Đình", "Đống Đa", f"Bỏ phiếu xét {FLAG}"):
        assert word in section, word
    assert "30/06/2023" in section


def test_the_dashboard_offers_the_latest_assessment_files_to_download(scored, cli):
    from urllib.parse import unquote

    from fastapi.testclient import TestClient

    from tests.test_web import HOST, NOW, issue
    from tracker.web.app import create_app

    assert cli("report", "assessment", "--as-of", AS_OF).exit_code == 0
    with TestClient(create_app(scored.settings, now=lambda: NOW), base_url=HOST) as client:
        link = issue(scored, head=True)
        html = client.get(link, params={"ngay": AS_OF}).text
        assert "Kết quả chấm điểm thi đua năm 2023" in html.split('id="tai-ve"', 1)[1]
        href = next(h for h in html.split('href="')[1:] if "/files/assessment/2023/" in h and ".docx" in h)
        r = client.get(href.split('"', 1)[0])
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert "biên bản" in unquote(r.headers["content-disposition"])


def _assessed(table, finals: dict[str, float]):
    """Units whose only applicable criteria are the manual 2.1 and 2.2 (30 points): ``final`` × 30 / 100 each."""
    from tracker.assessment.rules import UnitInput, assess

    units = [UnitInput(code, f"LĐLĐ quận {code}", self_scores={"2.1": total * 0.15, "2.2": total * 0.15})
             for code, total in finals.items()]
    return assess(table, units, cluster="cum-1", year=2023, as_of=date(2023, 12, 31))


def test_minutes_without_a_tie_at_a_boundary_have_no_vote_and_a_bb_number(settings):
    from tracker.assessment.computed import scoring_table
    from tracker.assessment.words import AssessmentWords
    from tracker.documents import official as o
    from tracker.documents.minutes import minutes_code, minutes_document

    table = scoring_table(settings)
    a = _assessed(table, {"A": 90, "B": 80, "C": 80, "D": 70})
    doc = minutes_document(a, table, AssessmentWords.of(settings, a), date(2024, 1, 5), "BC-CTĐ1")
    headings = [b.text for b in doc.body if isinstance(b, o.Heading)]
    assert "Bỏ phiếu bình xét" not in headings and not any(
        isinstance(b, o.Table) and "Số phiếu đồng ý" in b.columns for b in doc.body)
    items = [b.text for b in doc.body if isinstance(b, o.Item)]
    assert f"{MERIT} (2): LĐLĐ quận B (80,00 điểm), LĐLĐ quận C (80,00 điểm)." in items
    assert doc.number_code == "BB-CTĐ1" and doc.kind == o.DocumentKind.MINUTES
    assert (minutes_code("BC-CTĐ1"), minutes_code("BB-CTĐ1"), minutes_code("CTĐ1")) == ("BB-CTĐ1", "BB-CTĐ1", "CTĐ1")
    # a tie for the flag: the first award goes to the vote, the merit awards to the next units
    a = _assessed(table, {"A": 90, "B": 90, "C": 80, "D": 70})
    doc = minutes_document(a, table, AssessmentWords.of(settings, a), None)
    vote = [b for b in doc.body if isinstance(b, o.Table) and "Số phiếu đồng ý" in b.columns]
    assert len(vote) == 1 and vote[0].title == f"Kết quả bỏ phiếu: {FLAG}" and len(vote[0].rows) == 2


def test_the_two_signers_dotted_lines_are_level(written):
    doc = Document(_one(written, ".docx"))
    sign = next(t for t in doc.tables if "THƯ KÝ" in t.rows[0].cells[0].text)
    left, right = (cell.paragraphs for cell in sign.rows[0].cells)
    assert len(left) == len(right) == 3  # role lines (one blank on the left), then the dotted line
    assert left[-1].text == right[-1].text and left[-1].text.startswith("…")
    assert [p.text for p in right[:2]] == ["CHỦ TRÌ", "CỤM TRƯỞNG"]


def test_without_a_scoring_table_assess_says_what_to_add(cli, config_path):
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(text[:text.index("[assessment]")], encoding="utf-8")  # the section is the file's last
    assert cli("init").exit_code == 0
    r = cli("assess", "--format", "json")
    assert r.exit_code == 2 and r.stdout == "" and "[assessment]" in r.stderr
    assert cli("send", "assessment", "--dry-run").exit_code == 2
