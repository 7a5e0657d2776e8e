"""The safe reader: untrusted workbook bytes → :class:`~tracker.intake.grid.WorkbookGrid`.

No file can kill, hang or exhaust the calling process: every file is parsed in a separate worker
process (``_worker.py``) with a memory limit (RLIMIT_AS) and a time limit. The worker is started once
and reused, so a batch of hundreds of files pays the start-up only once; after a crash (SIGABRT from a
native library, SIGKILL, running out of its memory) or a timeout it is replaced, and the next file
reads normally. Replies are JSON, never pickle.

    >>> grid = read_workbook(data, "bao-cao.xlsx")   # raises UnreadableWorkbook(code, vi, en)

The format is recognised from the content, never from ``filename``.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path

from tracker.intake import safety
from tracker.intake.grid import Cell, SheetGrid, UnreadableCode, UnreadableWorkbook, WorkbookGrid

READ_TIMEOUT = 15.0  # seconds for one file; a district report takes a few milliseconds
START_TIMEOUT = 60.0  # a fresh worker on a busy machine; the read's own timeout starts after its receipt
ACK = b"\x06"  # the worker's receipt: it has the whole request
MAX_REPLY_BYTES = 64 * 1024 * 1024  # a grid of a district report is a few KB
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class WorkbookReader:
    """A reusable worker process that reads workbooks under limits. Thread-safe; use as a context manager.

    ``timeout`` bounds one file; ``memory_headroom`` is the address space (bytes) the worker may use on
    top of its start-up size.
    """

    def __init__(self, *, timeout: float = READ_TIMEOUT, memory_headroom: int | None = None):
        self.timeout = timeout
        self.memory_headroom = memory_headroom
        self._proc: subprocess.Popen | None = None
        self._owner_pid = 0
        self._lock = threading.Lock()
        self._received = bytearray()  # bytes read from the worker and not yet consumed
        self._poller: tuple[int, select.poll] | None = None  # (descriptor, poller) of the worker's output
        self.workers_started = 0  # for tests and the benchmark

    # -- public -------------------------------------------------------------------------------

    def read(self, data: bytes, filename: str = "", *, sheet: str | None = None,
             max_rows: int | None = None) -> WorkbookGrid:
        """Read one workbook; raises :class:`UnreadableWorkbook`. ``filename`` is informative only; with
        ``sheet`` an .xlsx is read only for the sheet :func:`~tracker.intake.grid.pick_sheet` chooses for
        it (see :func:`tracker.intake._worker.parse_workbook`). ``max_rows``: rows read per sheet, from
        :data:`~tracker.intake.grid.MAX_ROWS` (the default) up to :data:`~tracker.intake.grid.MAX_ROWS_LIMIT`."""
        return self.submit(data, filename, sheet=sheet, max_rows=max_rows).result()

    def submit(self, data: bytes, filename: str = "", *, sheet: str | None = None,
               max_rows: int | None = None) -> PendingRead:
        """Hand one workbook to the worker and return at once; :meth:`PendingRead.result` gives its grid.

        The worker reads while the caller does something else (a batch stores the previous file). One
        read is in flight at a time: until its result is taken (or it is discarded), other reads of this
        reader wait. Raises :class:`UnreadableWorkbook` at once for a file that is never sent (empty, too
        large) or when no worker can be started.
        """
        safety.check_size(data)  # empty or too large: never shipped to the worker
        request = {"filename": filename, "sheet": sheet}
        if max_rows is not None:
            request["max_rows"] = max_rows
        head = json.dumps(request).encode()
        message = len(head).to_bytes(4, "big") + len(data).to_bytes(4, "big") + head + bytes(data)
        self._lock.acquire()
        try:
            started = self.workers_started
            proc = self._send(message)  # not waiting for the receipt: result() takes it
        except BaseException:
            self._lock.release()
            raise
        return PendingRead(self, proc, message, fresh=self.workers_started != started)

    def start(self) -> None:
        """Start the worker now (otherwise it starts with the first file)."""
        with self._lock:
            self._ensure()

    def close(self) -> None:
        """Stop the worker. The reader can still be used: the next read starts a new one."""
        with self._lock:
            self._stop()

    def __enter__(self) -> WorkbookReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def worker_pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    # -- worker management ----------------------------------------------------------------------

    def _ensure(self) -> subprocess.Popen:
        if self._proc is not None and self._owner_pid != os.getpid():
            self._proc = None  # inherited through fork: that worker belongs to the parent process
        if self._proc is not None and self._proc.poll() is not None:
            self._stop(kill=True)  # died since the last file: reap it and close its pipes
        if self._proc is None:
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH", "")) if p)
            env.setdefault("OPENBLAS_NUM_THREADS", "1")  # numpy (via openpyxl) must fit the memory limit
            if self.memory_headroom is not None:
                env["TRACKER_READER_HEADROOM"] = str(int(self.memory_headroom))
            debug = bool(os.environ.get("TRACKER_READER_DEBUG"))
            self._proc = subprocess.Popen(
                [sys.executable, "-c", "from tracker.intake._worker import main; main()"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=None if debug else subprocess.DEVNULL,  # native panics print there
                env=env,
                close_fds=True,
            )
            self._owner_pid = os.getpid()
            self.workers_started += 1
        return self._proc

    def _stop(self, kill: bool = False) -> int | None:
        proc, self._proc = self._proc, None
        self._received.clear()
        self._poller = None
        if proc is None or self._owner_pid != os.getpid():
            return None
        try:
            if kill:
                proc.kill()
            else:
                proc.stdin.close()  # the worker exits at end of input
        except OSError:
            pass
        try:
            return proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()
        finally:
            for stream in (proc.stdin, proc.stdout):
                with contextlib.suppress(OSError):
                    stream.close()

    def _request(self, header: dict, payload: bytes, timeout: float | None = None) -> dict:
        """Send one request and wait for its reply (the debug hooks; files go through :meth:`submit`)."""
        head = json.dumps(header).encode()
        message = len(head).to_bytes(4, "big") + len(payload).to_bytes(4, "big") + head + payload
        limit = self.timeout if timeout is None else timeout
        with self._lock:
            proc = self._deliver(message)
            return self._reply(proc, time.monotonic() + limit, limit)

    def _reply(self, proc: subprocess.Popen, deadline: float, limit: float) -> dict:
        """The worker's reply to the request it has acknowledged (called with the lock held)."""
        try:
            size = int.from_bytes(self._receive(proc, 4, deadline), "big")
            if size > MAX_REPLY_BYTES:  # cells repeating a huge text: refuse rather than hold it
                self._stop(kill=True)
                raise safety.unreadable(UnreadableCode.too_many_cells, f"{size // 1_000_000} MB")
            reply = json.loads(self._receive(proc, size, deadline))
        except TimeoutError:
            self._stop(kill=True)
            raise safety.unreadable(UnreadableCode.timeout, f"{limit:g}".replace(".", ","), f"{limit:g}") from None
        except EOFError:
            status = self._stop(kill=True)
            raise _crashed(status) from None
        if reply.get("restart"):
            self._stop()
        if not reply.get("ok") and reply.get("code") == UnreadableCode.crashed:
            if reply.get("detail"):  # a native library panicked
                raise safety.unreadable(UnreadableCode.crashed, str(reply["detail"]))
            raise safety.unreadable(UnreadableCode.crashed, "vượt giới hạn bộ nhớ", "memory limit reached")
        return reply

    def _send(self, message: bytes) -> subprocess.Popen:
        """Write one request to a live worker (a worker found dead is replaced once)."""
        for _ in range(2):
            proc = self._ensure()
            try:
                proc.stdin.write(message)
                proc.stdin.flush()
                return proc
            except OSError:
                self._stop(kill=True)
        raise _not_started()

    def _acknowledged(self, proc: subprocess.Popen, message: bytes) -> subprocess.Popen:
        """Wait for the worker's receipt of ``message``, which was written to ``proc``.

        A worker that died before taking the request (killed while idle, or a failed start) is replaced
        and the request sent once more: only a death after the receipt is blamed on the file.
        """
        for attempt in range(2):
            try:
                if self._receive(proc, 1, time.monotonic() + START_TIMEOUT) == ACK:
                    return proc
            except (OSError, EOFError, TimeoutError):
                pass
            self._stop(kill=True)
            if attempt == 0:
                proc = self._send(message)
        raise _not_started()

    def _deliver(self, message: bytes) -> subprocess.Popen:
        """Hand one request to a live worker and wait for its receipt."""
        return self._acknowledged(self._send(message), message)

    def _receive(self, proc: subprocess.Popen, n: int, deadline: float) -> bytes:
        """Exactly ``n`` bytes from the worker; TimeoutError past ``deadline``, EOFError if it died.

        Reads whatever the worker has written (its receipt and reply often come in one read) and keeps
        the rest for the next call: one system call per reply instead of one per field."""
        buf = self._received
        if len(buf) < n:
            fd = proc.stdout.fileno()
            if self._poller is None or self._poller[0] != fd:
                poller = select.poll()  # not select(): it fails on descriptors above 1024 (busy servers)
                poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
                self._poller = (fd, poller)
            poller = self._poller[1]
            while len(buf) < n:
                left = deadline - time.monotonic()
                if not poller.poll(max(0, int(left * 1000))):  # a reply already there counts, even late
                    raise TimeoutError
                chunk = os.read(fd, min(max(n - len(buf), 1 << 16), 1 << 20))  # at most 1 MiB a read
                if not chunk:
                    raise EOFError
                buf += chunk
        out = bytes(buf[:n])
        del buf[:n]
        return out

    # -- test hooks ----------------------------------------------------------------------------

    def _debug(self, action: str, timeout: float | None = None, **fields: object) -> dict:
        """Make the worker misbehave on purpose (``abort``, ``sleep``, ``memory``): for tests only. A worker
        obeys only inside a test run with ``TRACKER_READER_TEST_HOOKS=1`` (:func:`._worker.hooks_allowed`);
        any other worker reads the empty request as an empty file."""
        return self._request({"debug": action, **fields}, b"", timeout)


