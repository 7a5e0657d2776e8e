"""The portal application: ``create_app(settings)`` → a FastAPI app serving one cluster.

Server-rendered pages (Jinja2, Vietnamese), no JavaScript. Access is by secret link only (see
:mod:`tracker.web.tokens`); forms are protected as :mod:`tracker.web.security` explains; request
bodies are capped (:mod:`tracker.web.limits`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from tracker.config import Settings
from tracker.context import open_context, require_initialised
from tracker.intake.safety import MAX_FILE_BYTES
from tracker.progress import reporting_label, status_label
from tracker.text import format_date, format_datetime, format_number, format_percent
from tracker.web import district, head, security
from tracker.web.limits import FORM_OVERHEAD, BodySizeLimit
from tracker.web.portal import Portal
from tracker.web.views import status_css as status_stylesheet

HERE = Path(__file__).resolve().parent

ERROR_TEXT: dict[int, tuple[str, str]] = {
    400: ("Yêu cầu không hợp lệ", "Bad request"),
    403: ("Yêu cầu bị từ chối: biểu mẫu đã cũ hoặc được gửi từ trang khác. Hãy mở lại đường dẫn của đơn vị "
          "và gửi lại.", "Request refused: the form is stale or was posted from another site. Open your link "
          "again and resend."),
    404: ("Không tìm thấy trang. Đường dẫn có thể đã bị thu hồi hoặc gõ sai; hãy liên hệ Cụm trưởng để được "
          "cấp đường dẫn mới.", "Page not found. The link may have been revoked or mistyped; ask the cluster "
          "head for a new one."),
    405: ("Phương thức không được hỗ trợ", "Method not allowed"),
    409: ("Trang đã cũ: hãy mở lại đường dẫn và thử lại.", "The page is stale: open your link again and retry."),
    413: ("Tệp quá lớn", "File too large"),
    500: ("Máy chủ gặp lỗi khi xử lý yêu cầu. Xin thử lại sau ít phút; nếu vẫn lỗi, hãy báo Cụm trưởng.",
          "The server failed to handle the request. Try again in a few minutes; if it persists, tell the "
          "cluster head."),
}


def _templates(settings: Settings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.autoescape = True
    env.trim_blocks = env.lstrip_blocks = True
    env.filters.update(
        number=format_number,
        percent=format_percent,
        vndate=format_date,
        vndatetime=format_datetime,
        status_vi=lambda s: status_label(s, "vi"),
        status_en=lambda s: status_label(s, "en"),
        reporting=reporting_label,  # Đúng hạn / Nộp muộn / Chưa báo cáo, as every other output words it
        filesize=_filesize,
    )
    return templates


def _filesize(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{format_number(round(n / 1024 / 1024, 1))} MB"
    return f"{format_number(round(n / 1024))} KB"


def upload_limit() -> int:
    """The largest file accepted: the intake's own cap, so a file refused here is never one `pull` takes."""
    return MAX_FILE_BYTES


def create_app(settings: Settings, *, now: Callable[[], datetime] | None = None,
               max_upload: int | None = None) -> FastAPI:
    """The portal for the cluster of ``settings`` (its database must have been set up by `tracker init`).

    ``now`` replaces the clock (tests; it returns an aware datetime); ``max_upload`` lowers the upload cap.
    """
    ctx = open_context(settings=settings)
    require_initialised(ctx)
    secret = security.load_or_create_secret(security.secret_path(settings.source))
    templates = _templates(settings)
    state = Portal(
        ctx=ctx,
        secret=secret,
        templates=templates,
        now=now or (lambda: datetime.now(UTC)),
        max_upload=max_upload or upload_limit(),
    )

    app = FastAPI(title="Cluster tracker portal", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.portal = state

    async def refuse_too_large(scope, receive, send) -> None:
        request = Request(scope, receive)
        response = _error_page(request, 413, state)
        response.headers["Connection"] = "close"
        await response(scope, receive, send)

    app.add_middleware(BodySizeLimit, limit=state.max_upload + FORM_OVERHEAD, on_refuse=refuse_too_large)

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        h = response.headers
        # The secret link is in the URL: never send it to another site, never cache the pages.
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Cache-Control", "no-store")
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("X-Robots-Tag", "noindex, nofollow")
        h.setdefault("Content-Security-Policy",
                     "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                     "frame-ancestors 'none'; base-uri 'none'")
        return response

    _handle_errors(app, state)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(district.router)
    app.include_router(head.router)

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request):
        return state.render(request, "home.html")

    @app.get("/status.css")
    def status_css():
        return Response(status_stylesheet(), media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @app.get("/healthz", response_class=PlainTextResponse)
    def healthz():
        return "ok"

    return app


def _handle_errors(app: FastAPI, state: Portal) -> None:
    """How errors are answered: a page in both languages, never a traceback (a client gone gets nothing)."""

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        return _error_page(request, exc.status_code, state, getattr(exc, "detail", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        # Logged by the server (uvicorn) as well; the person sees a page in their language.
        return _error_page(request, 500, state)

    @app.exception_handler(ClientDisconnect)
    async def _client_left(request: Request, exc: ClientDisconnect):
        # The client went away mid-request (or was cut off for sending too slowly, see tracker.web.server):
        # nobody is left to answer, and it is not a server error to log with a traceback.
        return Response(status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return _error_page(request, 404 if request.method == "GET" else 400, state)


def _error_page(request: Request, status: int, state: Portal, detail=None) -> Response:
    vi, en = ERROR_TEXT.get(status, ("Đã có lỗi xảy ra", "Something went wrong"))
    if status == 413:
        mb = format_number(round(state.max_upload / 1024 / 1024, 1))
        vi = f"Tệp quá lớn: tệp báo cáo không được vượt quá {mb} MB."
        en = f"File too large: a report file may be at most {mb} MB."
    elif isinstance(detail, tuple) and len(detail) == 2:  # (vi, en) raised by a handler
        vi, en = detail
    return state.render(request, "error.html", status_code=status, status=status, message_vi=vi, message_en=en)
