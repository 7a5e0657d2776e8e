"""Commands of the web portal: `tracker web` serves it; `tracker tokens` issues and revokes its links."""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer

from tracker.cli.common import context, err, out

tokens_app = typer.Typer(
    name="tokens",
    help="Đường dẫn riêng vào cổng web (secret links to the web portal): issue, revoke, list.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add this area's commands to `app`."""
    app.command("web")(web)
    app.add_typer(tokens_app)


def web(
    host: Annotated[str, typer.Option("--host", help="Địa chỉ lắng nghe / address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Cổng / TCP port.")] = 8000,
    forwarded_allow_ips: Annotated[str | None, typer.Option(
        "--forwarded-allow-ips",
        help="Địa chỉ reverse proxy được tin khi gửi X-Forwarded-For / proxies trusted for X-Forwarded-* "
             "(default $FORWARDED_ALLOW_IPS, else 127.0.0.1,::1).")] = None,
) -> None:
    """Chạy cổng web cho các đơn vị và Cụm trưởng (serve the web portal).

    Example: tracker web --host 0.0.0.0 --port 8000, then give each district its link from
    `tracker tokens issue HBT`. A port already in use is a usage error (exit code 2).
    """
    from tracker.web.app import create_app
    from tracker.web.logs import uvicorn_log_config
    from tracker.web.server import ServerLimits, bind, build_server

    ctx = context()
    app = create_app(ctx.settings)
    server = build_server(app, ServerLimits(), forwarded_allow_ips=forwarded_allow_ips,
                          log_config=uvicorn_log_config())
    sock = bind(host, port)  # before saying it serves: a port in use is one clear error, not a log line
    err(f"Cổng web của {ctx.settings.cluster.id} tại http://{host}:{port}/ (Ctrl+C để dừng).\n"
        f"Web portal of {ctx.settings.cluster.id} at http://{host}:{port}/ (Ctrl+C to stop).")
    # uvicorn re-raises the Ctrl+C it handled once shut down: stopping that way is success (exit 0).
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])


@tokens_app.command("issue")
def tokens_issue(
    district: Annotated[str | None, typer.Argument(help="Mã đơn vị / district code (e.g. HBT).")] = None,
    head: Annotated[bool, typer.Option("--head", help="Đường dẫn của Cụm trưởng / the cluster head's link.")] = False,
    label: Annotated[str, typer.Option("--label", help="Ghi chú / a note, e.g. who received it.")] = "",
    base_url: Annotated[str, typer.Option(
        "--base-url", help="Địa chỉ cổng web / print a full URL, e.g. https://thidua.example.org (default: "
                           "[web] base_url of the config)")] = "",
) -> None:
    """Cấp một đường dẫn riêng (issue a secret link). Printed once: `/d/<token>` or `/h/<token>`, after
    `--base-url` or, without it, `[web] base_url` of the config.

    Example: tracker tokens issue HBT --label "chị Lan" --base-url https://thidua.example.org
    """
    from tracker.errors import TrackerError
    from tracker.web import tokens

    if head == (district is not None):
        raise TrackerError("Ghi mã một đơn vị (ví dụ: tracker tokens issue HBT) hoặc --head.",
                           "Give one district code (e.g. tracker tokens issue HBT) or --head.")
    ctx = context()
    role = tokens.ROLE_HEAD if head else tokens.ROLE_DISTRICT
    with ctx.session(write=True) as session:
        try:
            token, row = tokens.issue(session, ctx.cluster_id, role=role, district_code=district, label=label)
        except tokens.UnknownDistrict:
            raise _unknown_district(ctx, district) from None
        token_id = row.id
    out((base_url or ctx.settings.web.base_url).rstrip("/") + tokens.link_path(role, token))
    who = "Cụm trưởng / cluster head" if head else district
    err(f"Đã cấp đường dẫn số {token_id} cho {who}. Đường dẫn chỉ hiện một lần: hãy gửi ngay cho người dùng.\n"
        f"Issued link #{token_id} for {who}. It is shown only this once.")


@tokens_app.command("revoke")
def tokens_revoke(
    district: Annotated[str | None, typer.Argument(help="Mã đơn vị: thu hồi mọi đường dẫn của đơn vị.")] = None,
    head: Annotated[bool, typer.Option("--head", help="Thu hồi mọi đường dẫn của Cụm trưởng.")] = False,
    token_id: Annotated[int | None, typer.Option("--id", help="Thu hồi một đường dẫn theo số / one link by id.")]
    = None,
    token: Annotated[str | None, typer.Option("--token", help="Thu hồi theo đường dẫn / by the link or token.")]
    = None,
) -> None:
    """Thu hồi đường dẫn (revoke links): all of a district, all of the head, or one by --id / --token.

    Example: tracker tokens revoke HBT; tracker tokens revoke --id 3
    """
    from tracker.errors import TrackerError
    from tracker.web import tokens

    chosen = sum(x for x in (district is not None, head, token_id is not None, token is not None))
    if chosen != 1:
        raise TrackerError("Chọn đúng một: mã đơn vị, --head, --id hoặc --token.",
                           "Choose exactly one of: a district code, --head, --id or --token.")
    if token is not None:
        token = token.rstrip("/").rsplit("/", 1)[-1]  # a whole link is accepted too
    ctx = context()
    with ctx.session(write=True) as session:
        try:
            ids = tokens.revoke(session, ctx.cluster_id, district_code=district, head=head, token_id=token_id,
                                token=token)
        except tokens.UnknownDistrict:
            raise _unknown_district(ctx, district) from None
    out(f"Đã thu hồi / revoked: {len(ids)}" + (f" (#{', #'.join(map(str, ids))})" if ids else ""))


@tokens_app.command("list")
def tokens_list(
    all_: Annotated[bool, typer.Option("--all", help="Cả đường dẫn đã thu hồi / include revoked links.")] = False,
) -> None:
    """Liệt kê các đường dẫn đã cấp (list issued links; the secret itself is never shown again)."""
    from tracker.text import format_datetime
    from tracker.web import tokens

    ctx = context()
    with ctx.session() as session:
        rows = tokens.list_tokens(session, ctx.cluster_id, include_revoked=all_)
    tz = ctx.settings.tz
    out("#\tVai trò/role\tĐơn vị/district\tCấp lúc/issued\tThu hồi/revoked\tGhi chú/label")
    for r in rows:
        revoked = format_datetime(r.revoked_at.astimezone(tz)) if r.revoked_at else ""
        out(f"{r.id}\t{r.role}\t{r.district_code or ''}\t{format_datetime(r.created_at.astimezone(tz))}\t"
            f"{revoked}\t{r.label}")


def _unknown_district(ctx, code):
    from tracker.errors import TrackerError

    codes = ", ".join(d.code for d in ctx.settings.districts)
    return TrackerError(f"Không có đơn vị {code!r} trong cụm {ctx.cluster_id} (các mã: {codes}).",
                        f"No district {code!r} in cluster {ctx.cluster_id} (codes: {codes}).")
