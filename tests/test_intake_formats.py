"""Each upload format, with files written by LibreOffice (tests/fixtures): the same verdict and cells,
and an annotated .xlsx copy of a rejected file whatever its format."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from tests.conftest import ROOT
from tracker.intake.ingest import ingest_bytes

FIXTURES = ROOT / "tests" / "fixtures"
RECEIVED = datetime(2023, 6, 30, 9, tzinfo=UTC)


@pytest.mark.parametrize("ext", ["xlsx", "xls", "ods"])
def test_a_valid_report_in_each_format_is_accepted_with_its_cells(ctx, ext):
    path = FIXTURES / f"bao-cao-HBT-2023-06-30.{ext}"
    result = ingest_bytes(ctx, path.read_bytes(), path.name, received_at=RECEIVED)
    assert result.status == "accepted" and result.findings == []
    assert (result.district, result.as_of) == ("HBT", date(2023, 6, 30))
    from sqlmodel import select

    from tracker import models

    with ctx.session() as s:
        cells = {f.cell: f.value for f in s.exec(select(models.Figure))}
    assert cells == {"E7": 14, "E8": 8, "E9": 41, "E10": 1180, "E11": 2050.5}  # E11: LibreOffice's cached result


@pytest.mark.parametrize("ext", ["xlsx", "xls", "ods"])
def test_error_values_and_a_hidden_row_are_caught_in_each_format(ctx, ext):
    path = FIXTURES / f"bao-cao-HBT-loi-va-dong-an.{ext}"
    result = ingest_bytes(ctx, path.read_bytes(), path.name, received_at=RECEIVED)
    assert result.status == "rejected"
    assert [(f.code, f.cell) for f in result.errors] == [
        ("excel_error", "Báo cáo!E8"), ("hidden_row", "Báo cáo!A9"), ("excel_error", "Báo cáo!E10")]
    assert "#N/A" in result.errors[0].message_vi and "#DIV/0!" in result.errors[2].message_vi
    assert result.annotated_path.suffix == ".xlsx"
    ws = load_workbook(io.BytesIO(result.annotated_path.read_bytes()))["Báo cáo"]
    assert "#N/A" in ws["E8"].comment.text and ws["E8"].fill.fgColor.rgb.endswith("FFC7CE")
    assert ws["B7"].value == "Thành lập CĐCS mới"  # the district's content is there to be fixed
    assert result.stored_path.read_bytes() == path.read_bytes()
