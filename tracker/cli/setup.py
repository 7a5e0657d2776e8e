"""`tracker init` and `tracker demo`."""

from __future__ import annotations

import typer

from tracker.cli.common import context, err, out


def register(app: typer.Typer) -> None:
    app.command("init", help="Tạo/nâng cấp CSDL và nạp cụm, đơn vị, chỉ tiêu từ cấu hình. "
                             "Create or upgrade the database and load the config. Idempotent.\n\n"
                             "Example: tracker --config config.toml init")(init)
    app.command("demo", help="Chạy toàn bộ chu trình trên dữ liệu mẫu. Run the whole cycle on sample data.")(
        demo)


def init() -> None:
    from tracker.context import init_database

    ctx = context()
    revision, s = init_database(ctx)
    c = ctx.settings.cluster
    out(f"Cơ sở dữ liệu ở phiên bản {revision} / database at revision {revision}")
    out(f"Cụm / cluster: {c.id} — {c.name} ({c.year})")
    out(f"Đơn vị / districts: {len(ctx.settings.districts)} "
        f"(thêm mới / added {len(s.districts_added)}, cập nhật / updated {len(s.districts_updated)})")
    out(f"Chỉ tiêu / indicators: {len(ctx.settings.indicators)} "
        f"(thêm mới / added {len(s.indicators_added)}, cập nhật / updated {len(s.indicators_updated)})")
    out(f"Chỉ tiêu đăng ký từ cấu hình / config targets: {s.targets_registered} đăng ký mới / newly registered, "
        f"{s.targets_unchanged} không đổi / unchanged")
    if not s.changed:
        err("Không có gì thay đổi. / Nothing changed.")


def demo() -> None:
    from jobs.tasks import execute, run_cycle
    from tracker.web.visit import PortalVisit
    from tracker.workflows.demo import run_demo

    code = run_demo(context(), run_cycle, lambda ctx, name: execute(ctx, name, trigger="demo"), PortalVisit,
                    out=out, err=err)
    if code:
        raise typer.Exit(code)
