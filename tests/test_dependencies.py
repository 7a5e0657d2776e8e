"""Reproducible installs (docs/dependencies.md): the environment the suite runs in is exactly
requirements.lock, the lock pins every package with hashes, pyproject.toml's ranges admit it, and a
deprecation charged to our own code fails the test that met it."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
import tomllib
import warnings
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
PROJECT = "cluster-tracker"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def _lock_entries() -> dict[str, tuple[str, list[str]]]:
    """Each locked package: its version and the sha256 hashes that follow its line."""
    entries: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        pin = _PIN.match(line)
        if pin:
            current = canonicalize_name(pin.group(1))
            assert current not in entries, f"{current} is locked twice"
            entries[current] = (pin.group(2), [])
        elif stripped.startswith("--hash=") and current:
            entries[current][1].append(stripped.removeprefix("--hash=").rstrip(" \\"))
        elif stripped and not stripped.startswith("#"):
            raise AssertionError(f"requirements.lock holds a line that is not a pin or a hash: {line!r}")
    return entries


def _installed() -> dict[str, str]:
    """Every distribution on sys.path but the project (whose build leaves a second record in the checkout)."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        if name == PROJECT:
            continue
        assert name not in found, f"{name} is installed twice ({found[name]} and {dist.version})"
        found[name] = dist.version
    return found


@functools.cache
def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _pyproject_requirements() -> list[Requirement]:
    project = _pyproject()["project"]
    listed = list(project["dependencies"])
    for extra in ("test", "dev"):
        listed += project["optional-dependencies"][extra]
    return [Requirement(text) for text in listed]


def test_the_environment_holds_exactly_the_locked_versions():
    """What `pip freeze --all` would list is the lock, neither more nor other versions (beside the project itself)."""
    locked = {name: Version(version) for name, (version, _) in _lock_entries().items()}
    installed = {name: Version(version) for name, version in _installed().items()}
    assert installed == locked, (
        "the environment is not requirements.lock; `make test` installs it from the lock\n"
        f"not locked: {sorted(set(installed) - set(locked))}\nmissing: {sorted(set(locked) - set(installed))}\n"
        f"other versions: {sorted(n for n in set(locked) & set(installed) if locked[n] != installed[n])}")


def test_every_locked_package_is_pinned_with_sha256_hashes():
    entries = _lock_entries()
    assert len(entries) > 50
    for name, (version, hashes) in entries.items():
        Version(version)  # an exact release, not a range
        assert hashes, f"{name}=={version} has no hash"
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), (name, hashes)
    # The installer itself and the build backend of `pip install -e .` are locked too.
    assert {"pip", "setuptools", "pip-tools"} <= set(entries)


def test_pyproject_ranges_admit_the_locked_versions():
    entries = _lock_entries()
    for requirement in _pyproject_requirements():
        name = canonicalize_name(requirement.name)
        assert name in entries, f"{requirement} is not in requirements.lock: run `make lock`"
        version = entries[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock has {name}=={version}, which pyproject.toml's {requirement} refuses: run `make lock`")


def test_the_extras_pyproject_asks_of_a_dependency_are_locked():
    """`psycopg[binary]` needs psycopg-binary: `pip check` looks at no extras, so this test does."""
    entries = _lock_entries()
    asked = [r for r in _pyproject_requirements() if r.extras]
    assert any(canonicalize_name(r.name) == "psycopg" and "binary" in r.extras for r in asked)
    for requirement in asked:
        for text in metadata.requires(requirement.name) or []:
            needed = Requirement(text)
            if needed.marker is None or not any(needed.marker.evaluate({"extra": extra})
                                                for extra in requirement.extras):
                continue
            name = canonicalize_name(needed.name)
            assert name in entries, f"{requirement} needs {needed}, which is not in requirements.lock: run `make lock`"
            locked = entries[name][0]
            assert needed.specifier.contains(locked, prereleases=True), (requirement, needed, locked)


def test_ranges_stop_before_releases_known_to_break_us():
    """APScheduler 4 is a rewrite with another API (docs/dependencies.md)."""
    by_name = {canonicalize_name(r.name): r for r in _pyproject_requirements()}
    assert not by_name["apscheduler"].specifier.contains("4.0.0")
    assert by_name["apscheduler"].specifier.contains("3.11.0")


def test_pip_check_finds_every_requirement_met():
    done = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def _suite_filters() -> list[str]:
    return _pyproject()["tool"]["pytest"]["ini_options"]["filterwarnings"]


@pytest.mark.parametrize(("module", "ours"), [
    ("tracker", True), ("tracker.intake.grid", True), ("jobs.scheduler", True), ("bench.generate", True),
    ("conftest", True), ("test_reader", True), ("smtp_server", True), ("imap_server", True),
    ("intake_factory", True), ("mail_factories", True),
    ("env_py", True), ("0001_initial_tables_py", True), ("0004_assessment_scores_py", True),
    ("trackerish", False), ("jobsite", False), ("benchmark.x", False), ("conftest_plugin", False),
    ("starlette.testclient", False), ("pandas.core.frame", False), ("openpyxl.reader.excel", False),
])
def test_the_suite_charges_a_deprecation_to_the_modules_it_should(module, ours):
    """Each filter as pytest reads it from the ini, applied the way Python applies it (module regex, match)."""
    from _pytest.config import parse_warning_filter  # how pytest turns an ini line into a filter

    with warnings.catch_warnings():
        warnings.resetwarnings()
        warnings.simplefilter("ignore")
        for line in _suite_filters():
            warnings.filterwarnings(*parse_warning_filter(line, escape=False))
        for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
            try:
                warnings.warn_explicit("old", category, "x.py", 1, module=module)
                raised = False
            except category:
                raised = True
            assert raised is ours, (module, category.__name__)


def test_a_deprecation_charged_to_our_code_fails_the_test(pytester):
    """The suite's own warning filters, run on three small tests: ours fail, a library's stays a warning."""
    filters = "".join(f"\n    {line}" for line in _suite_filters())
    pytester.makeini(f"[pytest]\nfilterwarnings ={filters}\n")
    pytester.makepyfile(somelib="""
        import warnings
        def old():
            warnings.warn("old() is going away", DeprecationWarning, stacklevel=1)
        def old_for_callers():
            warnings.warn("pass a keyword", FutureWarning, stacklevel=2)
    """)
    pytester.makepyfile(test_probe="""
        import warnings
        import somelib
        def test_own_deprecation():
            warnings.warn("ours", DeprecationWarning)
        def test_library_charges_us():
            somelib.old_for_callers()
        def test_library_internal():
            somelib.old()
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2, passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*FAILED test_probe.py::test_own_deprecation*",
                                 "*FAILED test_probe.py::test_library_charges_us*"])
