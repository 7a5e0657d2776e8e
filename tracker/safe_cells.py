"""Writing text that came from outside (an upload, a sender) into a spreadsheet cell (PITFALLS, 'Writing reports').

openpyxl turns a string starting with ``=`` into a formula and ``#N/A`` into an error value, raises on
control characters and cuts text over 32,767 characters silently. :func:`write_text` is the one helper
every workbook writer uses for such text: illegal characters stripped, the length capped, the cell
forced to a string, and Excel's quote prefix set on text starting with one of OWASP's dangerous
characters, so even editing the cell in Excel keeps ``=HYPERLINK(...)`` typed by a district as text.

No openpyxl import here: the functions take any openpyxl cell.
"""

from __future__ import annotations

import re

from tracker.text import nfc

MAX_CELL_TEXT = 32767
DANGEROUS_LEADING = ("=", "+", "-", "@", "\t", "\r", "\0")  # OWASP CSV/formula injection list
# The characters XML 1.0 forbids (openpyxl's ILLEGAL_CHARACTERS_RE).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def clean_text(value: object) -> str:
    """Text as it may be stored in a cell: NFC, no characters XML forbids, at most 32,767 characters."""
    return _ILLEGAL.sub("", nfc(str(value)))[:MAX_CELL_TEXT]


def write_text(cell, value: object | None):
    """Put ``value`` into ``cell`` so it can only ever be text (None empties the cell); returns the cell."""
    if value is None:
        cell.value = None
        return cell
    text = clean_text(value)
    cell.value = text
    cell.data_type = "s"
    if text.startswith(DANGEROUS_LEADING):
        cell.quotePrefix = True
    return cell
