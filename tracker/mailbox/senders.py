"""Who may send a district's sheet by e-mail: the rule of docs/portal-and-mailbox.md §9, as a pure function.

A sheet is accepted only from a listed contact of the district it names (``[[districts]].emails``) or
from the cluster head (``cluster.head.emails``). Addresses compare case-insensitively. The From
address is taken as given: checking that it was not forged (SPF, DKIM, DMARC) is the mail server's job.
"""

from __future__ import annotations

from tracker.config import Settings

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
    """(Vietnamese, English) text of the rejection, naming the address and the district."""
    vi = (f"Người gửi không thuộc đơn vị: địa chỉ {sender or '(không rõ)'} không có trong danh sách liên hệ "
          f"của {district_name} hay của Cụm trưởng. Đề nghị đơn vị gửi báo cáo từ địa chỉ đã đăng ký.")
    en = (f"The sender does not belong to the district: {sender or '(unknown)'} is not a listed contact of "
          f"{district_name} nor of the cluster head. Please send the sheet from a registered address.")
    return vi, en
