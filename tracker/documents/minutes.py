"""The draft minutes of the award meeting (``BIÊN BẢN`` họp bình xét thi đua, docs/assessment.md §6) as an
:class:`~tracker.documents.official.OfficialDocument` in the layout of docs/outputs.md §10.

Facts from the assessment (the ranking, the proposals, who the meeting votes on); marked places ``[...]``
for what only the meeting can write (time, place, who attended, the votes, the conclusions). The scores
of every criterion go in the annex, as many units per table as fit a landscape page.
"""

from __future__ import annotations

import re
from datetime import date

from tracker.assessment.rules import Assessment, ScoringTable, UnitAssessment
from tracker.assessment.words import AssessmentWords, decision_text, proposal, score_text
from tracker.calendar import district_short_name
from tracker.documents import official as o
from tracker.text import format_date

UNITS_PER_ANNEX_TABLE = 8
SECRETARY, CHAIR = "THƯ KÝ", "CHỦ TRÌ"


def minutes_document(assessment: Assessment, table: ScoringTable, words: AssessmentWords,
                     day: date | None, number_code: str = "") -> o.OfficialDocument:
    """The minutes of the meeting that proposes the awards of ``assessment``'s year (``number_code``: the
    documents' code, made a minutes' one by :func:`minutes_code`)."""
    year, who = assessment.year, words.cluster_short
    body: list[o.Block] = [
        o.Paragraph(f"Thời gian: {o.PLACEHOLDER} giờ {o.PLACEHOLDER}, {o.date_words(None).strip()}."),
        o.Paragraph(f"Địa điểm: {o.PLACEHOLDER}."),
        o.Heading("Thành phần"),
        o.Item(f"Chủ trì: {o.PLACEHOLDER}, Cụm trưởng {who}."),
        o.Item(f"Thư ký: {o.PLACEHOLDER}."),
        o.Item("Đại diện lãnh đạo các đơn vị trong Cụm:"),
        *(o.Item(f"{u.name}: {o.PLACEHOLDER}") for u in sorted(assessment.units, key=_alphabetical)),
        o.Item(f"Khách mời: {o.PLACEHOLDER}."),
        o.Heading("Nội dung"),
        o.Heading("Kết quả chấm điểm thi đua", level=2),
        o.Paragraph(
            f"Căn cứ thang điểm thi đua năm {year} của {who} (tổng {words.points(assessment.total_points)} điểm), "
            f"kết quả tự chấm của các đơn vị và kết quả thẩm định của Cụm, với số liệu tính đến ngày "
            f"{format_date(assessment.as_of)}, kết quả chấm điểm và xếp hạng như sau (chi tiết theo từng tiêu "
            f"chí tại Phụ lục):"),
        ranking_table(assessment),
        o.Heading("Đề xuất khen thưởng", level=2),
        o.Paragraph("Căn cứ kết quả chấm điểm và xếp hạng, Hội nghị thống nhất đề nghị:"),
        *(o.Item(f"{award}: {units}.") for award, units in proposal(assessment, table)),
        *vote_blocks(assessment, table),
        o.Heading("Kết luận"),
        o.Paragraph(o.PLACEHOLDER),
        o.Paragraph(f"Cuộc họp kết thúc lúc {o.PLACEHOLDER} giờ {o.PLACEHOLDER} cùng ngày. Biên bản đã được đọc "
                    "lại và thông qua trước Hội nghị."),
    ]
    return o.OfficialDocument(
        o.DocumentKind.MINUTES, f"Họp bình xét thi đua năm {year} của {who}", day, tuple(body),
        annexes=(o.Annex(f"Bảng chấm điểm thi đua năm {year} của {who}", score_tables(assessment, table, words),
                         landscape=True),),
        number_code=minutes_code(number_code), secretary=SECRETARY, chair=CHAIR)


def minutes_code(code: str) -> str:
    """Minutes are numbered ``/BB-…``: a report's code ``BC-CTĐ1`` becomes ``BB-CTĐ1``; another code is kept."""
    return re.sub(r"^BC(?=-|$)", "BB", code.strip())


def _alphabetical(u: UnitAssessment) -> str:
    """Units by their short name in Vietnamese order (Đ after D, which plain code-point order misses)."""
    return district_short_name(u.name).casefold().replace("đ", "d~")


def ranking_table(assessment: Assessment) -> o.Table:
    rows = tuple((str(u.rank), u.name, score_text(u.self_total), score_text(u.final_total), decision_text(u))
                 for u in assessment.units)
    return o.Table(("Hạng", "Đơn vị", "Tự chấm", "Điểm cuối cùng", "Đề nghị khen thưởng"), rows,
                   title="Bảng xếp hạng", widths=(1.2, 3.6, 1.3, 1.5, 3.6), left=(1, 4))


