"""Who may send a district's sheet by e-mail: the rule of docs/portal-and-mailbox.md §9, as a pure function.

A sheet is accepted only from a listed contact of the district it names (``[[districts]].emails``) or
from the cluster head (``cluster.head.emails``). Addresses compare case-insensitively. The From
address is taken as given: checking that it was not forged (SPF, DKIM, DMARC) is the mail server's job.
"""

from __future__ import annotations

from tracker.config import Settings
from tracker.messages import part, template

REJECTION_CODE = "sender_not_in_district"


def normalise_address(address: str) -> str:
    return address.strip().strip("<>").strip().casefold()


def may_submit_for(settings: Settings, sender: str, district_code: str) -> bool:
    """Whether ``sender`` may send the sheet of ``district_code``."""
    who = normalise_address(sender)
    if not who:
        return False
    if who in {normalise_address(a) for a in settings.cluster.head.emails}:
        return True
    for district in settings.districts:
        if district.code.casefold() == district_code.casefold():
            return who in {normalise_address(a) for a in district.emails}
    return False


def rejection_messages(sender: str, district_name: str) -> tuple[str, str]:
    """(Vietnamese, English) text of the rejection, naming the address and the district (the catalogue's
    ``sender_not_in_district``, :mod:`tracker.messages`)."""
    wording = template(REJECTION_CODE, "mailbox")
    params = {"sender": sender or part("unknown_sender"), "district": district_name}
    return wording.render("vi", params), wording.render("en", params)
