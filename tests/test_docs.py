"""The pages of docs/ stay true to the code (in the spirit of sqlite-utils' test_docs.py).

Every command and option of `tracker` is in docs/commands.md, every key of the settings model in
docs/config.md, every environment variable the code reads in docs/config.md; every ``docs/<page>.md §N``
cited by the code names a page and a numbered section that exist; and nothing cites the design file,
which is not in the repository.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from pydantic import BaseModel

from tracker.cli import app
from tracker.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CODE_DIRS = ("tracker", "jobs", "tests", "bench", "migrations")
TEXT_SUFFIXES = {".py", ".md", ".j2", ".html", ".toml", ".mako", ".txt", ".css", ".service", ""}

HEADING = re.compile(r"^## (\d+)\.\s", re.MULTILINE)
# docs/<page>.md, then optionally sections: "§4", "§4, §5", "§4–§7".
CITATION = re.compile(r"docs/(?P<page>[A-Za-z0-9_-]+\.md)(?P<sections>(?:[\s,]*(?:[–-]\s*)?§\d+)*)")
SECTION = re.compile(r"([–-])?\s*§(\d+)")
# Between pages: "[config.md §4](config.md)".
INNER_REFERENCE = re.compile(r"\[(?P<page>[A-Za-z0-9_-]+\.md) §(?P<section>\d+)\]\((?P<target>[^)]+)\)")
ENV_VAR = re.compile(r"\bTRACKER_[A-Z0-9_]*[A-Z0-9]\b")
THE_DESIGN_FILE = re.compile(r"\b" + "DES" + "IGN" + r"\b")  # spelt apart so this file does not cite it


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def sections(text: str) -> dict[int, str]:
    """Numbered top sections of a page (``## 4. Title``) → their text, heading included."""
    starts = [(int(m.group(1)), m.start()) for m in HEADING.finditer(text)]
    out = {}
    for i, (number, start) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else len(text)
        out[number] = text[start:end]
    return out


def code_files() -> Iterator[Path]:
    for folder in CODE_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in TEXT_SUFFIXES and "__pycache__" not in path.parts:
                yield path
    yield ROOT / "README.md"


# -- commands -----------------------------------------------------------------------------------------


def command_tree(command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    """(path, click command) of every command and subcommand; typer vendors click, so duck-typed."""
    yield path, command
    for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
        yield from command_tree(sub, (*path, name))


def undocumented_commands(root, text: str) -> list[str]:
    """`tracker a b` for every command of ``root`` that ``text`` never names."""
    missing = []
    for path, _command in command_tree(root):
        name = " ".join(("tracker", *path))
        if not re.search(re.escape(name) + r"(?![\w-])", text):
            missing.append(name)
    return missing


def undocumented_options(root, text: str) -> list[str]:
    """``--option`` of each command missing from the section of ``text`` that documents the command
    (the section whose heading names `tracker <first word>`; §1 for the global options)."""
    by_number = sections(text)
    missing = []
    for path, command in command_tree(root):
        if path:
            heading = re.compile(r"`tracker " + re.escape(path[0]) + r"(?![\w-])")
            where = [body for body in by_number.values() if heading.search(body.splitlines()[0])]
        else:
            where = [by_number.get(1, "")]
        body = "\n".join(where)
        for param in command.params:
            if param.param_type_name != "option":
                continue
            for opt in param.opts:
                if opt.startswith("--") and not re.search(re.escape(opt) + r"(?![\w-])", body):
                    missing.append(f"tracker {' '.join(path)} {opt}".replace("  ", " "))
    return missing


def test_every_command_is_in_the_commands_page():
    root = typer.main.get_command(app)
    assert len(list(command_tree(root))) > 20  # the walk really finds the command tree
    assert undocumented_commands(root, page("commands.md")) == []


def test_every_option_is_in_its_commands_section():
    assert undocumented_options(typer.main.get_command(app), page("commands.md")) == []


def test_a_command_added_without_docs_is_caught():
    extra = typer.Typer(add_completion=False)

    @extra.command("init")
    def _init() -> None: ...

    @extra.command("frobnicate")
    def _frobnicate(level: int = typer.Option(1, "--level")) -> None: ...

    root = typer.main.get_command(extra)
    text = "## 1. Conventions\n\n## 2. `tracker init`\n"
    assert undocumented_commands(root, text) == ["tracker frobnicate"]
    assert undocumented_options(root, text) == ["tracker frobnicate --level"]


# -- configuration ------------------------------------------------------------------------------------


def _model(annotation) -> type[BaseModel] | None:
    """The settings model a field holds (directly, or as the items of a list), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        return _model(item)
    return None


def config_keys(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[str]:
    """``cluster.head.emails``, ``districts.code``, ``schedule.weekly-report``…: every key a config file
    may hold (fields excluded from the model, such as passwords, cannot be written in the file)."""
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        key = prefix + (field.alias or name)
        sub = _model(field.annotation)
        if sub is None:
            yield key
        else:
            yield from config_keys(sub, key + ".")


def test_every_config_key_is_in_the_config_page():
    keys = list(config_keys())
    assert {"cluster.head.emails", "districts.code", "schedule.weekly-report", "mail.ca_file"} <= set(keys)
    text = page("config.md")
    assert [key for key in keys if f"`{key}`" not in text] == []


def test_every_environment_variable_the_code_reads_is_in_the_config_page():
    found = set()
    for folder in ("tracker", "jobs"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(ENV_VAR.findall(path.read_text(encoding="utf-8")))
    assert {"TRACKER_CONFIG", "TRACKER_SMTP_PASSWORD", "TRACKER_READER_HEADROOM"} <= found
    text = page("config.md")
    assert sorted(v for v in found if v not in text) == []


# -- citations ----------------------------------------------------------------------------------------


def test_nothing_cites_the_design_file_that_is_not_in_the_repository():
    citing = [f"{path.relative_to(ROOT)}:{n}" for path in code_files()
              for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
              if THE_DESIGN_FILE.search(line)]
    assert citing == []


def cited_sections(text: str) -> Iterator[tuple[str, int | None]]:
    """(page, section) of every citation in ``text``; section None when the page is cited whole."""
    for m in CITATION.finditer(text):
        numbers: list[int] = []
        for dash, number in SECTION.findall(m.group("sections")):
            if dash and numbers:
                numbers += range(numbers[-1] + 1, int(number))
            numbers.append(int(number))
        if not numbers:
            yield m.group("page"), None
        for number in numbers:
            yield m.group("page"), number


def test_the_citation_parser_reads_lists_and_ranges():
    text = "see docs/a.md, docs/b.md §3, docs/c.md §4, §6 and docs/d.md §2–§4."
    assert list(cited_sections(text)) == [("a.md", None), ("b.md", 3), ("c.md", 4), ("c.md", 6), ("d.md", 2),
                                          ("d.md", 3), ("d.md", 4)]


def test_every_citation_in_the_code_names_an_existing_page_and_section():
    citations = [(path, cited) for path in code_files() if path != Path(__file__).resolve()  # its examples
                 for cited in cited_sections(path.read_text(encoding="utf-8", errors="replace"))]
    assert len(citations) > 30  # the code does cite the docs
    broken = []
    for path, (name, number) in citations:
        where = f"{path.relative_to(ROOT)} → docs/{name}" + (f" §{number}" if number else "")
        if not (DOCS / name).is_file():
            broken.append(where + ": no such page")
        elif number is not None and number not in sections(page(name)):
            broken.append(where + ": no such section")
    assert broken == []


def test_references_between_pages_name_existing_sections():
    broken = []
    for doc in sorted(DOCS.glob("*.md")):
        for m in INNER_REFERENCE.finditer(doc.read_text(encoding="utf-8")):
            target = DOCS / m.group("page")
            if m.group("target") != m.group("page") or not target.is_file():
                broken.append(f"{doc.name}: {m.group(0)}")
            elif int(m.group("section")) not in sections(target.read_text(encoding="utf-8")):
                broken.append(f"{doc.name}: {m.group(0)}: no such section")
    assert broken == []


@pytest.mark.parametrize("index", ["docs/README.md", "README.md"])
def test_every_page_is_listed_in_the_indexes(index):
    text = (ROOT / index).read_text(encoding="utf-8")
    pages = [p.name for p in sorted(DOCS.glob("*.md")) if p.name != "README.md"]
    assert [name for name in pages if name not in text] == []
