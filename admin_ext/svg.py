"""Lineage pictures drawn server-side as SVG: lab servers are often offline."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from history_store import SessionStatus

from .render import esc, percent

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
NODE_W, NODE_H, COL_W, ROW_H, PAD = 210, 58, 250, 72, 10


def lineage_tree(statuses: Sequence[SessionStatus], href: Callable[[str], str]) -> str:
    """Sessions as a tree: one column per generation, one row per session (depth first),
    so branches show as rows that share a parent."""
    nodes = [s for s in statuses if s.manifest is not None]
    if not nodes:
        return ""
    by_code = {s.session_code: s for s in nodes}
    children: dict[str | None, list[SessionStatus]] = {}
    for status in nodes:
        parent = status.manifest.ancestor_session_code
        children.setdefault(parent if parent in by_code else None, []).append(status)
    for siblings in children.values():
        siblings.sort(key=lambda s: (s.manifest.created_at, s.session_code))

    order: list[SessionStatus] = []
    seen: set[str] = set()

    def visit(status: SessionStatus) -> None:
        if status.session_code in seen:
            return
        seen.add(status.session_code)
        order.append(status)
        for child in children.get(status.session_code, []):
            visit(child)

    for root in children.get(None, []):
        visit(root)
    for status in nodes:  # an ancestry cycle (never written by the app) still shows
        visit(status)

    row = {s.session_code: i for i, s in enumerate(order)}
    min_generation = min(s.manifest.generation for s in order)

    def position(status: SessionStatus) -> tuple[int, int]:
        return PAD + (status.manifest.generation - min_generation) * COL_W, PAD + row[status.session_code] * ROW_H

    parts: list[str] = []
    for status in order:
        parent = status.manifest.ancestor_session_code
        if parent in by_code:
            px, py = position(by_code[parent])
            cx, cy = position(status)
            x1, y1, x2, y2 = px + NODE_W, py + NODE_H // 2, cx, cy + NODE_H // 2
            mid = (x1 + x2) // 2
            parts.append(f'<path d="M{x1},{y1} H{mid} V{y2} H{x2}" fill="none" stroke="#888"/>')
    for status in order:
        parts.append(_node(status, *position(status), href(status.session_code)))

    width = PAD * 2 + (max(s.manifest.generation for s in order) - min_generation) * COL_W + NODE_W
    height = PAD * 2 + len(order) * ROW_H
    return (
        f'<svg class="lineage-tree" role="img" aria-label="sessions of the lineage as a tree" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">{"".join(parts)}</svg>'
    )


def _node(status: SessionStatus, x: int, y: int, link: str) -> str:
    manifest = status.manifest
    fill = "#eee" if status.is_excluded else "#e7f1ff"
    dashed = ' stroke-dasharray="4 3"' if status.is_excluded else ""
    title = f"generation {manifest.generation}"
    if status.is_excluded:
        title += f", excluded: {status.excluded_reason}"
    counts = f"{status.num_records}/{manifest.num_participants} recorded · coop {percent(status.cooperation_rate)}"
    return (
        f'<a href="{esc(link)}" class="session-node{" excluded" if status.is_excluded else ""}" '
        f'data-session="{esc(status.session_code)}">'
        f"<title>{esc(title)}</title>"
        f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6" fill="{fill}" stroke="#4a6fa5"{dashed}/>'
        f'<text x="{x + 8}" y="{y + 18}" font-size="13" font-weight="bold">G{manifest.generation} · {esc(status.session_code)}</text>'
        f'<text x="{x + 8}" y="{y + 34}" font-size="11">{esc(manifest.created_at[:16].replace("T", " "))} UTC</text>'
        f'<text x="{x + 8}" y="{y + 49}" font-size="11">{esc(counts)}</text>'
        "</a>"
    )


def cooperation_chart(rates: dict[str, dict[int, float]]) -> str:
    """Cooperation rate by generation, one line per lineage (rates: lineage -> generation -> rate)."""
    generations = sorted({g for by_generation in rates.values() for g in by_generation})
    if not generations:
        return ""
    width, height, left, bottom, top, right = 560, 260, 46, 34, 12, 150
    plot_w, plot_h = width - left - right, height - top - bottom
    first, last = generations[0], generations[-1]

    def x(generation: int) -> float:
        return left + (0.5 if first == last else (generation - first) / (last - first)) * plot_w

    def y(rate: float) -> float:
        return top + (1 - rate) * plot_h

    parts = [f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>']
    for tick in (0, 0.5, 1):
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end">{tick:.0%}</text>')
        parts.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{left + plot_w}" y2="{y(tick):.1f}" stroke="#ddd"/>')
    for generation in generations:
        parts.append(f'<text x="{x(generation):.1f}" y="{top + plot_h + 16}" font-size="11" text-anchor="middle">{generation}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" font-size="11" text-anchor="middle">generation</text>')
    for index, (lineage, by_generation) in enumerate(sorted(rates.items())):
        color = PALETTE[index % len(PALETTE)]
        points = " ".join(f"{x(g):.1f},{y(r):.1f}" for g, r in sorted(by_generation.items()))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
        for g, r in sorted(by_generation.items()):
            parts.append(f'<circle cx="{x(g):.1f}" cy="{y(r):.1f}" r="3.5" fill="{color}"><title>{esc(lineage)}, generation {g}: {r:.0%}</title></circle>')
        legend_y = top + 14 + index * 18
        parts.append(f'<line x1="{width - right + 14}" y1="{legend_y - 4}" x2="{width - right + 34}" y2="{legend_y - 4}" stroke="{color}" stroke-width="2"/>')
        parts.append(f'<text x="{width - right + 40}" y="{legend_y}" font-size="12">{esc(lineage)}</text>')
    return (
        f'<svg class="cooperation-chart" role="img" aria-label="cooperation rate by generation" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">{"".join(parts)}</svg>'
    )
