"""Matching what people type against the cluster's names: labels, headers, districts, indicators.

All matching goes through :func:`tracker.text.fold` (case, diacritics, ``Đ`` → ``D``, spaces, a trailing
colon) and compares whole texts: ``Đơn vị tính`` is not ``Đơn vị``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tracker.config import Settings
from tracker.text import fold as _fold_text

# Labels and headers of the district report sheet (docs/sheet-format.md §4, §5).
SHEET_REPORT = "Báo cáo"
LABEL_DISTRICT = "Đơn vị"
LABEL_AS_OF = "Số liệu tính đến ngày"
HEADER_CODE = "Mã chỉ tiêu"
HEADER_LABEL = "Chỉ tiêu"
HEADER_UNIT = "Đơn vị tính"
HEADER_TARGET = "Chỉ tiêu đăng ký"
HEADER_PREVIOUS = "Lũy kế kỳ trước"  # shown by the template, ignored when reading
HEADER_YTD = "Lũy kế từ đầu năm"  # fold() makes "Luỹ kế" equal to "Lũy kế"
HEADER_PERIOD = "Thực hiện trong kỳ"
HEADER_NOTE = "Ghi chú"

# Targets workbook
SHEET_TARGETS = "Chỉ tiêu đăng ký"
LABEL_YEAR = "Năm"
HEADER_DISTRICT_CODE = "Mã đơn vị"
HEADER_DISTRICT_NAME = "Tên đơn vị"

# The self-assessment workbook and the head's cross-check (docs/assessment.md §6, §8).
SHEET_ASSESSMENT = "Tự chấm điểm"
SHEET_REVIEW = "Thẩm định"
HEADER_CRITERION_CODE = "Mã tiêu chí"
HEADER_CRITERION = "Tiêu chí"
HEADER_MAX = "Điểm chuẩn"
HEADER_SELF = "Điểm tự chấm"
HEADER_EXPLANATION = "Giải trình, minh chứng"
HEADER_CLUSTER_SCORE = "Điểm Cụm chấm"

# Words people put before a district's proper name: "LĐLĐ quận", "Liên đoàn Lao động huyện", "Q.".
_PREFIX = re.compile(r"^(lien doan lao dong|ldld|quan|huyen|thi xa|thanh pho|tp\.?|q\.)\s*")


MAX_LABEL_LENGTH = 200  # longer texts are sentences, not labels or names: never folded


@lru_cache(maxsize=8192)
def _fold_cached(text: str) -> str:
    return _fold_text(text)


def fold(text: object) -> str:
    """:func:`tracker.text.fold`, remembered: the same labels and headers come back in every file."""
    if isinstance(text, str):
        return _fold_cached(text) if len(text) <= MAX_LABEL_LENGTH else ""
    return _fold_text(text)


def same(text: object, label: str) -> bool:
    """Whole-text match of a typed label against one of ours."""
    return isinstance(text, str) and fold(text) == fold(label)


def _bare(folded: str) -> str:
    previous = None
    while previous != folded:
        previous, folded = folded, _PREFIX.sub("", folded).strip()
    return folded


@dataclass(frozen=True)
class Names:
    """The cluster's districts and indicators, indexed for matching typed text."""

    districts: dict[str, str]  # folded code / name / alias -> code
    districts_bare: dict[str, set[str]]  # name without "LĐLĐ quận" -> codes
    indicators: dict[str, str]  # folded key / label / English label -> key

    @classmethod
    def of(cls, settings: Settings) -> Names:
        districts: dict[str, str] = {}
        bare: dict[str, set[str]] = {}
        for d in settings.districts:
            for text in (d.code, d.name, *d.aliases):
                districts.setdefault(fold(text), d.code)
            for text in (d.name, *d.aliases):
                bare.setdefault(_bare(fold(text)), set()).add(d.code)
        indicators: dict[str, str] = {}
        for ind in settings.indicators:
            for text in (ind.key, ind.label, ind.label_en):
                indicators.setdefault(fold(text), ind.key)
        return cls(districts, bare, indicators)

    def district(self, text: object) -> str | None:
        """The district code typed as a code, a full name or a bare name; None if unknown or ambiguous."""
        if text is None:
            return None
        if isinstance(text, float) and text.is_integer():
            text = int(text)
        key = fold(text)
        if not key:
            return None
        if key in self.districts:
            return self.districts[key]
        codes = self.districts_bare.get(_bare(key), set())
        return next(iter(codes)) if len(codes) == 1 else None

    def indicator(self, text: object) -> str | None:
        """The indicator key typed as a key or a label; None if unknown."""
        if text is None or isinstance(text, bool):
            return None
        return self.indicators.get(fold(text))
