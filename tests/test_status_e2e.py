"""End to end: district sheets written like the template, ingested by intake, then `tracker status`.

Every expected number below is computed by hand from the sheets and the sample targets of config.toml.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from tracker.intake.ingest import ingest_bytes
from tracker.intake.template import build_template, template_filename

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
F = 181 / 365  # 30 June 2023 is day 181 of 365


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=HANOI)


def send(ctx, district: str, as_of: date, figures: dict, received: datetime) -> str:
    data = build_template(ctx.settings, district, as_of, figures=figures)
    return ingest_bytes(ctx, data, template_filename(district, as_of), received_at=received).status


def ingest_june(ctx) -> None:
    lb1, lb2 = date(2023, 6, 16), date(2023, 6, 30)
    statuses = [
        send(ctx, "LB", lb1, {"new_unions": 12, "agreements": 8, "congresses": 52, "new_members": 1200,
                              "union_fees": 1500.5}, local(lb1, 9)),
        # union fees left blank: the 16/06 figure still stands
        send(ctx, "LB", lb2, {"new_unions": 16, "agreements": 11, "congresses": 52, "new_members": 1400,
                              "union_fees": None}, local(lb2, 10)),
        # a second version for the same date, received later, replaces it
        send(ctx, "LB", lb2, {"new_unions": 16, "agreements": 11, "congresses": 52, "new_members": 1450,
                              "union_fees": None}, local(lb2, 11)),
        # Hoàn Kiếm reports after the Friday 17:00 deadline
        send(ctx, "HK", date(2023, 6, 29), {"new_unions": 22, "union_fees": 2000.5}, local(lb2, 17, 30)),
        # a rejected sheet changes nothing
        send(ctx, "HK", lb2, {"new_unions": -5, "union_fees": 2100}, local(lb2, 18)),
        # Hai Bà Trưng: all congresses in May, then a correction that lowers new unions; nothing this week
        send(ctx, "HBT", date(2023, 5, 26), {"new_unions": 12, "congresses": 45}, local(date(2023, 5, 26), 8)),
        send(ctx, "HBT", date(2023, 6, 23), {"new_unions": 10, "congresses": 45}, local(date(2023, 6, 23), 8)),
    ]
    assert statuses == ["accepted"] * 4 + ["rejected"] + ["accepted"] * 2


def expected_indicator(key, actual, target, status, achieved_on=None, fraction=F, change=None):
    """``change``: the week change, against the figures as of 23/06 (none then counts 0)."""
    return {
        "key": key, "actual": actual, "target": target,
        "percent": None if actual is None else round(100 * actual / target, 2),
        "expected": round(target * fraction, 2),
        "projected": None if actual is None else round(actual / fraction, 2),
        "status": status, "achieved_on": achieved_on, "week_change": change, "last_year_actual": None,
    }


def test_ingested_sheets_give_the_status_json_computed_by_hand(ctx, cli):
    ingest_june(ctx)
    result = cli("status", "--as-of", "30/06/2023", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    by_code = {d["code"]: d for d in data["districts"]}

    lb = by_code["LB"]
    assert lb["indicators"] == [
        expected_indicator("new_unions", 16, 30, "on_track", change=16 - 12),
        expected_indicator("agreements", 11, 18, "on_track", change=11 - 8),
        expected_indicator("congresses", 52, 52, "achieved", "2023-06-16", fraction=1.0, change=0),
        expected_indicator("new_members", 1450, 2600, "on_track", change=1450 - 1200),
        # 1500.5 < 3100 × F = 1537.26, projected 3025.86 ≥ 0.8 × 3100
        expected_indicator("union_fees", 1500.5, 3100, "behind", change=0),
    ]
    assert lb["indicators"][0]["percent"] == 53.33 and lb["indicators"][4]["expected"] == 1537.26
    assert (lb["last_as_of"], lb["reported_this_week"]) == ("2023-06-30", True)

    hk = by_code["HK"]
    assert hk["indicators"] == [
        expected_indicator("new_unions", 22, 20, "achieved", "2023-06-29", change=22),
        expected_indicator("agreements", None, 15, "no_data"),
        expected_indicator("congresses", None, 30, "no_data", fraction=1.0),
        expected_indicator("new_members", None, 1500, "no_data"),
        expected_indicator("union_fees", 2000.5, 4500, "behind", change=2000.5),
    ]
    assert (hk["last_as_of"], hk["reported_this_week"]) == ("2023-06-29", True)

    hbt = by_code["HBT"]
    assert hbt["indicators"][0] == expected_indicator("new_unions", 10, 30, "at_risk", change=0)  # 10/F = 20.17 < 24
    assert hbt["indicators"][2] == expected_indicator("congresses", 45, 45, "achieved", "2023-05-26", fraction=1.0,
                                                   change=0)
    assert (hbt["last_as_of"], hbt["reported_this_week"]) == ("2023-06-23", False)

    scores = {
        "LB": round((16 / 30 + 11 / 18 + 1 + 1450 / 2600 + 1500.5 / 3100) / 5, 4),
        "HK": round((1.1 + 2000.5 / 4500) / 5, 4),
        "HBT": round((10 / 30 + 1) / 5, 4),
    }
    assert [(d["code"], d["score"], d["rank"]) for d in data["districts"]] == [
        ("LB", scores["LB"], 1), ("HK", scores["HK"], 2), ("HBT", scores["HBT"], 3),
        ("HM", 0, 4), ("BD", 0, 4), ("DD", 0, 4)]
    assert data["totals"] == [
        {"key": "new_unions", "actual": 48, "target": 170, "percent": round(4800 / 170, 2), "week_change": 4 + 22 + 0,
         "last_year_actual": None},
        {"key": "agreements", "actual": 11, "target": 100, "percent": 11.0, "week_change": 3,
         "last_year_actual": None},
        {"key": "congresses", "actual": 97, "target": 280, "percent": round(9700 / 280, 2), "week_change": 0,
         "last_year_actual": None},
        {"key": "new_members", "actual": 1450, "target": 14200, "percent": round(145000 / 14200, 2),
         "week_change": 250, "last_year_actual": None},
        {"key": "union_fees", "actual": 3501, "target": 24300, "percent": round(350100 / 24300, 2),
         "week_change": 2000.5, "last_year_actual": None},
    ]


def test_the_table_shows_who_has_not_reported_who_was_late_and_the_intake_warnings(ctx, cli):
    ingest_june(ctx)
    result = cli("status", "--as-of", "30/06/2023")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Chưa nộp báo cáo tuần này (4): LĐLĐ quận Hai Bà Trưng, LĐLĐ quận Hoàng Mai, LĐLĐ quận Ba Đình, " \
           "LĐLĐ quận Đống Đa." in out
    assert "Nộp muộn (1): LĐLĐ quận Hoàn Kiếm." in out
    assert "nhận lúc 30/06/2023 17:30, hạn 30/06/2023 17:00" in out
    assert "giảm từ 12" in out  # Hai Bà Trưng's correction, from its latest sheet
    notes = [line for line in out.splitlines() if line.startswith("  • ")]
    assert any("LĐLĐ quận Long Biên" in n and "Thu kinh phí công đoàn" in n for n in notes)  # left blank
    # as of a week earlier, Hai Bà Trưng's correction is its latest sheet too, Long Biên's blank is not yet there
    earlier = cli("status", "--as-of", "23/06/2023").stdout
    assert "giảm từ 12" in earlier and not any("LĐLĐ quận Long Biên" in line for line in earlier.splitlines()
                                               if line.startswith("  • "))
