"""`tracker demo` / `make demo`: the whole cycle on the embedded sample data.

Each capability adds its step here; the demo always runs everything built so far.
"""

from __future__ import annotations

from tracker.cli.common import out
from tracker.context import Context, init_database


def run_demo(ctx: Context) -> None:
    revision, summary = init_database(ctx)
    s = ctx.settings
    out(f"[1] Cơ sở dữ liệu / database: {s.database.url} (revision {revision})")
    out(f"    Cụm / cluster {s.cluster.id}: {s.cluster.name}, năm / year {s.cluster.year}")
    out(f"    {len(s.districts)} đơn vị / districts: " + ", ".join(f"{d.code} ({d.name})" for d in s.districts))
    out(f"    {len(s.indicators)} chỉ tiêu / indicators: " + ", ".join(i.key for i in s.indicators))
    out(f"    chỉ tiêu đăng ký mới / targets registered now: {summary.targets_registered}, "
        f"không đổi / unchanged: {summary.targets_unchanged}")
