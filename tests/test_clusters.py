"""Several clusters in one database (docs/scale.md §1): each has its own config file, and no command run with
one cluster's config sees or changes another cluster's rows.

Cluster 1 is the sample config; cluster 2 (``cum-2``) shares the database and five district codes
with it (HM, BD, LB, HK, DD — the hard case), has Tây Hồ (TH) instead of Hai Bà Trưng, and another
target for Long Biên. Each config lives in its own folder, so inbox, archive and reports are apart.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from tests.conftest import write_config
from tracker.config import load_settings
from tracker.db import get_engine
from tracker.intake.pull import touch
from tracker.intake.template import build_template
from tracker.models import Finding

CLUSTER_2 = {
    'id = "cum-1"': 'id = "cum-2"',
    'name = "Cụm thi đua số 1 - LĐLĐ thành phố Hà Nội"': 'name = "Cụm thi đua số 2 - LĐLĐ thành phố Hà Nội"',
    'emails = ["cum-truong@example.org"]': 'emails = ["cum-truong-2@example.org"]',
    'code = "HBT"\nname = "LĐLĐ quận Hai Bà Trưng"\nemails = ["hbt@example.org"]':
        'code = "TH"\nname = "LĐLĐ quận Tây Hồ"\nemails = ["th@example.org"]',
    "[targets.HBT]": "[targets.TH]",
    "[targets.LB]\nnew_unions = 30": "[targets.LB]\nnew_unions = 40",
    'sender = "cum-1@example.org"': 'sender = "cum-2@example.org"',
}
JUNE_30 = date(2023, 6, 30)
LB_1 = {"new_unions": 16, "agreements": 11, "congresses": 52, "new_members": 1460, "union_fees": 1690.0}
LB_2 = {"new_unions": 7, "agreements": 3, "congresses": 20, "new_members": 333, "union_fees": 444.4}


@pytest.fixture
def config_2(tmp_path, db_url) -> Path:
    folder = tmp_path / "cum-2"
    folder.mkdir()
    return write_config(folder, db_url, replace=CLUSTER_2)


def settings_of(config: Path):
    return load_settings(config, env={})


def sheet(config: Path, code: str, as_of: date, figures: dict, folder: Path, name: str | None = None) -> Path:
    """An upload workbook of ``code`` written with the template of the cluster of ``config``."""
    settings = settings_of(config)
    path = folder / (name or f"{settings.cluster.id}_{code}_{as_of.isoformat()}.xlsx")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(build_template(settings, code, as_of, targets=settings.targets.get(code, {}), figures=figures))
    touch(path, datetime(as_of.year, as_of.month, as_of.day, 3, 0, tzinfo=UTC))  # 10:00 in Hà Nội
    return path


def rows_of(db_url: str, cluster_id: str) -> dict[str, list[tuple]]:
    """Every stored row of one cluster, table by table, in primary-key order."""
    out = {}
    with get_engine(db_url).connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if "cluster_id" in table.c:
                where = table.c.cluster_id == cluster_id
            elif table.name == "cluster":
                where = table.c.id == cluster_id
            else:  # pragma: no cover - every table is scoped today; a new one must say how
                raise AssertionError(f"table {table.name} has no cluster_id")
            rows = conn.execute(select(table).where(where).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(r) for r in rows]
    return out


def ok(result, *codes: int) -> str:
    assert result.exit_code in (codes or (0,)), (result.exit_code, result.stdout, result.stderr)
    return result.stdout


def fill_cluster_1(cli, tmp_path) -> dict[str, str]:
    """Cluster 1 with sheets, a rejection, a token, a weekly e-mail and a job run. Returns facts to look for."""
    ok(cli("init"))
    files = [sheet(tmp_path / "config.toml", "LB", JUNE_30, LB_1, tmp_path / "sent"),
             sheet(tmp_path / "config.toml", "HBT", JUNE_30, {"new_unions": 19, "agreements": 9},
                   tmp_path / "sent"),
             sheet(tmp_path / "config.toml", "HK", JUNE_30, {"new_unions": -1}, tmp_path / "sent")]
    ok(cli("ingest", *files), 1)  # the HK sheet is rejected
    link = ok(cli("tokens", "issue", "LB")).strip()
    ok(cli("send", "weekly", "--as-of", "30/06/2023"))
    ok(cli("jobs", "run", "pull"))
    return {"link": link, "file": files[0].name}


def test_no_command_of_cluster_2_changes_a_row_of_cluster_1(cli, tmp_path, db_url, config_2):
    fill_cluster_1(cli, tmp_path)
    before = rows_of(db_url, "cum-1")
    assert before["submission"] and before["figure"] and before["outboxmessage"] and before["jobrun"]
    assert before["accesstoken"] and before["finding"] and before["target"]
    c2 = config_2.parent
    inbox_sheet = sheet(config_2, "TH", JUNE_30, {"new_unions": 3}, c2 / "data" / "inbox")
    targets = c2 / "targets.xlsx"

    commands = [
        ("init",),
        ("ingest", sheet(config_2, "LB", JUNE_30, LB_2, c2 / "sent"),
         sheet(config_2, "HK", JUNE_30, {"agreements": 1.5}, c2 / "sent")),  # the HK sheet is rejected
        ("pull",),
        ("status", "--as-of", "30/06/2023", "--format", "json"),
        ("report", "weekly", "--as-of", "30/06/2023"),
        ("send", "weekly", "--as-of", "30/06/2023"),
        ("send", "reminders", "--as-of", "30/06/2023"),
        ("outbox", "retry"),
        ("jobs", "run", "pull"),
        ("jobs", "run", "weekly-report", "--as-of", "30/06/2023"),
        ("tokens", "issue", "LB"),
        ("tokens", "issue", "--head"),
        ("tokens", "revoke", "LB"),
        ("targets", "template", "-o", targets),
        ("targets", "import", targets),
    ]
    for args in commands:
        result = cli(*args, config=config_2)
        assert result.exit_code in (0, 1), (args, result.stdout, result.stderr)
        assert rows_of(db_url, "cum-1") == before, args
    assert not inbox_sheet.exists()  # cluster 2's pull took its own inbox
    after_2 = rows_of(db_url, "cum-2")
    assert len(after_2["district"]) == 6 and len(after_2["submission"]) == 3 and after_2["outboxmessage"]


def test_cluster_2_sees_none_of_cluster_1s_data(cli, tmp_path, db_url, config_2):
    facts = fill_cluster_1(cli, tmp_path)
    ok(cli("init", config=config_2))

    status = json.loads(ok(cli("status", "--as-of", "30/06/2023", "--format", "json", config=config_2)))
    assert status["cluster"] == "cum-2"
    assert [d["code"] for d in status["districts"]] == ["TH", "HM", "BD", "LB", "HK", "DD"]
    assert all(i["actual"] is None for d in status["districts"] for i in d["indicators"])
    assert not any(d["reported_this_week"] for d in status["districts"])
    lb = next(d for d in status["districts"] if d["code"] == "LB")
    assert lb["indicators"][0]["target"] == 40  # its own registration, not cluster 1's 30

    paths = ok(cli("report", "weekly", "--as-of", "30/06/2023", config=config_2)).splitlines()
    assert all(Path(p).is_relative_to(config_2.parent) for p in paths)
    import openpyxl

    book = next(p for p in paths if p.endswith(".xlsx"))
    data = openpyxl.load_workbook(book, read_only=True)["Dữ liệu"]
    cells = [str(v) for row in data.iter_rows(values_only=True) for v in row if v is not None]
    assert not any(facts["file"] in c for c in cells)
    assert "1460" not in cells and "1.460" not in cells

    assert json.loads(ok(cli("outbox", "list", "--format", "json", config=config_2))) == []
    jobs = json.loads(ok(cli("jobs", "list", "--format", "json", config=config_2)))
    assert jobs["cluster"] == "cum-2" and all(j["last_run"] is None for j in jobs["jobs"])
    assert ok(cli("tokens", "list", config=config_2)).strip().count("\n") == 0  # the header line only
    assert "1460" not in ok(cli("status", "--as-of", "30/06/2023", config=config_2))


def test_a_district_link_opens_only_its_own_clusters_portal(cli, tmp_path, config_2):
    from fastapi.testclient import TestClient

    from tracker.web.app import create_app

    link = fill_cluster_1(cli, tmp_path)["link"]
    ok(cli("init", config=config_2))
    head_2 = ok(cli("tokens", "issue", "--head", config=config_2)).strip()
    now = datetime(2023, 6, 30, 8, 0, tzinfo=UTC)
    with TestClient(create_app(settings_of(tmp_path / "config.toml"), now=lambda: now)) as portal_1, \
            TestClient(create_app(settings_of(config_2), now=lambda: now)) as portal_2:
        assert portal_1.get(link).status_code == 200
        assert portal_2.get(link).status_code == 404
        assert portal_2.get(head_2).status_code == 200
        assert portal_1.get(head_2).status_code == 404
    # revoking Long Biên's links in cluster 2 leaves cluster 1's link working
    ok(cli("tokens", "revoke", "LB", config=config_2))
    with TestClient(create_app(settings_of(tmp_path / "config.toml"), now=lambda: now)) as portal_1:
        assert portal_1.get(link).status_code == 200


def test_a_sheet_of_a_cluster_2_district_sent_to_cluster_1_is_rejected_as_unknown(cli, tmp_path, db_url, config_2):
    ok(cli("init"))
    ok(cli("init", config=config_2))
    tay_ho = sheet(config_2, "TH", JUNE_30, {"new_unions": 3}, tmp_path / "sent")
    result = cli("ingest", tay_ho)
    assert result.exit_code == 1
    assert "bị từ chối (rejected)" in result.stdout and "Tây Hồ" in result.stdout
    rows = rows_of(db_url, "cum-1")
    assert [(r.status, r.district_id) for r in _subs(db_url, "cum-1")] == [("rejected", None)]
    assert rows["figure"] == []
    with get_engine(db_url).connect() as conn:
        codes = set(conn.execute(select(Finding.code).where(Finding.cluster_id == "cum-1",
                                                            Finding.severity == "error")).scalars())
    assert codes == {"district_unknown"}
    assert rows_of(db_url, "cum-2")["submission"] == []
    # the same file is accepted where Tây Hồ belongs
    assert "đã chấp nhận (accepted)" in ok(cli("ingest", tay_ho, config=config_2))


def test_the_same_district_code_in_two_clusters_keeps_two_series(cli, tmp_path, db_url, config_2):
    ok(cli("init"))
    ok(cli("init", config=config_2))
    ok(cli("ingest", sheet(tmp_path / "config.toml", "LB", JUNE_30, LB_1, tmp_path / "sent")))
    ok(cli("ingest", sheet(config_2, "LB", JUNE_30, LB_2, tmp_path / "sent-2"), config=config_2))
    one = _lb(json.loads(ok(cli("status", "--as-of", "30/06/2023", "--format", "json"))))
    two = _lb(json.loads(ok(cli("status", "--as-of", "30/06/2023", "--format", "json", config=config_2))))
    assert [i["actual"] for i in one["indicators"]] == list(LB_1.values())
    assert [i["actual"] for i in two["indicators"]] == list(LB_2.values())
    assert (one["indicators"][0]["target"], two["indicators"][0]["target"]) == (30, 40)

    # Identical bytes sent to both clusters: each cluster receives them once ("already received" is per cluster).
    shared = sheet(tmp_path / "config.toml", "DD", JUNE_30, {"new_unions": 5}, tmp_path / "shared")
    assert "đã chấp nhận (accepted)" in ok(cli("ingest", shared))
    assert "đã chấp nhận (accepted)" in ok(cli("ingest", shared, config=config_2))
    assert "đã nhận trước đó (already received)" in ok(cli("ingest", shared, config=config_2))
    # a second version in cluster 2 supersedes only cluster 2's sheet
    ok(cli("ingest", sheet(config_2, "LB", JUNE_30, {**LB_2, "new_unions": 8}, tmp_path / "sent-3"), config=config_2))
    assert [s.superseded_by_id is None for s in _subs(db_url, "cum-1")] == [True, True]
    assert [s.superseded_by_id is None for s in _subs(db_url, "cum-2")] == [False, True, True]


def test_each_clusters_pull_takes_only_its_own_inbox(cli, tmp_path, config_2):
    ok(cli("init"))
    ok(cli("init", config=config_2))
    mine = sheet(tmp_path / "config.toml", "LB", JUNE_30, LB_1, tmp_path / "data" / "inbox")
    theirs = sheet(config_2, "LB", JUNE_30, LB_2, config_2.parent / "data" / "inbox")
    pulled = cli("pull", config=config_2)
    assert "1 chấp nhận (accepted)" in ok(pulled) + pulled.stderr
    assert mine.exists() and not theirs.exists()
    archived = list((config_2.parent / "data" / "archive").rglob("*.xlsx"))
    assert len(archived) == 1 and not (tmp_path / "data" / "archive").exists()


def _subs(db_url: str, cluster_id: str):
    from tracker.models import Submission

    with get_engine(db_url).connect() as conn:
        return conn.execute(select(Submission.__table__).where(Submission.cluster_id == cluster_id)
                            .order_by(Submission.id)).all()


def _lb(status: dict) -> dict:
    return next(d for d in status["districts"] if d["code"] == "LB")
