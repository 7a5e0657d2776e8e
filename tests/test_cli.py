"""The command line: start-up cost, exit codes, clean error messages, stdout/stderr split."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

HEAVY = ("pandas", "matplotlib", "openpyxl", "apscheduler", "python_calamine", "sqlalchemy", "alembic", "pydantic")


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys\n"
        "sys.argv = ['tracker', '--help']\n"
        "from tracker.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print('LOADED=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip().splitlines()[-1] == "LOADED="


def test_init_prints_a_summary_and_exits_0(cli):
    result = cli("init")
    assert result.exit_code == 0, result.stderr
    assert "cum-1" in result.stdout and "Đơn vị / districts: 6" in result.stdout


def test_a_bad_config_exits_2_with_one_message_and_no_traceback(cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[cluster]\nid = "cum-1"\n', encoding="utf-8")
    result = cli("init", config=bad)
    assert result.exit_code == 2
    assert "Lỗi cấu hình" in result.stderr and str(bad) in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_an_unknown_command_is_a_usage_error(cli):
    assert cli("no-such-command").exit_code == 2


def test_an_exit_code_raised_inside_a_command_reaches_the_shell(cli, monkeypatch):
    import typer

    from tracker.cli import common

    @common.app.command("fail-for-test", hidden=True)
    def _fail() -> None:
        raise typer.Exit(1)

    try:
        assert cli("fail-for-test").exit_code == 1
    finally:
        common.app.registered_commands[:] = [c for c in common.app.registered_commands
                                             if c.name != "fail-for-test"]


def test_a_mailbox_that_would_read_its_processed_messages_again_stops_pull_with_exit_2(cli, config_path):
    config_path.write_text(config_path.read_text(encoding="utf-8").replace(
        'processed_folder = "Processed"', 'processed_folder = "inbox"'), encoding="utf-8")
    result = cli("pull")
    assert result.exit_code == 2 and result.stdout == ""
    assert "khoá `mailbox.processed_folder`" in result.stderr and "Traceback" not in result.stderr


FORMAT_COMMANDS = {("status",): ["table", "json", "csv"], ("jobs", "list"): ["table", "json"],
                   ("outbox", "list"): ["table", "json"], ("overview",): ["table", "json"],
                   ("period", "list"): ["table", "json"], ("assess",): ["table", "json", "csv"]}


def _commands(command, path=()):
    yield path, command
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from _commands(sub, (*path, name))


def test_every_format_option_shows_its_choices_and_refuses_others_vietnamese_first(cli, config_path):
    import re

    import typer

    from tracker.cli import app

    with_format = {path for path, command in _commands(typer.main.get_command(app))
                   if any("--format" in getattr(p, "opts", ()) for p in command.params)}
    assert with_format == set(FORMAT_COMMANDS)
    for path, choices in FORMAT_COMMANDS.items():
        extra = [str(config_path)] if path == ("overview",) else []  # its configs argument
        shown = re.search(r"--format <([a-z|]+)>", cli(*path, "--help").stdout)
        assert shown is not None and shown.group(1).split("|") == choices, path
        bad = cli(*path, *extra, "--format", "xml")
        listed = ", ".join(choices[:-1]) + " hoặc " + choices[-1]
        assert bad.exit_code == 2 and bad.stdout == "", path
        assert bad.stderr.startswith(f"Định dạng không hợp lệ: 'xml' (chọn {listed}).\nUnknown format 'xml'"), path
