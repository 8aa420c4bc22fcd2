"""The lineage browser's routes, mounted by admin_ext.enable at /lineage."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import downloads, payments, views
from .render import not_found


async def _not_found(request: Request, exc: Exception) -> Response:
    return not_found("There is nothing at this address.", root=request.scope.get("root_path", ""))


routes = [
    Route("/", views.overview),
    Route("/sessions/{code}", views.session_page),
    Route("/sessions/{code}/participants/{participant}", views.participant_trail),
    Route("/sessions/{code}/payments", payments.payments_page),
    Route("/sessions/{code}/payments.csv", payments.payments_csv),
    Route("/sessions/{code}/exclude", views.exclude_session, methods=["POST"]),
    Route("/sessions/{code}/include", views.include_session, methods=["POST"]),
    Route("/sessions/{code}/history.parquet", downloads.session_history("parquet")),
    Route("/sessions/{code}/history.csv", downloads.session_history("csv")),
    Route("/sessions/{code}/history-excel.csv", downloads.session_history("excel.csv")),
    Route("/sessions/{code}/history.json", downloads.session_history("json")),
    Route("/lineages/{name}/history.parquet", downloads.lineage_history("parquet")),
    Route("/lineages/{name}/history.csv", downloads.lineage_history("csv")),
    Route("/lineages/{name}/history-excel.csv", downloads.lineage_history("excel.csv")),
]

lineage_app = Starlette(routes=routes, exception_handlers={404: _not_found})
