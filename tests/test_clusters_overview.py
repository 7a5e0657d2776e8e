"""The federation overview (`tracker overview`): clusters side by side, every number from the rules engine."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime

import openpyxl
import pytest

from tests.conftest import write_config
from tests.test_clusters import CLUSTER_2, JUNE_30, LB_1, LB_2, sheet
from tracker.overview import combine, summarise
from tracker.progress import DistrictSpec, IndicatorSpec, Observation, ProgressInput, Receipt, compute

SPECS = (IndicatorSpec("new_unions", "Thành lập CĐCS mới", "New unions", "CĐCS"),
         IndicatorSpec("union_fees", "Thu kinh phí công đoàn", "Union fees", "triệu đồng", kind="amount"))


def folder(base, name: str):
    path = base / name
    path.mkdir()
    return path


def progress(cluster: str, figures: dict[str, dict[str, float]], targets: dict[tuple[str, str], float],
             specs=SPECS):
    received = datetime(2023, 6, 30, 3, tzinfo=UTC)
    obs = tuple(Observation(code, key, JUNE_30, value, received, n)
                for n, (code, values) in enumerate(figures.items(), start=1) for key, value in values.items())
    receipts = tuple(Receipt(code, JUNE_30, received, n) for n, code in enumerate(figures, start=1))
    codes = sorted({c for c, _ in targets} | set(figures))
    return compute(ProgressInput(cluster, f"Cụm thi đua {cluster} - LĐLĐ thành phố Hà Nội", 2023, JUNE_30,
                                 tuple(DistrictSpec(c, f"LĐLĐ quận {c}") for c in codes), specs, targets, obs,
                                 receipts))


def test_federation_totals_add_the_cluster_totals_and_leaders_come_from_each_clusters_ranking():
    one = progress("a", {"X": {"new_unions": 10, "union_fees": 50.5}, "Y": {"new_unions": 4}},
                   {("X", "new_unions"): 20, ("Y", "new_unions"): 20, ("X", "union_fees"): 100,
                    ("Y", "union_fees"): 100})
    two = progress("b", {"Z": {"new_unions": 30}, "W": {"new_unions": 30}},
                   {("Z", "new_unions"): 40, ("W", "new_unions"): 40},
                   specs=SPECS[:1])  # cluster b does not follow union fees at all
    view = combine([summarise(one), summarise(two)], JUNE_30, 2023)

    new_unions, fees = view.totals
    assert (new_unions.actual, new_unions.target) == (74, 120)
    assert new_unions.percent == pytest.approx(100 * 74 / 120)
    assert (fees.actual, fees.target) == (50.5, 200)
    assert [s.key for s in view.indicators] == ["new_unions", "union_fees"]

    a, b = view.clusters
    assert [d.code for d in a.best] == ["X"] and [d.code for d in a.worst] == ["Y"]
    assert [d.code for d in b.best] == ["W", "Z"] and b.worst == ()  # a tie: both first, nobody last
    assert (a.districts, a.reported) == (2, 2)
    assert a.statuses["no_data"] == 1 and sum(a.statuses.values()) == 4
    assert view.federation_name == "LĐLĐ thành phố Hà Nội"
    data = view.to_json()
    # every figure is new this week (none a week earlier): the week's change is the figure itself
    assert data["totals"][0] == {"key": "new_unions", "actual": 74, "target": 120, "percent": 61.67,
                                 "week_change": 74, "last_year_actual": None}
    assert data["clusters"][1]["best"][0]["rank"] == 1


def test_a_cluster_total_is_the_engines_own(ctx):
    """The overview never adds districts itself: its cluster line carries the progress totals untouched."""
    one = progress("a", {"X": {"new_unions": 10}}, {("X", "new_unions"): 20, ("Y", "new_unions"): 30})
    line = summarise(one)
    assert line.total("new_unions") is one.total("new_unions")
    assert line.total("agreements") is None


@pytest.fixture
def overview_cli(cli):
    """`tracker overview` (registered here until the CLI lists it itself)."""
    from tracker.cli import common
    from tracker.cli import overview as module

    added = not any(c.name == "overview" for c in common.app.registered_commands)
    if added:
        module.register(common.app)
    yield cli
    if added:
        common.app.registered_commands[:] = [c for c in common.app.registered_commands if c.name != "overview"]


@pytest.fixture
def two_clusters(tmp_path, db_url, overview_cli):
    one = write_config(folder(tmp_path, "c1"), db_url)
    two = write_config(folder(tmp_path, "c2"), db_url, replace=CLUSTER_2)
    cli = overview_cli
    for config in (one, two):
        assert cli("init", config=config).exit_code == 0
    sent = tmp_path / "sent"
    files_1 = [sheet(one, "LB", JUNE_30, LB_1, sent / "1"),
               sheet(one, "HBT", date(2023, 6, 23), {"new_unions": 19, "agreements": 9, "union_fees": 2280.5},
                     sent / "1")]
    files_2 = [sheet(two, "LB", JUNE_30, LB_2, sent / "2"), sheet(two, "TH", JUNE_30, {"new_unions": 12}, sent / "2")]
    assert cli("ingest", *files_1, config=one).exit_code == 0
    assert cli("ingest", *files_2, config=two).exit_code == 0
    return one, two


def test_overview_json_matches_each_clusters_status_and_adds_them_up(two_clusters, overview_cli, tmp_path):
    one, two = two_clusters
    cli = overview_cli
    result = cli("overview", one, two, "--as-of", "30/06/2023", "--format", "json", "-o", tmp_path / "ov")
    assert result.exit_code == 0, result.stderr
    view = json.loads(result.stdout)
    statuses = [json.loads(cli("status", "--as-of", "30/06/2023", "--format", "json", config=c).stdout)
                for c in (one, two)]
    assert [c["cluster"] for c in view["clusters"]] == ["cum-1", "cum-2"]
    for line, status in zip(view["clusters"], statuses, strict=True):
        assert line["totals"] == status["totals"]
        assert line["districts"] == len(status["districts"]) == 6
        assert line["reported_this_week"] == sum(d["reported_this_week"] for d in status["districts"])
        assert [b["code"] for b in line["best"]] == [d["code"] for d in status["districts"] if d["rank"] == 1]
        last = max(d["rank"] for d in status["districts"] if d["rank"])
        assert [w["code"] for w in line["worst"]] == [d["code"] for d in status["districts"] if d["rank"] == last]
    for n, total in enumerate(view["totals"]):
        actual = sum(s["totals"][n]["actual"] for s in statuses)
        target = sum(s["totals"][n]["target"] for s in statuses)
        assert (total["actual"], total["target"]) == (pytest.approx(actual), target)
        assert total["percent"] == round(100 * actual / target, 2)
    assert view["clusters"][0]["reported_this_week"] == 1  # Hai Bà Trưng's sheet is of the week before
    assert view["missing"] == []

    book = openpyxl.load_workbook(next((tmp_path / "ov").glob("*.xlsx")))
    assert book.sheetnames == ["Tổng hợp các cụm", "Các đơn vị", "Cách tính"]
    summary = book["Tổng hợp các cụm"]
    rows = [r for r in summary.iter_rows(min_row=6, values_only=True) if r[2]]
    assert [r[2] for r in rows] == ["Cụm thi đua số 1", "Cụm thi đua số 2", "Tổng cộng"]
    assert rows[-1][6:9] == (view["totals"][0]["actual"], view["totals"][0]["target"], view["totals"][0]["percent"])
    districts = list(book["Các đơn vị"].iter_rows(min_row=2, values_only=True))
    assert len(districts) == 12 and {r[0] for r in districts} == {"cum-1", "cum-2"}


def test_overview_table_and_a_folder_of_configs(two_clusters, overview_cli, tmp_path):
    one, two = two_clusters
    folder = tmp_path / "configs"
    folder.mkdir()
    shutil.copy(one, folder / "cum-1.toml")
    shutil.copy(two, folder / "cum-2.toml")
    result = overview_cli("overview", folder, "--as-of", "30/06/2023", "-o", tmp_path / "ov")
    assert result.exit_code == 0, result.stderr
    assert "Cụm thi đua số 1" in result.stdout and "Cụm thi đua số 2" in result.stdout
    assert "Tổng cộng" in result.stdout and "LĐLĐ thành phố Hà Nội" in result.stdout
    assert "3/12" in result.stdout  # districts that reported this week: LB of cluster 1, LB and TH of cluster 2
    # copied side by side, both configs now point at the same relative folders: said on stderr
    assert "dùng chung thư mục inbox" in result.stderr and "share the inbox folder" in result.stderr


def test_a_cluster_not_initialised_is_listed_and_the_others_still_shown(overview_cli, tmp_path, db_url):
    one = write_config(folder(tmp_path, "c1"), db_url)
    two = write_config(folder(tmp_path, "c2"), db_url, replace=CLUSTER_2)
    assert overview_cli("init", config=one).exit_code == 0
    result = overview_cli("overview", one, two, "--as-of", "30/06/2023", "--format", "json", "-o", tmp_path / "ov")
    assert result.exit_code == 1
    view = json.loads(result.stdout)
    assert [c["cluster"] for c in view["clusters"]] == ["cum-1"]
    assert [m["cluster"] for m in view["missing"]] == ["cum-2"]
    assert "tracker init" in result.stderr


@pytest.mark.parametrize(("change", "words"), [
    ({}, "cùng khai báo cụm cum-1"),
    ({'id = "cum-1"': 'id = "cum-2"', "year = 2023": "year = 2024"}, "khác năm thi đua"),
])
def test_configs_that_cannot_be_compared_are_a_usage_error(overview_cli, tmp_path, change, words):
    one = write_config(folder(tmp_path, "c1"), "sqlite:///x.db")
    two = write_config(folder(tmp_path, "c2"), "sqlite:///x.db",
                       replace=change)
    result = overview_cli("overview", one, two)
    assert result.exit_code == 2
    assert words in result.stderr


def test_clusters_reading_one_mailbox_are_warned_about(tmp_path):
    from tracker.overview import load_federation

    shared = {'host = ""                            # empty: no mailbox': 'host = "imap.example.org"',
              'user = ""\nfolder = "INBOX"': 'user = "thidua@example.org"\nfolder = "INBOX"'}
    one = write_config(folder(tmp_path, "c1"), "sqlite:///x.db", replace=shared)
    two = write_config(folder(tmp_path, "c2"), "sqlite:///x.db", replace={**CLUSTER_2, **shared})
    _, warnings = load_federation([one, two], env={})
    assert len(warnings) == 1 and "đọc chung hộp thư thidua@example.org@imap.example.org" in warnings[0]
    alone = write_config(folder(tmp_path, "c3"), "sqlite:///x.db", replace=CLUSTER_2)
    assert load_federation([one, alone], env={})[1] == []


def test_no_config_found_is_a_usage_error(overview_cli, tmp_path):
    result = overview_cli("overview", folder(tmp_path, "empty"))
    assert result.exit_code == 2 and "No config file" in result.stderr
