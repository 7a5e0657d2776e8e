"""The words of the assessment's outputs (docs/assessment.md §6): titles, the subject, how a criterion is
scored and what a computed one comes from, and the award proposals.

Shared by the workbook and the e-mail (reporting), the minutes (documents), the dashboard (web) and the
terminal table (cli), so they all say the same thing. Numbers and dates through :mod:`tracker.text`;
every string is NFC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tracker.assessment.rules import Assessment, Criterion, CriterionScore, ScoringTable, UnitAssessment
from tracker.calendar import cluster_short_name
from tracker.config import Settings
from tracker.text import format_date, format_number, nfc

RULES = ("Điểm cuối cùng của mỗi tiêu chí là điểm Cụm chấm nếu có, nếu không là điểm đơn vị tự chấm; tiêu chí "
         "tính tự động (chỉ tiêu, báo cáo tuần) lấy điểm tính từ số liệu. Tổng điểm các tiêu chí được quy về thang "
         "điểm trên các tiêu chí áp dụng cho đơn vị, cộng điểm thưởng, trừ điểm trừ. Xếp hạng theo điểm cuối cùng; "
         "danh hiệu xét theo thứ tự hạng, đơn vị bằng điểm ở ranh giới một danh hiệu do Hội nghị bỏ phiếu.")


def assessment_subject(cluster_name: str, year: int, as_of: date) -> str:
    """``[Cụm thi đua số 1] Kết quả chấm điểm thi đua năm 2023 (số liệu đến 31/12/2023)``."""
    return nfc(f"[{cluster_short_name(cluster_name)}] Kết quả chấm điểm thi đua năm {year} "
               f"(số liệu đến {format_date(as_of)})")


def score_text(value: float | None) -> str:
    """A score as people write it, two decimals: ``84,50``; ``—`` for a score nobody gave."""
    return format_number(value, 2) if value is not None else "—"


def vote_text(u: UnitAssessment) -> str:
    return f"Bỏ phiếu xét {u.vote_needed}" if u.vote_needed else ""


def decision_text(u: UnitAssessment) -> str:
    """What the proposal says of a unit: the award, the vote, or nothing."""
    return u.award or vote_text(u)


def proposal(assessment: Assessment, table: ScoringTable) -> list[tuple[str, str]]:
    """Per award, in its order: ``(award (count), the units proposed and those the meeting votes on)``."""
    out = []
    for a in table.awards:
        given = [u for u in assessment.units if u.award == a.name]
        vote = [u for u in assessment.units if u.vote_needed == a.name]
        parts = []
        if given:
            parts.append(", ".join(f"{u.name} ({score_text(u.final_total)} điểm)" for u in given))
        if vote:
            left = a.count - len(given)
            parts.append(f"{left} suất do Hội nghị bỏ phiếu trong các đơn vị bằng điểm: "
                         + ", ".join(f"{u.name} ({score_text(u.final_total)} điểm)" for u in vote))
        out.append((nfc(f"{a.name} ({a.count})"), nfc("; ".join(parts) if parts else "Không có đơn vị đủ điều kiện")))
    return out


@dataclass(frozen=True)
class AssessmentWords:
    """What the outputs of one assessment say that depends on the config (the cluster, the indicators)."""

    cluster_name: str
    year: int
    as_of: date
    indicators: dict[str, tuple[str, str, str]]  # key → (label, unit, kind)

    @classmethod
    def of(cls, settings: Settings, assessment: Assessment) -> AssessmentWords:
        return cls(settings.cluster.name, assessment.year, assessment.as_of,
                   {i.key: (i.label, i.unit, i.kind) for i in settings.indicators})

    @property
    def cluster_short(self) -> str:
        return cluster_short_name(self.cluster_name)

    @property
    def title(self) -> str:
        return nfc(f"Kết quả chấm điểm thi đua năm {self.year} - {self.cluster_short}")

    @property
    def subtitle(self) -> str:
        return nfc(f"Số liệu tính đến ngày {format_date(self.as_of)}")

    @property
    def subject(self) -> str:
        return assessment_subject(self.cluster_name, self.year, self.as_of)

    @property
    def rules(self) -> str:
        return RULES

    @staticmethod
    def points(value: float) -> str:
        return format_number(value)

    def how(self, c: Criterion) -> str:
        """How a criterion is scored, in a few words."""
        if c.indicator is not None:
            return "Tự động (chỉ tiêu)"
        if c.computed:
            return "Tự động (báo cáo tuần)"
        return "Chấm tay"

    def basis(self, c: Criterion, score: CriterionScore) -> str:
        """What a computed criterion's score comes from (as of the assessment date, which the outputs state):
        ``Thực hiện 18 / chỉ tiêu 30 CĐCS: 12 × 60%``, ``24/26 tuần đúng hạn: 10 × 24/26``."""
        s = score.source
        if not c.computed or s is None:
            return ""
        if c.indicator is not None:
            label, unit, kind = self.indicators.get(c.indicator, (c.indicator, "", "count"))
            if not s.target:
                return nfc(f"Không áp dụng: đơn vị không đăng ký chỉ tiêu «{label}»")
            decimals = 0 if kind == "count" else None
            unit = f" {unit}" if unit else ""
            share = min((s.actual or 0.0) / s.target, 1.0) * 100
            figures = f"{format_number(s.actual or 0, decimals)} / chỉ tiêu {format_number(s.target, decimals)}{unit}"
            return nfc(f"Thực hiện {figures}: {format_number(c.points)} × {format_number(round(share, 1))}%")
        if not s.due:
            return "Không áp dụng: chưa có tuần nào đến hạn nộp báo cáo"
        return nfc(f"{s.on_time}/{s.due} tuần nộp đúng hạn: {format_number(c.points)} × {s.on_time}/{s.due}")
