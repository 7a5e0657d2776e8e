"""Shared CLI pieces: the app, the global options, the context and output helpers.

stdout carries only a command's result; logs and progress go to stderr.
"""

from __future__ import annotations

import enum
import logging
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from tracker.context import Context

app = typer.Typer(
    name="tracker",
    help="Theo dõi tiến độ Cụm thi đua (Cluster tracker): chỉ tiêu, báo cáo tuần, sơ kết.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@dataclass
class State:
    config: Path | None = None
    debug: bool = False
    _context: Context | None = None


state = State()


@app.callback()
def _global(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", envvar="TRACKER_CONFIG",
                     help="Tệp cấu hình / config file (default ./config.toml)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
) -> None:
    state.config, state.debug, state._context = config, debug, None
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    if not debug:
        logging.getLogger("alembic").setLevel(logging.WARNING)


def context() -> Context:
    """The settings and database of the selected config, loaded once per command."""
    if state._context is None:
        from tracker.context import open_context

        state._context = open_context(state.config)
    return state._context


def ready() -> Context:
    """The context, after checking that `tracker init` has been run."""
    from tracker.context import require_initialised

    return require_initialised(context())


def unit_code(ctx: Context, text: str) -> str:
    """The code of the unit ``text`` names (a code or a name, as the sheets match them); exit 2 naming the codes
    there are when it names none."""
    from tracker.errors import TrackerError
    from tracker.intake.matching import Names

    code = Names.of(ctx.settings).district(text)
    if code is None:
        codes = ", ".join(d.code for d in ctx.settings.districts)
        raise TrackerError(f"Không có đơn vị {text!r} trong cụm (các mã: {codes}).",
                           f"No unit {text!r} in this cluster (codes: {codes}).")
    return code


def write_file(path: Path, data: bytes) -> None:
    """Write a file a command makes (a template, a workbook); a disk or permission problem is one message."""
    from tracker.errors import TrackerError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise TrackerError(f"Không ghi được tệp {path}: {exc.strerror}", f"Cannot write {path}: {exc.strerror}"
                           ) from None


def out(text: str = "") -> None:
    """The command's result, on stdout."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def show_rich(render, *, width: int) -> None:
    """Run ``render(console)`` (a function that prints with rich) to stdout: in colour on a terminal;
    to a file or a pipe as plain text ``width`` columns wide (room for the table), without trailing blanks."""
    import io

    from rich.console import Console

    if sys.stdout.isatty():
        render(Console(file=sys.stdout, highlight=False))
        return
    buffer = io.StringIO()
    render(Console(file=buffer, highlight=False, width=width, color_system=None))
    sys.stdout.write("\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n")
    sys.stdout.flush()


def err(text: str) -> None:
    """Messages for the person at the terminal, on stderr."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def parse_as_of(value: str | None) -> date | None:
    """``--as-of``: ``dd/mm/yyyy`` or ``yyyy-mm-dd``."""
    if value is None:
        return None
    from tracker.errors import TrackerError
    from tracker.text import parse_date

    parsed = parse_date(value)
    if parsed is None:
        raise TrackerError(f"Ngày không hợp lệ: {value!r} (viết dd/mm/yyyy hoặc yyyy-mm-dd).",
                           f"Invalid date {value!r} (write dd/mm/yyyy or yyyy-mm-dd).")
    return parsed


AsOf = Annotated[str | None, typer.Option("--as-of", help="Ngày số liệu / as-of date (dd/mm/yyyy).")]


class Format(enum.StrEnum):
    """What a listing command prints: a table for people, or JSON for programs."""

    table = "table"
    json = "json"


class StatusFormat(enum.StrEnum):
    """What `tracker status` prints: also CSV, for a spreadsheet."""

    table = "table"
    json = "json"
    csv = "csv"


def _one_of(words: list[str], conjunction: str) -> str:
    """``table, json hoặc csv``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def format_option(formats: type[enum.StrEnum]):
    """``--format/-f`` taking a member of ``formats``, its choices shown in the help.

    A value outside them is a usage error (exit 2) in the project's words, Vietnamese first, rather than
    typer's English one: typer hands every value, the default included, to this parser.
    """

    def parse(value):
        if isinstance(value, formats):
            return value
        try:
            return formats(value)
        except ValueError:
            from tracker.errors import TrackerError

            words = [f.value for f in formats]
            raise TrackerError(f"Định dạng không hợp lệ: {value!r} (chọn {_one_of(words, 'hoặc')}).",
                               f"Unknown format {value!r} (choose {_one_of(words, 'or')}).", exit_code=2) from None

    # The choices spelt out, not left to typer (whose older releases show the parser's name).
    metavar = "<" + "|".join(f.value for f in formats) + ">"
    return typer.Option("--format", "-f", parser=parse, metavar=metavar, help="Định dạng kết quả / output format.")


FormatOption = Annotated[Format, format_option(Format)]
StatusFormatOption = Annotated[StatusFormat, format_option(StatusFormat)]