class PendingRead:
    """A workbook the worker is reading (from :meth:`WorkbookReader.submit`). Take its :meth:`result` once,
    or :meth:`discard` it; until then the reader serves no other read."""

    def __init__(self, reader: WorkbookReader, proc: subprocess.Popen, message: bytes, *, fresh: bool):
        self._reader = reader
        self._proc = proc
        self._message = message  # sent again if the worker turns out to have died before taking it
        self._fresh = fresh  # a worker was started for this request: its start-up is not the file's time
        self._submitted = time.monotonic()
        self._done = False

    def result(self) -> WorkbookGrid:
        """The grid, or :class:`UnreadableWorkbook`. The file's time limit counts from its submission
        (from the worker's receipt when a worker had to start for it)."""
        reader = self._reader
        self._finish()
        try:
            proc = reader._acknowledged(self._proc, self._message)
            now = time.monotonic()
            # A reply that is still arriving when a late caller comes is given a moment to finish.
            deadline = now + reader.timeout if self._fresh else max(self._submitted + reader.timeout, now + 0.5)
            reply = reader._reply(proc, deadline, reader.timeout)
        except UnreadableWorkbook:
            raise
        except BaseException:  # the pipe failed under us: the worker's state is unknown, start afresh
            reader._stop(kill=True)
            raise
        finally:
            self._message = b""
            reader._lock.release()
        try:
            return _decode(reply)
        except UnreadableWorkbook:
            raise
        except (KeyError, TypeError, ValueError) as exc:  # a worker that answers nonsense is not trusted
            reader.close()
            raise safety.unreadable(UnreadableCode.crashed, f"trả lời không hợp lệ: {exc}",
                                    f"invalid reply: {exc}") from None

    def discard(self) -> None:
        """Give up on this read (a batch that stops early): the worker is replaced, the reader freed."""
        if self._done:
            return
        self._finish()
        try:
            self._reader._stop(kill=True)
        finally:
            self._reader._lock.release()

    def _finish(self) -> None:
        if self._done:
            raise RuntimeError("this read was already collected")
        self._done = True


