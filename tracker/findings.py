"""Findings: the errors and warnings found in an upload, each a value naming its cell.

An **error** rejects the whole file; a **warning** is stored with the accepted figures and shown in
reports. Every finding carries a Vietnamese and an English message, made from the catalogue
(:mod:`tracker.messages`) by :func:`make`; the cell is written the way a person finds it in Excel:
``Báo cáo!D9``.

A core module: the intake makes findings, and the mail, the mailbox and the portal show them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tracker.messages import CODES, Severity

# Codes that judge the circumstances of an upload rather than its bytes.
CONTEXT_CODES = frozenset({"sender_not_in_district"})


@dataclass(frozen=True)
class Finding:
    """One error or warning. ``cell`` is the full reference ``Báo cáo!D9`` (None when no cell applies)."""

    severity: Severity
    code: str
    message_vi: str
    message_en: str
    sheet: str | None = None
    cell: str | None = None
    indicator: str | None = None

    @property
    def ref(self) -> str | None:
        """The cell without its sheet: ``D9``."""
        return self.cell.rsplit("!", 1)[1] if self.cell and "!" in self.cell else self.cell

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def text(self, lang: str = "vi") -> str:
        """``Báo cáo!D9: <message>`` in one language."""
        message = self.message_vi if lang == "vi" else self.message_en
        return f"{self.cell}: {message}" if self.cell else message


def make(code: str, variant: str = "", /, *, sheet: str | None = None, ref: str | None = None,
         indicator: str | None = None, **params: object) -> Finding:
    """The finding ``code`` at ``sheet!ref`` (``ref`` like ``D9``), worded by the catalogue's ``variant`` with
    ``params`` filled in (:mod:`tracker.messages`)."""
    entry = CODES[code]
    vi, en = entry.texts[variant].render_both(params)
    cell = f"{sheet}!{ref}" if sheet and ref else None
    return Finding(entry.severity, code, vi, en, sheet=sheet, cell=cell, indicator=indicator)


def finding(severity: Severity, code: str, vi: str, en: str, *, sheet: str | None = None,
            ref: str | None = None, indicator: str | None = None) -> Finding:
    """A finding whose messages are already written: one the reader's worker process worded from the catalogue
    (a refusal travels as its two texts), or one made by a test. Code in the tracker uses :func:`make`."""
    assert code in CODES, code
    cell = f"{sheet}!{ref}" if sheet and ref else None
    return Finding(severity, code, vi, en, sheet=sheet, cell=cell, indicator=indicator)


def stored_finding(row) -> Finding:
    """A finding read back from the ``finding`` table (any row with its columns as attributes)."""
    cell = f"{row.sheet}!{row.cell}" if row.sheet and row.cell else row.cell
    return Finding(row.severity, row.code, row.message_vi, row.message_en, sheet=row.sheet, cell=cell,
                   indicator=row.indicator_key)


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def warnings(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "warning"]


class Judged:
    """What a checked file or workbook gives (a mixin for dataclasses with ``findings``): its errors and
    warnings."""

    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return errors(self.findings)

    @property
    def warnings(self) -> list[Finding]:
        return warnings(self.findings)


def _position(f: Finding) -> tuple[int, int]:
    """(row, column) of a finding's cell, for ordering; findings without a cell come first."""
    ref = f.ref or ""
    letters = "".join(ch for ch in ref if ch.isalpha())
    digits = "".join(ch for ch in ref if ch.isdigit())
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return (int(digits) if digits else 0, col)


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Errors before warnings, each in reading order (row, then column)."""
    return sorted(findings, key=lambda f: (f.severity != "error", _position(f)))
