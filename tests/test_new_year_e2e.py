"""Starting a new year in one database, through the commands (docs/commands.md, README "Starting a new
year"): the config switched to 2024 and `tracker init` again; both years' status and reports stay correct,
a 29 December figure never counts in January, and the weekly e-mail of January compares with no one."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from tests.conftest import write_config
from tests.intake_factory import report_for

FIGS = {"new_unions": 5, "agreements": 2, "congresses": 10, "new_members": 300, "union_fees": 400.0}


def _sheet(folder: Path, code: str, day: str, figures: dict) -> Path:
    d, m, y = (int(x) for x in day.split("/"))
    path = folder / f"{code}-{y}{m:02d}{d:02d}.xlsx"
    path.write_bytes(report_for(code, date(y, m, d), figures))
    return path


def _status(cli, day: str, config: Path) -> dict:
    result = cli("status", "--as-of", day, "--format", "json", config=config)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _indicator(js: dict, code: str, key: str) -> dict:
    unit = next(d for d in js["districts"] if d["code"] == code)
    return next(i for i in unit["indicators"] if i["key"] == key)


def test_two_years_in_one_database_through_the_commands(cli, tmp_path, db_url, config_path):
    sheets = tmp_path / "in"
    sheets.mkdir()
    assert cli("init").exit_code == 0
    first = [_sheet(sheets, "HBT", "23/06/2023", FIGS), _sheet(sheets, "HBT", "30/06/2023", {**FIGS, "new_unions": 8}),
             _sheet(sheets, "HM", "29/12/2023", {**FIGS, "new_unions": 25})]
    ingested = cli("ingest", *map(str, first))
    assert ingested.exit_code == 0, ingested.stdout + ingested.stderr

    # 1 January: the administrator switches the year and runs init; a first January sheet comes in
    new_year = write_config(tmp_path, db_url, replace={"year = 2023": "year = 2024"})
    assert cli("init", config=new_year).exit_code == 0
    january = _sheet(sheets, "HBT", "05/01/2024", {**FIGS, "new_unions": 1})
    assert cli("ingest", str(january), config=new_year).exit_code == 0

    mid_2023 = _status(cli, "30/06/2023", new_year)
    assert mid_2023["year"] == 2023 and _indicator(mid_2023, "HBT", "new_unions")["actual"] == 8
    assert _indicator(mid_2023, "HBT", "new_unions")["week_change"] == 3
    jan = _status(cli, "05/01/2024", new_year)
    assert jan["year"] == 2024 and _indicator(jan, "HBT", "new_unions")["actual"] == 1
    assert _indicator(jan, "HBT", "new_unions")["week_change"] == 1  # from 0 on 1 January
    assert _indicator(jan, "HM", "new_unions")["actual"] is None  # 29/12/2023 never counts in January

    for day, week in (("30/06/2023", "2023-W26"), ("05/01/2024", "2024-W01")):
        report = cli("report", "weekly", "--as-of", day, config=new_year)
        assert report.exit_code == 0, report.stderr
        assert any(Path(p).parent.name == week for p in report.stdout.splitlines())
    pack = cli("report", "review", "--period", "2023-H1", config=new_year)
    assert pack.exit_code == 0, pack.stderr
    assert cli("status", "--as-of", "30/06/2019", config=new_year).exit_code == 2
