"""The lineage browser's pages: the overview, a session, a participant's advice trail."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from history_store import (
    CorruptStoreError,
    HistoryStoreError,
    InvalidRecordError,
    SessionStatus,
    is_valid_name,
    open_default_store,
)

from .auth import admin_data, admin_page, csrf_ok, csrf_token, login_required
from .render import alert, esc, not_found, page, percent, streamed_page, table
from .svg import cooperation_chart, lineage_tree

SESSION_DOWNLOADS = (
    ("history.parquet", "Parquet"),
    ("history.csv", "CSV"),
    ("history-excel.csv", "CSV for Excel"),
    ("history.json", "JSON"),
)
LINEAGE_DOWNLOADS = (("history.parquet", "Parquet"), ("history.csv", "CSV"), ("history-excel.csv", "CSV for Excel"))


def root_of(request: Request) -> str:
    return request.scope.get("root_path", "")


def _buttons(base: str, downloads: tuple[tuple[str, str], ...]) -> str:
    return " ".join(
        f'<a class="btn btn-sm btn-outline-primary" href="{esc(base)}/{name}" download>{label}</a>'
        for name, label in downloads
    )


def cooperation_by_generation(statuses: list[SessionStatus]) -> dict[str, dict[int, float]]:
    """lineage -> generation -> share of records that cooperated (excluded sessions left out)."""
    counts: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for status in statuses:
        if status.manifest and not status.is_excluded and status.num_records:
            pair = counts[status.lineage][status.manifest.generation]
            pair[0] += status.num_cooperated
            pair[1] += status.num_records
    return {lineage: {g: c / n for g, (c, n) in by_gen.items()} for lineage, by_gen in counts.items()}


@admin_page
async def overview(request: Request) -> Response:
    root = root_of(request)

    def render() -> str:
        statuses = open_default_store().session_statuses()
        banner = "" if login_required() else alert(
            "oTree's admin login is off (OTREE_AUTH_LEVEL is not set): anyone who can reach this "
            "server can read these lineages. Set OTREE_AUTH_LEVEL=STUDY for a real study."
        )
        if not statuses:
            body = alert("No sessions yet. Create a session of <code>pd_advice</code> in oTree's admin.", "info")
            return page("Lineages", body, root=root, banner=banner)
        parts = ['<div class="mb-4"><h2 class="h5">Cooperation by generation</h2>',
                 cooperation_chart(cooperation_by_generation(statuses)), "</div>"]
        by_lineage: dict[str, list[SessionStatus]] = defaultdict(list)
        for status in statuses:
            by_lineage[status.lineage].append(status)
        for lineage, members in sorted(by_lineage.items()):
            parts.append(_lineage_section(root, lineage, members))
        return page("Lineages", "".join(parts), root=root, banner=banner)

    return streamed_page(render)


def _lineage_section(root: str, lineage: str, members: list[SessionStatus]) -> str:
    healthy = [s for s in members if not s.is_damaged]
    damaged = [s for s in members if s.is_damaged]
    tree = lineage_tree(healthy, lambda code: f"{root}/sessions/{code}")
    rows = [
        f'<tr class="{"excluded" if s.is_excluded else ""}"><td><a href="{esc(root)}/sessions/{esc(s.session_code)}">'
        f"{esc(s.session_code)}</a></td><td>{esc(s.generation)}</td><td>{esc(s.manifest.created_at[:16].replace('T', ' '))}</td>"
        f"<td>{esc(s.num_records)}/{esc(s.manifest.num_participants)}</td><td>{percent(s.cooperation_rate)}</td>"
        f"<td>{'excluded: ' + esc(s.excluded_reason) if s.is_excluded else ('demo' if s.manifest.is_demo else '')}</td></tr>"
        for s in healthy
    ]
    damage = "".join(
        alert(f"Session <code>{esc(s.session_code)}</code> is damaged: {esc(s.damage)}", "danger") for s in damaged
    )
    return (
        f'<section class="mb-5 lineage" id="lineage-{esc(lineage)}">'
        f'<h2 class="h5">Lineage {esc(lineage)} '
        f'<small class="ms-2">{_buttons(f"{root}/lineages/{lineage}", LINEAGE_DOWNLOADS)}</small></h2>'
        f'<div class="overflow-auto mb-2">{tree}</div>{damage}'
        + table(["session", "generation", "created (UTC)", "recorded", "cooperation", ""], rows)
        + "</section>"
    )


@admin_page
async def session_page(request: Request) -> Response:
    root = root_of(request)
    code = request.path_params["code"]
    store = open_default_store()
    if not store.session_exists(code):
        return not_found(f"No session {code!r} in the lineage store.", root=root)
    token = csrf_token(request)

    def render() -> str:
        try:
            manifest = store.load_manifest(code)
            rows = store.load_session(code).to_pylist()
        except CorruptStoreError as exc:
            return page(f"Session {code}", alert(f"This session is damaged: {esc(exc)}", "danger"), root=root)
        exclusion = store.excluded_sessions(manifest.lineage).get(code)
        descendants = store.descendants(code)
        recorded = sum(1 for r in rows if r["choice"])
        facts = [
            ("Lineage", esc(manifest.lineage)),
            ("Generation", esc(manifest.generation)),
            ("Ancestor", _session_link(root, manifest.ancestor_session_code) or "none (first generation)"),
            ("Descendants", ", ".join(_session_link(root, d.session_code) for d in descendants) or "none yet"),
            ("Created (UTC)", esc(manifest.created_at)),
            ("Config", esc(manifest.config_name) + (" (demo)" if manifest.is_demo else "")),
            ("Recorded", f"{recorded} of {esc(manifest.num_participants)} participants"),
            ("Dropped out", f"{esc(manifest.num_participants - recorded)} without a record (never used as ancestors); "
                            f"{sum(1 for r in rows if r['choice'] and r['payoff'] is None)} recorded without payoff"),
            ("Payments", f'<a href="{esc(root)}/sessions/{esc(code)}/payments">payment report</a>'
                         + (f" (successor weight {esc(manifest.config.get('successor_weight'))})"
                            if manifest.config.get("successor_weight") else "")),
            ("Matching seed", esc(manifest.matching_seed)),
        ]
        body = [
            alert(f"Excluded from the lineage: {esc(exclusion.reason)}", "secondary") if exclusion else "",
            '<dl class="row">',
            *(f'<dt class="col-sm-2">{k}</dt><dd class="col-sm-10">{v}</dd>' for k, v in facts),
            "</dl>",
            f'<p>{_buttons(f"{root}/sessions/{code}", SESSION_DOWNLOADS)}</p>',
            _records_table(root, rows),
            _exclusion_form(root, code, token, excluded=exclusion is not None),
        ]
        return page(f"Session {code}", "".join(body), root=root)

    return streamed_page(render)


def _session_link(root: str, code: str | None) -> str:
    return "" if not code else f'<a href="{esc(root)}/sessions/{esc(code)}">{esc(code)}</a>'


def _records_table(root: str, rows: list[dict[str, Any]]) -> str:
    rows = sorted(rows, key=lambda r: (r["group_id"] or 0, r["id_in_group"] or 0, r["participant_code"]))
    html_rows = []
    for r in rows:
        ancestor = ""
        if r["ancestor_session_code"]:
            ancestor = (f'<a href="{esc(root)}/sessions/{esc(r["ancestor_session_code"])}#p-{esc(r["ancestor_participant_code"])}">'
                        f'{esc(r["ancestor_participant_code"])}</a>')
        trail = f'{esc(root)}/sessions/{esc(r["session_code"])}/participants/{esc(r["participant_code"])}'
        html_rows.append(
            f'<tr id="p-{esc(r["participant_code"])}"><td><a href="{trail}" title="advice trail">{esc(r["participant_code"])}</a></td>'
            f'<td>{esc(r["group_id"])}</td><td>{esc(r["role"])}</td><td>{esc(r["choice"])}</td>'
            f'<td>{esc(r["payoff"])}</td><td class="advice" dir="auto">{esc(r["advice"])}</td>'
            f'<td class="advice" dir="auto">{esc(r["ancestor_advice"])}</td><td>{ancestor}</td></tr>'
        )
    headers = ["participant", "group", "role", "choice", "payoff", "advice written", "advice read", "ancestor"]
    return table(headers, html_rows, table_id="records") if rows else alert("No records yet.", "info")


def _exclusion_form(root: str, code: str, token: str, *, excluded: bool) -> str:
    if excluded:
        return (f'<form method="post" action="{esc(root)}/sessions/{esc(code)}/include" class="mt-4">'
                f'<input type="hidden" name="csrftoken" value="{esc(token)}">'
                '<button class="btn btn-outline-secondary btn-sm">Include this session again</button></form>')
    return (f'<form method="post" action="{esc(root)}/sessions/{esc(code)}/exclude" class="mt-4 row g-2">'
            f'<input type="hidden" name="csrftoken" value="{esc(token)}">'
            '<div class="col-auto"><input class="form-control form-control-sm" name="reason" required '
            'placeholder="reason, e.g. pilot" maxlength="500"></div>'
            '<div class="col-auto"><button class="btn btn-outline-danger btn-sm">Exclude from the lineage</button></div>'
            '<div class="col-12 form-text">Excluded sessions stay on disk and on this page; '
            '<code>latest</code> and lineage downloads skip them.</div></form>')


@admin_data
async def exclude_session(request: Request) -> Response:
    return await _set_exclusion(request, exclude=True)


@admin_data
async def include_session(request: Request) -> Response:
    return await _set_exclusion(request, exclude=False)


async def _set_exclusion(request: Request, *, exclude: bool) -> Response:
    code = request.path_params["code"]
    store = open_default_store()
    if not store.session_exists(code):
        return PlainTextResponse("No such session.", status_code=404)
    form = await request.form()
    if not csrf_ok(request, form.get("csrftoken")):
        return PlainTextResponse("CSRF verification failed", status_code=403)
    try:
        if exclude:
            store.exclude_session(code, str(form.get("reason", ""))[:500])
        else:
            store.include_session(code)
    except InvalidRecordError as exc:
        return PlainTextResponse(str(exc), status_code=400)
    except HistoryStoreError as exc:
        return PlainTextResponse(str(exc), status_code=409)
    return RedirectResponse(f"{root_of(request)}/sessions/{code}", status_code=303)


@admin_page
async def participant_trail(request: Request) -> Response:
    root = root_of(request)
    code, participant = request.path_params["code"], request.path_params["participant"]
    store = open_default_store()
    if not (is_valid_name(participant) and store.session_exists(code)):
        return not_found(f"No participant {participant!r} of session {code!r} in the lineage store.", root=root)

    def render() -> str:
        trail, problem = advice_trail(code, participant)
        if not trail:
            return page("Advice trail", alert(esc(problem or "No such participant."), "secondary"), root=root)
        rows = [
            f"<tr><td>{r['generation']}</td><td>{_session_link(root, r['session_code'])}</td>"
            f"<td>{esc(r['participant_code'])}</td><td>{esc(r['role'])}</td><td>{esc(r['choice'])}</td>"
            f"<td>{esc(r['payoff'])}</td><td class=\"advice\" dir=\"auto\">{esc(r['advice'])}</td></tr>"
            for r in trail
        ]
        body = table(["generation", "session", "participant", "role", "choice", "payoff", "advice written"], rows,
                     table_id="trail")
        if problem:
            body += alert(esc(problem), "secondary")
        return page(f"Advice trail of {participant}", body, root=root)

    return streamed_page(render)


def advice_trail(session_code: str, participant_code: str) -> tuple[list[dict[str, Any]], str | None]:
    """The record and its matched ancestors back to generation 1; and why it stops early, if it does."""
    store = open_default_store()
    trail: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    key: tuple[str | None, str | None] = (session_code, participant_code)
    while key[0] and key[1] and key not in seen:
        seen.add(key)  # type: ignore[arg-type]
        try:
            rows = {r["participant_code"]: r for r in store.load_session(key[0]).to_pylist()}
        except HistoryStoreError as exc:
            return trail, f"The trail stops at session {key[0]}: {exc}"
        record = rows.get(key[1])
        if record is None:
            return trail, f"Session {key[0]} has no record of participant {key[1]}."
        trail.append(record)
        key = (record["ancestor_session_code"], record["ancestor_participant_code"])
    return trail, None