def vote_blocks(assessment: Assessment, table: ScoringTable) -> list[o.Block]:
    """For each award the meeting votes on: who is tied, how many places, and a blank tally table."""
    blocks: list[o.Block] = []
    for award in table.awards:
        tied = [u for u in assessment.units if u.vote_needed == award.name]
        if not tied:
            continue
        given = sum(1 for u in assessment.units if u.award == award.name)
        if not blocks:
            blocks.append(o.Heading("Bỏ phiếu bình xét", level=2))
        blocks.append(o.Paragraph(
            f"Xét {award.name}: {len(tied)} đơn vị bằng {score_text(tied[0].final_total)} điểm cho "
            f"{award.count - given} suất còn lại; Hội nghị bỏ phiếu kín. Số đại biểu có mặt: {o.PLACEHOLDER}; "
            f"số phiếu phát ra: {o.PLACEHOLDER}; số phiếu thu về: {o.PLACEHOLDER}; số phiếu hợp lệ: "
            f"{o.PLACEHOLDER}. Kết quả kiểm phiếu:"))
        blocks.append(tally_table(award.name, tied))
    return blocks


def tally_table(award: str, tied: list[UnitAssessment]) -> o.Table:
    rows = tuple((str(n), u.name, score_text(u.final_total), "", "") for n, u in enumerate(tied, start=1))
    return o.Table(("STT", "Đơn vị", "Điểm", "Số phiếu đồng ý", "Tỷ lệ (%)"), rows,
                   title=f"Kết quả bỏ phiếu: {award}", widths=(0.8, 4.2, 1.3, 1.8, 1.5))


def score_tables(assessment: Assessment, table: ScoringTable, words: AssessmentWords) -> tuple[o.Block, ...]:
    """Codes × units (final scores; ``self → final`` where the cluster changed the unit's own), the totals
    and the rank, at most :data:`UNITS_PER_ANNEX_TABLE` units per table."""
    units = assessment.units
    blocks: list[o.Block] = [o.Paragraph(
        "Điểm ghi theo từng tiêu chí là điểm cuối cùng; ô ghi «a → b» là tiêu chí Cụm chấm b điểm khác điểm đơn "
        "vị tự chấm a. Tiêu chí không áp dụng cho đơn vị ghi «—». " + words.rules)]
    for start in range(0, len(units), UNITS_PER_ANNEX_TABLE):
        part = units[start:start + UNITS_PER_ANNEX_TABLE]
        columns = ("Mã", "Tiêu chí", "Điểm chuẩn", *(district_short_name(u.name) for u in part))
        rows: list[tuple[str, ...]] = []
        for n, c in enumerate(table.criteria):
            rows.append((c.code, c.label, words.points(c.points), *(_cell(u.criteria[n]) for u in part)))
        for kind, extras, pick in (("Điểm thưởng", table.bonus, lambda u: u.bonus),
                                   ("Điểm trừ", table.penalty, lambda u: u.penalty)):
            for n, e in enumerate(extras):
                rows.append((e.code, f"{kind}: {e.label}", f"tối đa {words.points(e.max)}",
                             *(_cell(pick(u)[n]) for u in part)))
        totals = [("", "Tổng điểm tự chấm", "", *(score_text(u.self_total) for u in part)),
                  ("", "Tổng điểm cuối cùng", words.points(assessment.total_points),
                   *(score_text(u.final_total) for u in part)),
                  ("", "Xếp hạng", "", *(str(u.rank) for u in part))]
        title = "Bảng điểm theo tiêu chí" if len(units) <= UNITS_PER_ANNEX_TABLE else \
            f"Bảng điểm theo tiêu chí ({start + 1}–{start + len(part)})"
        blocks.append(o.Table(columns, (*rows, *totals), title=title,
                              widths=(0.9, 5.0, 1.2, *(1.3,) * len(part)), left=(1,),
                              emphasis=tuple(range(len(rows), len(rows) + len(totals)))))
    return tuple(blocks)


def _cell(score) -> str:
    if getattr(score, "applicable", True) is False:
        return "—"
    own, cluster = score.self, score.cluster
    if cluster is not None and (own is None or abs(cluster - own) >= 0.005) and not _computed(score):
        return f"{score_text(own)} → {score_text(score.final)}"
    return score_text(score.final)


def _computed(score) -> bool:
    return getattr(score, "source", None) is not None
