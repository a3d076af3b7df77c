"""The portal's web application: paths of CONTRACTS §14, sign-in, CSRF, roles and the access log.

Every page but `/healthz`, `/login` and the language switch needs a signed-in, enabled user with a live
server-side session (`pipeline.portal.sessions`: signing out ends every copy of the cookie); roles are checked on
the server for every request (`pipeline.portal.users.PERMISSIONS`). Every POST carries the session's CSRF token.
Passwords are checked in worker threads, a few at a time, so sign-ins never hold up the event loop. Pages speak
Latvian or English (`pipeline.portal.i18n`); a signed-in user's choice is stored and applied at each sign-in.
Searches are POSTed so the typed text (perhaps a personal code) never lands in a URL, a proxy log or uvicorn's
access log; household pages are keyed by an opaque id. Any input gets a page: the handlers below turn a malformed
request into a 400 page and an unexpected failure into a 500 page that says nothing about the data.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from pathlib import Path

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from pipeline.logs import get_logger
from pipeline.portal import access_log, i18n
from pipeline.portal import appeals as appeal_pages
from pipeline.portal.i18n import N_
from pipeline.portal.lookup import KINDS, MAX_QUERY, Lookup
from pipeline.portal.sessions import close_session, open_session, session_user
from pipeline.portal.settings import PortalSettings
from pipeline.portal.users import User, active_user, attempt_sign_in, list_users, set_language
from pipeline.store.db import connect

log = get_logger("portal")
HERE = Path(__file__).resolve().parent
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
# Password checks at once (argon2 is slow and takes 64 MiB each, on purpose), in worker threads off the event
# loop: a burst of sign-ins neither stalls other requests nor takes the memory of 30 hashes at a time.
HASHING_SLOTS = 4
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2099, 12, 31)   # the dates the access log's filter accepts


class Denied(Exception):
    """Signed in, but the role does not allow this page."""


class SignInRequired(Exception):
    """No signed-in, enabled user."""


class BadForm(Exception):
    """A POST without a valid CSRF token, or a form that cannot be read."""


class BadDate(Exception):
    """A date in a query string that is not a day between EARLIEST and LATEST."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def create_app(settings: PortalSettings, engine: Engine | None = None) -> FastAPI:
    engine = engine or connect(settings.db_url)
    lookup = Lookup(engine, settings.pseudonym_secret, settings.data_key, settings.page_size)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["may_step"] = appeal_pages.may_step
    app = FastAPI(title="EIKIS staff portal", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SessionMiddleware, secret_key=settings.session_key, session_cookie="eikis_session",
                       max_age=settings.session_hours * 3600, same_site="strict", https_only=settings.secure_cookie)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # noqa: ANN001, ANN202 - Starlette's signature
        try:
            response = await call_next(request)
        except Exception as exc:  # noqa: BLE001 - caught here, or Starlette re-raises it to uvicorn's traceback
            response = failed(request, exc)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def page(request: Request, name: str, status: int = 200, **context: object) -> HTMLResponse:
        context.setdefault("user", getattr(request.state, "user", None))
        texts = i18n.Texts(language(request))
        return templates.TemplateResponse(
            request, name, {"csrf": csrf_token(request), "t": texts, "_": texts.gettext, "lang": texts.language,
                            "languages": list(i18n.NAMES.items()), "here": request.url.path, **context},
            status_code=status)

    def require(request: Request, permission: str) -> User:
        user = active_user(engine, session_user(engine, request.session.get("sid")))
        if user is None:
            request.session.pop("sid", None)
            raise SignInRequired
        request.state.user = user
        if not user.can(permission):
            raise Denied
        return user

    async def posted(request: Request) -> dict[str, str]:
        try:
            form = await request.form(max_files=0, max_fields=20, max_part_size=64 * 1024)
        except Exception as exc:  # noqa: BLE001 - any unreadable body is the sender's fault: a 400 page
            raise BadForm from exc
        values = {key: value for key, value in form.items() if isinstance(value, str)}
        expected = request.session.get("csrf")
        if not expected or not secrets.compare_digest(values.get("csrf_token", ""), expected):
            raise BadForm
        return values

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(Denied)
    async def _denied(request: Request, exc: Denied) -> Response:
        return page(request, "error.html", 403, title=N_("Not allowed"),
                    message=N_("Your role does not allow this page."))

    @app.exception_handler(BadForm)
    async def _bad_form(request: Request, exc: BadForm) -> Response:
        return page(request, "error.html", 400, title=N_("Form expired"),
                    message=N_("The form was not accepted (expired or not sent from this site). Please try again."))

    @app.exception_handler(BadDate)
    async def _bad_date(request: Request, exc: BadDate) -> Response:
        return page(request, "error.html", 400, title=N_("Bad date"),
                    message=N_("'%(field)s' must be a date YYYY-MM-DD from %(earliest)s to %(latest)s."),
                    args={"field": exc.field, "earliest": EARLIEST, "latest": LATEST})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return page(request, "error.html", 400, title=N_("Bad request"), message=N_("The request could not be read."))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return page(request, "error.html", 404, title=N_("Not found"), message=N_("There is no such page."))
        return page(request, "error.html", exc.status_code, title=N_("Error"),
                    message=N_("The request was refused."))

    def failed(request: Request, exc: Exception) -> Response:
        """An unexpected failure: one log line naming its class and the path, never its message or traceback (a
        store error's message quotes the SQL and its parameters), and a page that says nothing about the data."""
        log.error("portal: %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return page(request, "error.html", 500, title=N_("Something went wrong"),
                    message=N_("The page could not be produced. The error was logged without its data."))

    hashing: list[anyio.CapacityLimiter] = []      # created in the event loop, on the first sign-in

    @app.get("/healthz")
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/")
    def home(request: Request) -> RedirectResponse:
        require(request, "search")
        return RedirectResponse("/search", status_code=303)

    @app.get("/login")
    def login_form(request: Request) -> HTMLResponse:
        return page(request, "login.html")

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await posted(request)
        username = form.get("username", "")[:64]
        client = request.client.host if request.client else "unknown"
        if not hashing:
            hashing.append(anyio.CapacityLimiter(HASHING_SLOTS))
        attempt = functools.partial(attempt_sign_in, engine, username, form.get("password", "")[:1024], client,
                                    settings.sign_in_limits)
        outcome = await anyio.to_thread.run_sync(attempt, limiter=hashing[0])
        logged_name = username if outcome.known else access_log.UNKNOWN_NAME
        if outcome.locked:
            access_log.append(engine, logged_name, "sign-in-refused")
            return page(request, "login.html", 429, error=N_("Too many failed sign-ins. Try again later."))
        if outcome.user is None:
            access_log.append(engine, logged_name, "sign-in-failed")
            return page(request, "login.html", 401, error=N_("Wrong user name or password."))
        access_log.append(engine, outcome.user.username, "sign-in")
        close_session(engine, request.session.get("sid"))
        chosen = outcome.user.language or request.session.get("lang")   # the user's own choice, on any browser
        request.session.clear()
        if chosen:
            request.session["lang"] = chosen
        request.session["sid"] = open_session(engine, outcome.user.username, settings.session_hours)
        request.session["csrf"] = secrets.token_urlsafe(32)
        return RedirectResponse("/search", status_code=303)

    @app.get("/logout")
    @app.post("/logout")
    def logout(request: Request) -> RedirectResponse:
        username = session_user(engine, request.session.get("sid"))
        if username:
            close_session(engine, request.session.get("sid"))
            access_log.append(engine, username, "sign-out")
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.post("/language")
    async def choose_language(request: Request) -> RedirectResponse:
        form = await posted(request)
        if form.get("lang") in i18n.LANGUAGES:
            request.session["lang"] = form["lang"]
            user = active_user(engine, session_user(engine, request.session.get("sid")))
            if user is not None:        # signed in: remembered for the next sign-in; signed out: this session only
                set_language(engine, user.username, form["lang"])
        back = form.get("next", "/search")
        return RedirectResponse(back if back.startswith("/") and not back.startswith("//") else "/search",
                                status_code=303)

    @app.get("/search")
    def search_form(request: Request) -> HTMLResponse:
        require(request, "search")
        return page(request, "search.html", kinds=KINDS, kind="code", found=None, query="")

    @app.post("/search")
    async def search(request: Request) -> HTMLResponse:
        user = require(request, "search")
        form = await posted(request)
        kind = form.get("kind", "code")
        if kind not in KINDS:
            kind = "code"
        query = form.get("q", "").replace("\x00", "")[:MAX_QUERY]
        found = lookup.search(kind, query)
        access_log.append_search(engine, user.username, kind, found.total,
                                 [(hit.household_id, hit.period) for hit in found.hits])
        return page(request, "search.html", kinds=KINDS, kind=kind, found=found, query=query)

    @app.get("/household/{household_id}")
    def household(request: Request, household_id: str, month: str | None = None) -> HTMLResponse:
        user = require(request, "search")
        found = lookup.household(household_id, month)
        access_log.append(engine, user.username, "view", household_id=found.household_id if found else None,
                          period=found.period if found else None, result_count=1 if found else 0)
        if found is None:
            return page(request, "error.html", 404, title=N_("Not found"), message=N_("There is no such household."))
        return page(request, "household.html", household=found, appeals=appeal_pages.panel(engine, found))

    appeal_pages.add_routes(app, engine, page, require, posted)

    @app.get("/audit", response_model=None)
    def audit(request: Request, user: str = "", since: str = "", until: str = "", kind: str = "",
              format: str = "html") -> Response:
        require(request, "audit")
        wanted = access_log.AuditFilter(user, _date("since", since), _date("until", until), kind)
        rows = access_log.read(engine, wanted, limit=None if format == "csv" else access_log.PAGE_ROWS)
        addresses = lookup.addresses({row[5] for row in rows if row[5]})
        if format == "csv":
            return Response(access_log.as_csv(rows, addresses), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": 'attachment; filename="access_log.csv"'})
        return page(request, "audit.html", rows=rows, addresses=addresses, wanted=wanted,
                    kinds=(*access_log.ACTIONS, *KINDS))

    @app.get("/users")
    def users(request: Request) -> HTMLResponse:
        require(request, "users")
        return page(request, "users.html", users=list_users(engine))

    return app


def language(request: Request) -> str:
    """The page's language: chosen in this session (or stored for the user and set at sign-in), else the browser's
    (`Accept-Language`), else Latvian."""
    chosen = request.session.get("lang") if "session" in request.scope else None
    return i18n.choose(chosen, request.headers.get("accept-language", ""))


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created for an anonymous session too, so the sign-in form carries one)."""
    if "session" not in request.scope:          # a failure before the session middleware ran: no form to post
        return ""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def _date(name: str, value: str) -> dt.date | None:
    """An optional filter date; anything else (an impossible day, a year 9999) is the sender's error: a 400 page."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise BadDate(name) from None
    if not EARLIEST <= day <= LATEST:
        raise BadDate(name)
    return day
