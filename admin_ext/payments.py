"""The payment report of a successor-linked session: /lineage/sessions/{code}/payments."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from history_store import CorruptStoreError, PaymentLine, open_default_store, successor_payments

from .auth import admin_data, admin_page
from .downloads import attachment
from .render import alert, esc, not_found, page, streamed_page, table

CSV_HEADER = [
    "participant_code", "participant_label", "own_payoff", "successor_payoffs", "successor_mean",
    "successor_weight", "total_points", "total_money", "missing_successors", "final",
]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")


def _csv_row(line: PaymentLine) -> list[str]:
    return [
        line.participant_code, line.participant_label or "", _number(line.own_payoff),
        " ".join(f"{code}:{_number(p)}" for code, p in sorted(line.successor_payoffs.items())),
        _number(line.successor_mean), _number(line.successor_weight), _number(line.total_points),
        _number(line.total_money), " ".join(line.missing_successors), "yes" if line.is_final else "no",
    ]


@admin_page
async def payments_page(request: Request) -> Response:
    root = request.scope.get("root_path", "")
    code = request.path_params["code"]
    if not open_default_store().session_exists(code):
        return not_found(f"No session {code!r} in the lineage store.", root=root)

    def render() -> str:
        try:
            lines = successor_payments(open_default_store(), code)
        except CorruptStoreError as exc:
            return page(f"Payments of {code}", alert(f"This session is damaged: {esc(exc)}", "danger"), root=root)
        weight = lines[0].successor_weight if lines else 0.0
        rows = [
            "<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in _csv_row(line)) + "</tr>"
            for line in lines
        ]
        intro = (
            f"<p>Earnings = own payoff + {esc(_number(weight))} × the mean payoff of the participant's successors "
            "(the records of descendant sessions that were matched to them), in points, then "
            "× the session's conversion rate + its participation fee. Rows marked final: no "
            "successor is missing.</p>"
            if weight else "<p>This session does not link payment to successors (successor_weight is 0).</p>"
        )
        waiting = "" if not lines or any(l.successor_payoffs or l.missing_successors for l in lines) or not weight else alert(
            "No descendant session has been played yet: the successors' part is still unknown.", "info")
        body = (intro + waiting + f'<p><a class="btn btn-sm btn-outline-primary" href="{esc(root)}/sessions/{esc(code)}/payments.csv" download>CSV</a></p>'
                + table(CSV_HEADER, rows, table_id="payments"))
        return page(f"Payments of {code}", body, root=root)

    return streamed_page(render)


@admin_data
async def payments_csv(request: Request) -> Response:
    code = request.path_params["code"]
    store = open_default_store()
    if not store.session_exists(code):
        return PlainTextResponse(f"No session {code!r} in the lineage store.", status_code=404)
    try:
        manifest = store.load_manifest(code)
        lines = successor_payments(store, code)
    except CorruptStoreError as exc:
        return PlainTextResponse(f"Session {code} is damaged: {exc}", status_code=409)

    def body() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_HEADER)
        writer.writerows(_csv_row(line) for line in lines)
        yield buffer.getvalue().encode("utf-8")

    return attachment(body(), "csv", f"lineage-{manifest.lineage}_session-{code}_payments.csv")
