"""The same login as oTree's admin: with OTREE_AUTH_LEVEL set, only a logged-in admin gets in."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from otree import settings
from otree.common import AUTH_COOKIE_NAME, AUTH_COOKIE_VALUE, CSRF_TOKEN_NAME

Endpoint = Callable[[Request], Awaitable[Response]]
LOGIN_PATH = "/login"


def login_required() -> bool:
    return settings.AUTH_LEVEL in ("DEMO", "STUDY")


def is_admin(request: Request) -> bool:
    if not login_required():
        return True
    return request.session.get(AUTH_COOKIE_NAME) == AUTH_COOKIE_VALUE


def admin_page(endpoint: Endpoint) -> Endpoint:
    """A page: strangers are sent to oTree's login."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if not is_admin(request):
            return RedirectResponse(LOGIN_PATH, status_code=302)
        return await endpoint(request)

    return guarded


def admin_data(endpoint: Endpoint) -> Endpoint:
    """A download or JSON: strangers get 403, never a login page in place of data."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if not is_admin(request):
            return PlainTextResponse("Admin login required.", status_code=403)
        return await endpoint(request)

    return guarded


def csrf_token(request: Request) -> str:
    """oTree's own CSRF token for this browser session (created as oTree does if missing)."""
    token = request.session.get(CSRF_TOKEN_NAME)
    if not token:
        token = str(10**9 + secrets.randbelow(9 * 10**9))
        request.session[CSRF_TOKEN_NAME] = token
    return token


def csrf_ok(request: Request, form_token: object) -> bool:
    expected = request.session.get(CSRF_TOKEN_NAME)
    if not expected or not isinstance(form_token, str):
        return False
    return secrets.compare_digest(form_token.encode(), str(expected).encode())
