"""The confirmation banner of a district's page and its **Xác nhận số liệu** form (docs/portal-and-mailbox.md
§3, docs/closing.md §1).

The page asks about the latest confirmation request of the year it shows, as of the date the period is
looked at (:func:`tracker.closing.current_as_of`, as `tracker period list` judges it), with the figures of
:func:`tracker.closing.to_confirm` (the snapshot while the period is closed). The form records the
confirmation through :func:`tracker.closing.confirm`, the function `tracker period confirm` calls, with
channel ``web`` and the link's label as who confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from tracker import closing, models
from tracker.calendar import parse_period
from tracker.config import Settings
from tracker.web.portal import Portal
from tracker.web.tokens import Access


@dataclass(frozen=True)
class Banner:
    """What the unit is asked to confirm, and where it stands."""

    sheet: closing.ToConfirm
    confirmed: models.Confirmation | None  # its confirmation that counts
    lapsed: models.Confirmation | None  # its latest confirmation, when the figures changed since
    # Closed, and the unit sent other figures since: confirming the snapshot would record figures it no
    # longer stands by, so the page says the head decides (reopen) instead of showing the form.
    amended: bool = False

    @property
    def can_confirm(self) -> bool:
        return self.confirmed is None and not self.amended


def banner(session: Session, settings: Settings, code: str, year: int) -> Banner | None:
    """The banner of unit ``code``'s page, or None when no confirmation was asked for in ``year``."""
    cid = settings.cluster.id
    request = closing.latest_request(session, cid, year)
    if request is None:
        return None
    period = parse_period(request.period)
    day = closing.current_as_of(session, cid, period)
    sheet = closing.to_confirm(session, settings, period, code, day)
    confirmed = closing.valid_confirmations(session, cid, period, day).get(code)
    latest = closing.latest_confirmation(session, cid, period, day, code)
    amended = sheet.close is not None and bool(closing.amendments(session, sheet.close, unit=code))
    return Banner(sheet, confirmed, latest if confirmed is None else None, amended)


def who(access: Access) -> str:
    """Who confirmed through the portal: the link's label (a person, or what the link was sent for)."""
    return access.label.strip() or f"đường dẫn #{access.token_id}"


def record(state: Portal, access: Access, year: int, form: dict[str, str | None]) -> models.Confirmation | None:
    """Record the confirmation posted by the form (once), or None when the page it came from is stale:
    another period or date is asked about now, or the unit's figures changed since the page was shown."""
    settings = state.settings
    with state.ctx.session(write=True) as session:
        now = banner(session, settings, access.district_code or "", year)
        if now is None or now.amended or (form.get("period"), form.get("as_of"), form.get("figures")) != (
                now.sheet.period.key, now.sheet.as_of.isoformat(), now.sheet.fingerprint):
            return None
        if now.confirmed is not None:  # the form sent twice (a double click): confirmed once
            return now.confirmed
        return closing.confirm(session, settings, now.sheet.period, now.sheet.code, as_of=now.sheet.as_of,
                               by=who(access), channel="web", now=state.now())
