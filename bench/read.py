"""Benchmark: reading district sheets through the safe reader vs python-calamine alone, in-process.

Generates N small district reports in memory (openpyxl: a title, two labels, a 5-row table, as
docs/sheet-format.md §5), then times
- safe:      ``WorkbookReader.read`` (worker process with limits; includes the pipe round trip and
             decoding the grid in the parent), worker already started;
- own, in-process: the worker's parser called directly (what the safe path costs without IPC);
- calamine:  ``CalamineWorkbook.from_filelike`` + ``to_python`` of the report sheet, in-process and
             unprotected (values only: no formulas, no error values, no hidden rows);
and the same for the LibreOffice fixtures (.ods, .xls, .xlsx). Prints wall-clock ms per sheet (best of
``--repeat``), the marginal cost (time for N − time for N/10) / (N − N/10), and CPU ms per sheet (this
process + the worker, which does not depend on other load on the machine). Also the worker's cold start.

    .venv/bin/python bench/read.py [-n 300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INDICATORS = [
    ("new_unions", "Thành lập CĐCS mới", "CĐCS"),
    ("agreements", "Thỏa ước lao động tập thể ký mới", "bản"),
    ("congresses", "Đại hội CĐCS hoàn thành", "cuộc"),
    ("new_members", "Phát triển đoàn viên mới", "người"),
    ("union_fees", "Thu kinh phí công đoàn", "triệu đồng"),
]
DISTRICTS = ["HBT", "HM", "BD", "LB", "HK", "DD"]


def district_sheet(i: int) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Báo cáo"
    ws["A1"] = "BÁO CÁO KẾT QUẢ THI ĐUA"
    ws.merge_cells("A1:G1")
    ws["A3"], ws["B3"] = "Đơn vị", DISTRICTS[i % len(DISTRICTS)]
    ws["A4"], ws["B4"] = "Số liệu tính đến ngày", date(2023, 1, 6) + timedelta(days=7 * (i // len(DISTRICTS) % 26))
    ws["B4"].number_format = "dd/mm/yyyy"
    ws.append([])
    ws.append(["Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Chỉ tiêu đăng ký", "Luỹ kế từ đầu năm", "Thực hiện trong kỳ"])
    for k, (key, label, unit) in enumerate(INDICATORS):
        ws.append([key, label, unit, 30 + k, (i * 7 + k) % 40, k])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def worker_cpu_s(pid: int | None) -> float:
    """CPU seconds the worker process has used so far (user + system, from /proc)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_ms(fn, files: list[bytes], pid: int | None = None) -> float:
    """CPU time per file of this process plus the worker's: independent of other load on the machine."""
    start, start_worker = time.process_time(), worker_cpu_s(pid)
    for data in files:
        fn(data)
    return (time.process_time() - start + worker_cpu_s(pid) - start_worker) / len(files) * 1000


def per_sheet_ms(fn, files: list[bytes], repeat: int) -> float:
    """Best of ``repeat`` runs, in ms per file."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for data in files:
            fn(data)
        best = min(best, time.perf_counter() - start)
    return best / len(files) * 1000


def marginal_ms(fn, files: list[bytes], repeat: int) -> float:
    small = files[: max(1, len(files) // 10)]
    t_all = per_sheet_ms(fn, files, repeat) * len(files)
    t_small = per_sheet_ms(fn, small, repeat) * len(small)
    return (t_all - t_small) / (len(files) - len(small))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="number of generated sheets (default 300)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement, best kept (default 3)")
    args = parser.parse_args()

    import python_calamine as pc

    from tracker.intake._worker import parse_workbook
    from tracker.intake.reader import WorkbookReader

    t0 = time.perf_counter()
    files = [district_sheet(i) for i in range(args.n)]
    print(f"generated {args.n} district sheets in {time.perf_counter() - t0:.1f} s "
          f"({statistics.mean(map(len, files)) / 1024:.1f} KB each)", file=sys.stderr)  # fmt: skip

    def calamine(data: bytes) -> None:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        wb.get_sheet_by_name("Báo cáo").to_python()

    with WorkbookReader() as reader:
        t0 = time.perf_counter()
        reader.start()
        reader.read(files[0])
        cold = (time.perf_counter() - t0) * 1000
        results = {
            "safe (worker + IPC)": (
                per_sheet_ms(reader.read, files, args.repeat),
                marginal_ms(reader.read, files, 2),
                cpu_ms(reader.read, files, reader.worker_pid),
            ),
            "own parser in-process": (
                per_sheet_ms(parse_workbook, files, args.repeat),
                None,
                cpu_ms(parse_workbook, files),
            ),
            "calamine alone in-process": (per_sheet_ms(calamine, files, args.repeat), None, cpu_ms(calamine, files)),
        }
        fixtures = {}
        for suffix in ("ods", "xls", "xlsx"):
            data = (ROOT / "tests" / "fixtures" / f"bao-cao-HBT-2023-06-30.{suffix}").read_bytes()
            batch = [data] * 100
            fixtures[suffix] = (
                per_sheet_ms(reader.read, batch, args.repeat),
                per_sheet_ms(calamine, batch, args.repeat),
            )

    print(f"sheets: {args.n} generated .xlsx district reports; worker cold start + first read: {cold:.0f} ms")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times grow with it; CPU times do not)")
    width = max(map(len, results))
    for name, (ms, marginal, cpu) in results.items():
        extra = f"   marginal {marginal:.2f} ms/sheet" if marginal is not None else ""
        print(f"  {name:<{width}}  {ms:6.2f} ms/sheet wall ({1000 / ms:5.0f} sheets/s), {cpu:5.2f} ms CPU{extra}")
    safe, calamine_ms = results["safe (worker + IPC)"][0], results["calamine alone in-process"][0]
    print(f"  ratio safe / calamine alone: {safe / calamine_ms:.2f}")
    print("LibreOffice fixtures (100 reads each): safe vs calamine alone")
    for suffix, (ms, cal) in fixtures.items():
        print(f"  .{suffix:<5} {ms:6.2f} ms/sheet   calamine {cal:6.2f} ms/sheet")


if __name__ == "__main__":
    main()