def _not_started() -> UnreadableWorkbook:
    return safety.unreadable(UnreadableCode.crashed, "không khởi động được tiến trình đọc",
                             "the reader process did not start")


def _crashed(status: int | None) -> UnreadableWorkbook:
    if status is not None and status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        return safety.unreadable(UnreadableCode.crashed, f"tiến trình đọc bị dừng bởi {name}",
                                 f"the reader process died of {name}")
    return safety.unreadable(
        UnreadableCode.crashed, f"tiến trình đọc thoát với mã {status}", f"the reader process exited ({status})"
    )


def _decode_value(value: object):
    if isinstance(value, list) and len(value) == 2:
        kind, text = value
        if kind == "d":
            return date.fromisoformat(text)
        if kind == "dt":
            return datetime.fromisoformat(text)
        if kind == "t":
            return dtime.fromisoformat(text)
        raise ValueError(f"unknown value tag {kind!r}")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ValueError(f"unexpected value {type(value).__name__}")


def _decode(reply: dict) -> WorkbookGrid:
    if not reply.get("ok"):
        raise UnreadableWorkbook(UnreadableCode(reply["code"]), str(reply["vi"]), str(reply["en"]))
    sheets: dict[str, SheetGrid] = {}
    for s in reply["sheets"]:
        grid = SheetGrid(
            name=str(s["name"]),
            merged=[(int(a), int(b), int(c), int(d)) for a, b, c, d in s["merged"]],
            hidden_rows={int(r) for r in s["hidden_rows"]},
            hidden=bool(s["hidden"]),
            truncated=bool(s["truncated"]),
        )
        for row, col, value, formula, error in s["cells"]:
            cell = Cell(int(row), int(col), _decode_value(value), formula, error)
            grid.cells[(cell.row, cell.col)] = cell
        sheets[grid.name] = grid
    return WorkbookGrid(format=str(reply["format"]), sheet_names=[str(n) for n in reply["sheet_names"]], sheets=sheets)


# -- the shared reader -----------------------------------------------------------------------------

_default: WorkbookReader | None = None
_default_lock = threading.Lock()


def default_reader() -> WorkbookReader:
    """The process-wide reader behind :func:`read_workbook` (started on first use, stopped at exit)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = WorkbookReader()
        return _default


def read_workbook(data: bytes, filename: str = "") -> WorkbookGrid:
    """Read untrusted workbook bytes (.xlsx, .xlsm, .xls, .ods, recognised by content) safely.

    Raises :class:`UnreadableWorkbook` whose ``code`` (an :class:`~tracker.intake.grid.UnreadableCode`) says why.
    """
    return default_reader().read(data, filename)


def close_reader() -> None:
    """Stop the shared worker process (registered at exit; tests and the CLI may call it earlier)."""
    global _default
    with _default_lock:
        reader, _default = _default, None
    if reader is not None:
        reader.close()


atexit.register(close_reader)
