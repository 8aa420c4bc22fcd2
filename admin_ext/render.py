"""HTML for the lineage browser: oTree's admin look (its Bootstrap, served by oTree itself).

Every value that reaches a page goes through esc(): participant text is never trusted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from html import escape
import logging

from starlette.responses import HTMLResponse, StreamingResponse

logger = logging.getLogger("admin_ext")


def esc(value: object) -> str:
    return "" if value is None else escape(str(value), quote=True)


def page(title: str, body: str, *, root: str, banner: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <title>{esc(title)} | Lineages | oTree Admin</title>
  <link rel="stylesheet" href="/static/bootstrap5/css/bootstrap.min.css">
  <link rel="stylesheet" href="/static/otree/css/theme2.css">
  <style>
    .advice {{ white-space: pre-wrap; overflow-wrap: anywhere; max-width: 28em; }}
    tr.excluded, .excluded {{ opacity: .5; }}
    svg text {{ font-family: system-ui, sans-serif; }}
    svg a {{ text-decoration: none; }}
  </style>
</head>
<body>
<nav class="navbar navbar-expand navbar-dark bg-dark mb-3">
  <div class="container-fluid">
    <a class="navbar-brand" href="{esc(root)}/">Lineages</a>
    <div class="navbar-nav">
      <a class="nav-link" href="/sessions">oTree admin</a>
    </div>
  </div>
</nav>
<main class="container-fluid">
{banner}
<h1 class="h3 mb-3">{esc(title)}</h1>
{body}
</main>
</body>
</html>
"""


def alert(text: str, kind: str = "warning") -> str:
    return f'<div class="alert alert-{kind}" role="alert">{text}</div>'


def table(headers: Iterable[str], rows: Iterable[str], *, table_id: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    id_attr = f' id="{esc(table_id)}"' if table_id else ""
    return (
        f'<div class="table-responsive"><table class="table table-sm table-hover align-top"{id_attr}>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.0%}"


def streamed_page(render: Callable[[], str], *, status_code: int = 200) -> StreamingResponse:
    """Render inside the response body: oTree holds its global request lock only until
    the response starts, so participants do not wait while the store is read."""

    def body() -> Iterator[bytes]:
        try:
            yield render().encode("utf-8")
        except Exception:  # the status line is already sent: show the failure in the page
            logger.exception("lineage page failed")
            yield b"<p>This page could not be completed; the server log has the details.</p>"

    return StreamingResponse(body(), status_code=status_code, media_type="text/html",
                             headers={"x-content-type-options": "nosniff"})


def not_found(message: str, *, root: str) -> HTMLResponse:
    body = alert(esc(message), "secondary") + f'<a href="{esc(root)}/">All lineages</a>'
    return HTMLResponse(page("Not found", body, root=root), status_code=404)
