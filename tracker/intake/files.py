"""Where received files are kept: accepted bytes in the archive, rejected ones in quarantine.

Names are derived from the content hash, so storing the same bytes twice writes the same file and two
different files never collide. Writes are atomic (a temporary file, then a rename).
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import date
from pathlib import Path

from tracker.text import nfc

_UNSAFE = re.compile(r"[\\/:*?\"<>|\x00-\x1f\x7f]+")


def safe_name(filename: str, default: str = "bao-cao.xlsx") -> str:
    """The last part of an uploaded file's name, without anything a file system chokes on.

    Vietnamese letters are kept; path separators, control characters and leading dots are not.
    """
    name = nfc(str(filename or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("-", name)
    name = re.sub(r"\s+", " ", name).strip(" .-")
    if not name:
        return default
    if len(name) > 100:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 100 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 6 else name[:100]
    return name


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def archive_path(archive: Path, district: str, as_of: date, file_hash: str, filename: str) -> Path:
    """``archive/HBT/2023-06-30_1a2b3c4d5e6f_bao-cao.xlsx``."""
    return archive / district / f"{as_of.isoformat()}_{file_hash[:12]}_{safe_name(filename)}"


def quarantine_dir(quarantine: Path, received: date, file_hash: str, filename: str) -> Path:
    """``quarantine/2023-06-30_1a2b3c4d5e6f_bao-cao/``: the original, the error report, the annotated copy."""
    stem = safe_name(filename).rsplit(".", 1)[0][:60] or "tep"
    return quarantine / f"{received.isoformat()}_{file_hash[:12]}_{stem}"
