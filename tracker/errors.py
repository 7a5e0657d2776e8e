"""Errors a user can act on. The CLI prints them as one message (Vietnamese, then English)."""

from __future__ import annotations

from pathlib import Path


class TrackerError(Exception):
    """A problem the user can fix; ``exit_code`` follows docs/commands.md §1 (1 input rejected, 2 usage/config)."""

    exit_code = 2

    def __init__(self, vi: str, en: str, exit_code: int | None = None):
        self.vi, self.en = vi, en
        if exit_code is not None:
            self.exit_code = exit_code
        super().__init__(f"{vi}\n{en}")


class NotInitialised(TrackerError):
    """The cluster is not in the database: ``tracker init`` has not loaded it yet (exit code 2)."""

    def __init__(self, cluster_id: str):
        super().__init__(f"Cụm {cluster_id} chưa có trong cơ sở dữ liệu: chạy `tracker init` trước.",
                         f"Cluster {cluster_id} is not in the database yet: run `tracker init` first.")


class ConfigError(Exception):
    """A configuration problem; ``str()`` is the one message shown to the administrator (exit code 2).

    ``env``: the environment variable that set ``key`` (it is named instead, since the file is not at fault).
    """

    exit_code = 2

    def __init__(self, path: Path | str, key: str, vi: str, en: str, *, env: str | None = None):
        self.path, self.key, self.vi, self.en, self.env = Path(path), key, vi, en, env
        if env:
            super().__init__(
                f"Lỗi cấu hình trong biến môi trường `{env}` (thay cho khoá `{key}` của tệp {path}): {vi}\n"
                f"Configuration error in the environment variable `{env}` (it overrides key `{key}` of {path}): {en}"
            )
        else:
            super().__init__(
                f"Lỗi cấu hình trong tệp {path}, khoá `{key}`: {vi}\n"
                f"Configuration error in {path}, key `{key}`: {en}"
            )
