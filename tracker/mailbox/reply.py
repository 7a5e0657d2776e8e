"""The receipt: the verdict on an e-mailed sheet, sent back to its sender as a reply (docs/portal-and-mailbox.md §10).

One receipt per message, to the sender (its Reply-To, else From), threaded under the message
(``In-Reply-To``/``References``), listing every sheet: accepted with its figures and their cells, already
received, or rejected (the errors by cell and the annotated workbook go in the rejection notice, so a
message whose sheets were all rejected gets no receipt).

This module writes the receipt's content (:func:`receipt_model`, :func:`receipt_texts`);
:func:`tracker.workflows.notices.send_receipt` queues it in the outbox under the key
``receipt/<cluster>/<digest of the Message-ID>/<sender>``, so handling the same message again (a pull
that stopped before moving it) never mails twice. Only when mail is configured.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlmodel import select

from tracker import models
from tracker.calendar import cluster_short_name
from tracker.context import Context
from tracker.mailbox.message import InboundMessage
from tracker.templating import SHARED_TEMPLATES, render
from tracker.text import format_date, format_number, nfc


class Verdict(Protocol):
    """What the receipt reads of each sheet's verdict (the intake's ``IngestResult`` has it)."""

    file_name: str
    status: str  # accepted | duplicate | rejected
    district: str | None
    as_of: date | None
    submission_id: int | None
    received_at: datetime | None
    errors: Sequence[Any]  # findings: cell, message_vi, message_en
    warnings: Sequence[Any]
    # and, read with getattr: ``kind`` ("assessment" for a unit's self-assessment) and its ``year``


KIND = "receipt"
TEMPLATES = Path(__file__).resolve().parent / "templates"
VERDICT = {
    "accepted": ("đã tiếp nhận", "accepted"),
    "duplicate": ("đã nhận trước đó", "already received"),
    "rejected": ("chưa được tiếp nhận", "rejected"),
}


def receipt_period(message_id: str) -> str:
    """The outbox period of a message's receipt (the column holds 40 characters; a Message-ID may not)."""
    return "msg-" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()[:32]


def receipt_model(ctx: Context, msg: InboundMessage, results: Sequence[Verdict]) -> dict:
    """What the templates show: one entry per sheet, figures with label, value, unit and cell."""
    settings = ctx.settings
    short = cluster_short_name(settings.cluster.name)
    figures = _figures(ctx, [r.submission_id for r in results if r.status != "rejected" and r.submission_id])
    sheets = []
    for r in results:
        district = settings.district(r.district) if r.district else None
        vi, en = VERDICT[r.status]
        assessment = getattr(r, "kind", "report") == "assessment"
        year = getattr(r, "year", None)
        sheets.append(dict(
            what_vi=(f"bảng tự chấm điểm năm {year}" if year else "bảng tự chấm điểm") if assessment else None,
            what_en=(f"self-assessment {year}" if year else "self-assessment") if assessment else None,
            file_name=nfc(r.file_name), status=r.status, verdict_vi=vi, verdict_en=en,
            district=r.district, district_name=district.name if district else None,
            as_of=format_date(r.as_of) if r.as_of else None, as_of_iso=r.as_of.isoformat() if r.as_of else None,
            errors=r.errors, warnings=r.warnings, n_errors=format_number(len(r.errors)),
            figures=figures.get(r.submission_id, []) if r.status != "rejected" else []))
    accepted = [s for s in sheets if s["status"] != "rejected"]
    if len(sheets) == 1 and accepted:
        s = accepted[0]
        about = f" của {s['district_name']}" if s["district_name"] else ""
        when = f", số liệu đến {s['as_of']}" if s["as_of"] else ""
        subject = f"[{short}] Đã tiếp nhận {s['what_vi'] or 'báo cáo'}{about}{when}"
    else:
        subject = (f"[{short}] Kết quả tiếp nhận {format_number(len(sheets))} tệp báo cáo: "
                   f"{format_number(len(accepted))} được tiếp nhận")
    received = None
    if results and results[0].received_at:
        local = results[0].received_at.astimezone(settings.tz)
        received = f"{local:%H:%M} {format_date(local)}"
    mb = settings.mailbox
    return dict(short=short, greeting=msg.sender_name or "anh/chị", subject=msg.subject, received_at=received,
                sheets=sheets, mail_subject=nfc(subject),
                reply_to=mb.user if mb.enabled and "@" in mb.user else None)


def _figures(ctx: Context, submission_ids: list[int]) -> dict[int, list[dict]]:
    if not submission_ids:
        return {}
    out: dict[int, list[dict]] = {}
    with ctx.session() as session:
        rows = session.exec(
            select(models.Figure, models.Indicator).join(models.Indicator, models.Indicator.id ==
                                                         models.Figure.indicator_id)
            .where(models.Figure.submission_id.in_(submission_ids))  # type: ignore[attr-defined]
            .order_by(models.Figure.submission_id, models.Indicator.position)).all()
    for figure, indicator in rows:
        out.setdefault(figure.submission_id, []).append(dict(
            key=indicator.key, label=indicator.label, unit=indicator.unit, value=format_number(figure.value),
            cell=f"{figure.sheet}!{figure.cell}"))
    return out


def receipt_texts(model: dict) -> tuple[str, str]:
    """(plain text, HTML) of the receipt; the HTML extends the shared ``_base.html.j2`` (the same look as
    every other e-mail of the tracker)."""
    folders = [TEMPLATES, SHARED_TEMPLATES]
    return render(folders, "receipt.txt.j2", model), render(folders, "receipt.html.j2", model)
