"""`tracker status` and tracker.standing: progress read from a real database (SQLite, PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from tests.conftest import write_config
from tracker import models
from tracker.config import load_settings
from tracker.context import open_context
from tracker.errors import TrackerError
from tracker.progress import compute
from tracker.standing import cluster_progress, load_input, resolve_as_of

HK_TIME = datetime(2023, 6, 30, 2, 0, tzinfo=UTC)  # Friday 09:00 in Hà Nội


def add_sheet(session, district: str, as_of: date, figures: dict[str, float], *, received: datetime | None = None,
              status: str = "accepted", cluster_id: str = "cum-1", warnings=(), file_hash: str | None = None):
    """Store one submission with its figures (and warnings) the way intake does, straight through the models."""
    d = session.exec(select(models.District).where(models.District.cluster_id == cluster_id,
                                                   models.District.code == district)).one()
    ind = {i.key: i.id for i in session.exec(select(models.Indicator).where(models.Indicator.cluster_id == cluster_id))}
    sub = models.Submission(cluster_id=cluster_id, file_hash=file_hash or f"{district}{as_of}{received}{status}",
                            file_name=f"{district}.xlsx", received_at=received or datetime.combine(
                                as_of, datetime.min.time(), tzinfo=UTC).replace(hour=2),
                            status=status, district_id=d.id, as_of=as_of, sheet="Báo cáo")
    session.add(sub)
    session.flush()
    if status == "accepted":
        for row, (key, value) in enumerate(figures.items(), start=9):
            session.add(models.Figure(cluster_id=cluster_id, submission_id=sub.id, district_id=d.id,
                                      indicator_id=ind[key], as_of=as_of, value=value, sheet="Báo cáo",
                                      cell=f"D{row}"))
    for code, key, cell, vi, en in warnings:
        session.add(models.Finding(cluster_id=cluster_id, submission_id=sub.id, severity="warning", code=code,
                                   sheet="Báo cáo", cell=cell, indicator_key=key, message_vi=vi, message_en=en))
    session.flush()
    return sub


def seed_june(ctx):
    """LB and HK report in June 2023; HBT once in May; a rejected sheet and an old version must not count."""
    with ctx.session(write=True) as s:
        add_sheet(s, "LB", date(2023, 6, 23), {"new_unions": 14, "agreements": 9})
        add_sheet(s, "LB", date(2023, 6, 30), {"new_unions": 15, "agreements": 11},
                  received=datetime(2023, 6, 30, 1, 0, tzinfo=UTC))
        add_sheet(s, "LB", date(2023, 6, 30), {"new_unions": 16, "agreements": 11, "congresses": 52},  # new version
                  received=HK_TIME, warnings=[("blank", "union_fees", "D13", "Chỉ tiêu bị bỏ trống",
                                               "Indicator left blank")])
        add_sheet(s, "HK", date(2023, 6, 28), {"new_unions": 22, "union_fees": 2000.5},
                  received=datetime(2023, 6, 30, 10, 30, tzinfo=UTC))  # Friday 17:30 local: late
        add_sheet(s, "HK", date(2023, 6, 29), {"new_unions": 99}, status="rejected")
        add_sheet(s, "HBT", date(2023, 5, 26), {"new_unions": 12, "congresses": 45},
                  warnings=[("correction", "new_unions", "D9", "Luỹ kế thấp hơn kỳ trước", "YTD lower than before")])


def test_load_input_reads_figures_receipts_targets_and_warnings(ctx):
    seed_june(ctx)
    with ctx.session() as s:
        inp = load_input(s, ctx.settings, date(2023, 6, 30))
    assert inp.targets[("LB", "new_unions")] == 30 and len(inp.targets) == 30
    assert len(inp.observations) == 2 + 2 + 3 + 2 + 2  # the rejected sheet has none
    assert all(o.received_at.tzinfo is not None for o in inp.observations)
    assert sorted((r.district, r.as_of) for r in inp.receipts) == [
        ("HBT", date(2023, 5, 26)), ("HK", date(2023, 6, 28)), ("LB", date(2023, 6, 23)), ("LB", date(2023, 6, 30)),
        ("LB", date(2023, 6, 30))]
    assert {(n.district, n.kind, n.cell, n.indicator) for n in inp.notes} == {
        ("LB", "blank", "Báo cáo!D13", "union_fees"), ("HBT", "correction", "Báo cáo!D9", "new_unions")}
    assert inp.rules.deadline_weekday == 5 and inp.rules.timezone == "Asia/Ho_Chi_Minh"
    # nothing after the as-of date is read
    with ctx.session() as s:
        early = load_input(s, ctx.settings, date(2023, 6, 25))
    assert max(o.as_of for o in early.observations) == date(2023, 6, 23)


def test_cluster_progress_applies_the_rules_to_the_stored_figures(ctx):
    seed_june(ctx)
    p = cluster_progress(ctx, date(2023, 6, 30))
    lb = p.district("LB")
    assert lb.indicator("new_unions").actual == 16  # the version received last
    assert lb.indicator("congresses").achieved_on == date(2023, 6, 30)
    assert lb.reported_this_week and not lb.late
    assert p.district("HK").late and p.district("HK").indicator("new_unions").actual == 22  # rejected 99 ignored
    assert not p.district("HBT").reported_this_week
    # notes come by district in ranking order: LB, HK, HBT; the late note carries the late sheet's date
    assert [(n.district, n.kind) for n in p.notes] == [("LB", "blank"), ("HK", "late"), ("HBT", "correction")]
    assert p.notes[1].as_of == date(2023, 6, 28)


def test_status_json_matches_values_computed_by_hand(ctx, cli):
    seed_june(ctx)
    result = cli("status", "--as-of", "30/06/2023", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)  # stdout holds the one object and nothing else
    assert (data["cluster"], data["year"], data["as_of"]) == ("cum-1", 2023, "2023-06-30")
    f = 181 / 365  # 30 June is day 181
    by_code = {d["code"]: d for d in data["districts"]}
    lb = {i["key"]: i for i in by_code["LB"]["indicators"]}
    # week change: against the figures as of 23/06 (LB 14 and 9; no congresses figure then: it counts 0)
    assert lb["new_unions"] == {"key": "new_unions", "actual": 16, "target": 30, "percent": 53.33,
                                "expected": 14.88, "projected": 32.27, "status": "on_track", "achieved_on": None,
                                "week_change": 2, "last_year_actual": None}
    assert lb["agreements"] == {"key": "agreements", "actual": 11, "target": 18, "percent": round(1100 / 18, 2),
                                "expected": round(18 * f, 2), "projected": round(11 / f, 2), "status": "on_track",
                                "achieved_on": None, "week_change": 2, "last_year_actual": None}
    assert lb["congresses"] == {"key": "congresses", "actual": 52, "target": 52, "percent": 100.0, "expected": 52.0,
                                "projected": 52.0, "status": "achieved", "achieved_on": "2023-06-30",
                                "week_change": 52, "last_year_actual": None}
    assert lb["union_fees"]["week_change"] is None  # no figure now
    assert lb["union_fees"]["status"] == "no_data" and lb["union_fees"]["expected"] == round(3100 * f, 2)
    lb_score = round((16 / 30 + 11 / 18 + 1 + 0 + 0) / 5, 4)
    hk = {i["key"]: i for i in by_code["HK"]["indicators"]}
    assert hk["new_unions"]["actual"] == 22 and hk["new_unions"]["status"] == "achieved"
    assert hk["new_unions"]["achieved_on"] == "2023-06-28"
    assert hk["union_fees"]["actual"] == 2000.5 and hk["union_fees"]["percent"] == round(200050 / 4500, 2)
    # 2000.5 < 4500 × 181/365 = 2231.5 expected, but the projection 4034 reaches 80 % of 4500
    assert hk["union_fees"]["status"] == "behind"
    hk_score = round((min(22 / 20, 1.2) + 2000.5 / 4500) / 5, 4)
    # Hai Bà Trưng: 12/30 new unions (projection 24.2 ≥ 24: behind) and all 45 congresses in May
    hbt = {i["key"]: i for i in by_code["HBT"]["indicators"]}
    assert hbt["new_unions"]["status"] == "behind" and hbt["congresses"]["achieved_on"] == "2023-05-26"
    hbt_score = round((12 / 30 + 1) / 5, 4)
    assert [(d["code"], d["score"], d["rank"]) for d in data["districts"]] == [
        ("LB", lb_score, 1), ("HK", hk_score, 2), ("HBT", hbt_score, 3),
        ("HM", 0, 4), ("BD", 0, 4), ("DD", 0, 4)]
    assert by_code["LB"]["last_as_of"] == "2023-06-30" and by_code["HK"]["last_as_of"] == "2023-06-28"
    assert [d["reported_this_week"] for d in data["districts"]] == [True, True, False, False, False, False]
    # as of 23/06: HBT (12/30, 45/45) 1st, LB (14/30, 9/18) 2nd, the others 3rd (score 0)
    assert [(d["code"], d["rank_change"]) for d in data["districts"]] == [
        ("LB", 1), ("HK", 1), ("HBT", -2), ("HM", -1), ("BD", -1), ("DD", -1)]
    assert hbt["new_unions"]["week_change"] == 0 and hk["new_unions"]["week_change"] == 22
    totals = {t["key"]: t for t in data["totals"]}
    assert totals["new_unions"] == {"key": "new_unions", "actual": 50, "target": 170, "percent": 29.41,
                                    "week_change": 2 + 22 + 0, "last_year_actual": None}
    assert totals["union_fees"] == {"key": "union_fees", "actual": 2000.5, "target": 24300,
                                    "percent": round(200050 / 24300, 2), "week_change": 2000.5,
                                    "last_year_actual": None}


def test_status_table_is_vietnamese_with_ranking_reporting_and_notes(ctx, cli):
    seed_june(ctx)
    result = cli("status", "--as-of", "2023-06-30")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "số liệu đến ngày 30/06/2023" in out
    for word in ("Hạng", "Điểm", "Đúng tiến độ", "Hoàn thành", "Chậm tiến độ", "Chưa có số liệu",
                 "LĐLĐ quận Long Biên", "Toàn cụm", "Thành lập CĐCS mới (CĐCS)", "hạn 31/05"):
        assert word in out, word
    # beside each actual its change this week: LB 14 → 16; HK had no figure a week earlier (counts 0);
    # HBT's May figure did not move (—); under each rank its movement since a week earlier
    assert "16 (+2) / 30 · 53,3%" in out and "2.000,5 (+2.000,5)" in out and "12 (—) / 30 · 40,0%" in out
    rows = [line.split() for line in out.splitlines()]
    moves = [r[0] for r in rows if r and r[0][0] in "▲▼"]
    assert moves == ["▲1", "▲1", "▼2", "▼1", "▼1", "▼1"]  # LB 2→1, HK 3→2, HBT 1→3, the rest 3→4
    assert "Trong ngoặc: thay đổi so với tuần trước" in out
    assert "Chưa nộp báo cáo tuần này (4): LĐLĐ quận Hai Bà Trưng, LĐLĐ quận Hoàng Mai" in out
    assert "Nộp muộn (1): LĐLĐ quận Hoàn Kiếm." in out
    assert "hạn nộp Thứ Sáu 17:00 ngày 30/06/2023" in out
    assert "Chỉ tiêu bị bỏ trống" in out and "ô Báo cáo!D13" in out and "Luỹ kế thấp hơn kỳ trước" in out
    assert "Nộp báo cáo tuần muộn: nhận lúc 30/06/2023 17:30" in out
    assert "Cách đọc" in out
    assert all(line == line.rstrip() for line in out.splitlines())


def test_status_csv_has_one_row_per_district_and_indicator(ctx, cli):
    seed_june(ctx)
    result = cli("status", "--as-of", "30/06/2023", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 6 * 5
    row = next(r for r in rows if r["district_code"] == "LB" and r["indicator"] == "new_unions")
    assert row["actual"] == "16" and row["target"] == "30" and row["percent"] == "53.33"
    assert row["status"] == "on_track" and row["status_vi"] == "Đúng tiến độ" and row["rank"] == "1"
    assert row["district_name"] == "LĐLĐ quận Long Biên" and row["reported_this_week"] == "true"
    blank = next(r for r in rows if r["district_code"] == "HM" and r["indicator"] == "agreements")
    assert blank["actual"] == "" and blank["status"] == "no_data"


def test_status_csv_appends_the_week_change_last_year_and_rank_change_columns(ctx, cli):
    seed_june(ctx)
    with ctx.session(write=True) as s:
        add_sheet(s, "LB", date(2022, 6, 30), {"new_unions": 9})  # last year, same day
    rows = list(csv.DictReader(io.StringIO(cli("status", "--as-of", "30/06/2023", "--format", "csv").stdout)))
    assert list(rows[0])[-3:] == ["week_change", "last_year_actual", "rank_change"]
    assert list(rows[0])[:21] == [
        "cluster", "as_of", "rank", "district_code", "district_name", "score", "indicator", "indicator_label",
        "unit", "actual", "target", "percent", "expected", "projected", "status", "status_vi", "achieved_on",
        "figure_as_of", "last_as_of", "reported_this_week", "late"]
    lb = next(r for r in rows if r["district_code"] == "LB" and r["indicator"] == "new_unions")
    assert (lb["week_change"], lb["last_year_actual"], lb["rank_change"]) == ("2", "9", "1")
    hbt = next(r for r in rows if r["district_code"] == "HBT" and r["indicator"] == "new_unions")
    assert (hbt["week_change"], hbt["last_year_actual"], hbt["rank_change"]) == ("0", "", "-2")
    blank = next(r for r in rows if r["district_code"] == "HM" and r["indicator"] == "agreements")
    assert blank["week_change"] == "" and blank["last_year_actual"] == ""
    table = cli("status", "--as-of", "30/06/2023").stdout
    assert "Cùng kỳ năm trước: 9" in table


def test_without_as_of_after_the_cluster_year_status_uses_31_december_and_says_so(ctx, cli):
    seed_june(ctx)
    result = cli("status", "--format", "json")  # the clock is past 2023
    assert result.exit_code == 0
    assert json.loads(result.stdout)["as_of"] == "2023-12-31"
    assert "31/12/2023" in result.stderr


def test_resolve_as_of_defaults_to_today_in_the_cluster_time_zone(settings):
    assert resolve_as_of(settings, today=date(2023, 3, 8)).day == date(2023, 3, 8)
    late = resolve_as_of(settings, today=date(2024, 2, 1))
    assert late.day == date(2023, 12, 31) and "đã kết thúc" in late.notice_vi
    assert resolve_as_of(settings, date(2023, 1, 1), today=date(2030, 1, 1)).day == date(2023, 1, 1)
    with pytest.raises(TrackerError) as info:
        resolve_as_of(settings, today=date(2022, 12, 31))  # the year has not started
    assert info.value.exit_code == 2


@pytest.mark.parametrize("as_of", ["31/12/2022", "2024-01-01"])
def test_a_date_in_a_year_without_targets_or_figures_is_a_usage_error(ctx, cli, as_of):
    result = cli("status", "--as-of", as_of)
    assert result.exit_code == 2 and result.stdout == ""
    year = as_of[-4:] if "/" in as_of else as_of[:4]
    assert f"Năm {year}" in result.stderr and "chưa có chỉ tiêu hay số liệu" in result.stderr
    assert "has no targets or figures" in result.stderr and "2023" in result.stderr


def test_bad_date_and_bad_format_are_usage_errors(ctx, cli):
    assert cli("status", "--as-of", "31/02/2023").exit_code == 2
    bad = cli("status", "--format", "xml")
    assert bad.exit_code == 2 and "table, json hoặc csv" in bad.stderr


def test_status_before_init_says_to_run_init(cli):
    result = cli("status", "--as-of", "30/06/2023")
    assert result.exit_code == 2 and "tracker init" in result.stderr and "Traceback" not in result.stderr


def test_an_as_of_before_any_sheet_shows_no_data_for_everyone(ctx, cli):
    seed_june(ctx)
    data = json.loads(cli("status", "--as-of", "01/01/2023", "--format", "json").stdout)
    statuses = {i["status"] for d in data["districts"] for i in d["indicators"]}
    assert statuses == {"no_data"}
    assert all(d["last_as_of"] is None and d["score"] == 0 and d["rank"] == 1 for d in data["districts"])


def test_another_cluster_in_the_same_database_is_invisible(ctx):
    with ctx.session(write=True) as s:
        s.add(models.Cluster(id="cum-2", name="Cụm 2", year=2023))
        s.flush()
        s.add(models.District(cluster_id="cum-2", code="LB", name="Khác"))
        s.add(models.Indicator(cluster_id="cum-2", key="new_unions", label="x", label_en="x"))
        s.flush()
        add_sheet(s, "LB", date(2023, 6, 30), {"new_unions": 500}, cluster_id="cum-2",
                  warnings=[("blank", None, "D9", "khác", "other")])
    with ctx.session() as s:
        inp = load_input(s, ctx.settings, date(2023, 6, 30))
    assert inp.observations == () and inp.receipts == () and inp.notes == ()
    assert compute(inp).district("LB").indicator("new_unions").status == "no_data"


def test_a_later_target_registration_replaces_the_earlier_one(ctx):
    from tracker.targets import register_targets

    seed_june(ctx)
    with ctx.session(write=True) as s:
        register_targets(s, "cum-1", 2023, {("LB", "new_unions"): 20}, source="workbook")
    p = cluster_progress(ctx, date(2023, 6, 30))
    assert p.district("LB").indicator("new_unions").target == 20
    assert p.district("LB").indicator("new_unions").percent == pytest.approx(80)


def test_the_leader_scoring_method_and_thresholds_come_from_the_config(tmp_path, db_url, cli):
    config = write_config(tmp_path, db_url, replace={'method = "capped"': 'method = "leader"',
                                                     "behind_ratio = 0.8 ": "behind_ratio = 0.99"})
    assert cli("init", config=config).exit_code == 0
    seed_june(open_context(settings=load_settings(config, env={})))
    data = json.loads(cli("status", "--as-of", "30/06/2023", "--format", "json", config=config).stdout)
    scores = {d["code"]: d["score"] for d in data["districts"]}
    # per indicator the best ratio gets 1: new unions HK 22/20 (LB 16/30, HBT 12/30), agreements LB,
    # congresses LB and HBT (both 100 %), union fees HK; new members: nobody has a figure
    best_new_unions = 22 / 20
    assert scores["LB"] == round(((16 / 30) / best_new_unions + 1 + 1 + 0 + 0) / 5, 4)
    assert scores["HK"] == round((1 + 0 + 0 + 0 + 1) / 5, 4)
    assert scores["HBT"] == round(((12 / 30) / best_new_unions + 0 + 1 + 0 + 0) / 5, 4)
    assert [d["code"] for d in data["districts"]][:3] == ["LB", "HK", "HBT"]
    hbt = {i["key"]: i for i in next(d for d in data["districts"] if d["code"] == "HBT")["indicators"]}
    assert hbt["new_unions"]["status"] == "at_risk"  # projection 24.2 is under 99 % of 30
