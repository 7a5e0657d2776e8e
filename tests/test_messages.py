"""The message catalogue (tracker/messages.py): every finding is worded there, in both languages, and documented."""

from __future__ import annotations

import ast
import string
import unicodedata
from pathlib import Path

import pytest

from tracker.findings import make
from tracker.messages import CODES, PARTS, Bilingual, render

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = [(code, variant, wording) for code, entry in CODES.items() for variant, wording in entry.texts.items()]


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize(("code", "variant", "wording"), TEMPLATES, ids=[f"{c}/{v}" for c, v, _ in TEMPLATES])
def test_every_wording_renders_in_vietnamese_and_in_english(code, variant, wording):
    params = {name: f"<{name}>" for name in fields(wording.vi) | fields(wording.en)}
    vi, en = render(code, variant, "vi", **params), render(code, variant, "en", **params)
    assert vi and en and vi != en
    assert "{" not in vi + en and "}" not in vi + en
    assert unicodedata.is_normalized("NFC", wording.vi) and unicodedata.is_normalized("NFC", wording.en)
    assert fields(wording.en) <= fields(wording.vi) | {"name"}  # English names nothing the Vietnamese leaves out


def test_parts_of_sentences_are_filled_in_the_message_language():
    what = PARTS["ytd"].fill(header="Lũy kế từ đầu năm", name=Bilingual("Kết nạp đoàn viên", "New members"))
    finding = make("value_not_number", sheet="Báo cáo", ref="F9", indicator="new_members", shown="abc", what=what)
    assert finding.message_vi == "'abc' không phải là số (Lũy kế từ đầu năm của chỉ tiêu 'Kết nạp đoàn viên')."
    assert finding.message_en == "'abc' is not a number (year to date of 'New members')."
    assert (finding.severity, finding.cell, finding.indicator) == ("error", "Báo cáo!F9", "new_members")


def test_a_code_or_variant_not_in_the_catalogue_is_refused():
    with pytest.raises(KeyError):
        make("no_such_code")
    with pytest.raises(KeyError):
        make("date_missing", "no_such_variant", label="x", rows=20)


def test_every_code_of_the_catalogue_is_in_the_sheet_format_page():
    text = (ROOT / "docs" / "sheet-format.md").read_text(encoding="utf-8")
    assert [code for code in CODES if f"`{code}`" not in text] == []


# Calls that carry a finding's texts, and the positions of the texts among their arguments.
_WORDED = {"finding": (2, 3), "Finding": (2, 3), "UnreadableWorkbook": (1, 2), "Bilingual": (0, 1)}


def worded_outside_the_catalogue(source: str) -> list[int]:
    """Lines of ``source`` that write a finding's text inline (a literal or an f-string) instead of taking it
    from the catalogue."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name not in _WORDED:
            continue
        texts = [node.args[i] for i in _WORDED[name] if i < len(node.args)]
        texts += [k.value for k in node.keywords if k.arg in ("vi", "en", "message_vi", "message_en")]
        if any(isinstance(t, ast.JoinedStr) or (isinstance(t, ast.Constant) and isinstance(t.value, str))
               for t in texts):
            lines.append(node.lineno)
    return lines


def test_no_finding_is_worded_outside_the_catalogue():
    inline = [f"{path.relative_to(ROOT)}:{line}" for path in sorted((ROOT / "tracker").rglob("*.py"))
              if path.name != "messages.py"
              for line in worded_outside_the_catalogue(path.read_text(encoding="utf-8"))]
    assert inline == []


def test_the_inline_wording_check_sees_literals_and_f_strings():
    source = ('finding("error", "x", f"Ô {ref} sai", "Wrong cell")\n'
              'make("x", ref="D9")\n'
              'Bilingual(ind.label, ind.label_en)\n'
              'UnreadableWorkbook(code, "Tệp hỏng", en)\n')
    assert worded_outside_the_catalogue(source) == [1, 4]
