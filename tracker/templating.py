"""Jinja2 rendering for e-mails and report bodies: one environment per template folder set, built once.

``.html.j2`` templates are autoescaped; missing values raise (StrictUndefined); the result is NFC.
:data:`SHARED_TEMPLATES` holds what every e-mail's HTML extends (``_base.html.j2``: the font, the
footer), so the mail area's messages and the mailbox's receipt look alike without importing each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from tracker.text import nfc

SHARED_TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def _environment(folders: tuple[str, ...], trim: bool):
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(list(folders)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=trim, lstrip_blocks=trim,
    )


def render(folders: Path | Sequence[Path], name: str, model: dict[str, Any], *, trim: bool = True) -> str:
    """Template ``name`` from ``folders`` (searched in order) rendered with ``model``, as NFC text."""
    paths = (folders,) if isinstance(folders, Path) else tuple(folders)
    return nfc(_environment(tuple(str(p) for p in paths), trim).get_template(name).render(**model))
