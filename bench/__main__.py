"""python -m bench [--quick] [--no-server]: every comparison and target in one run; prints
a table and writes the same figures to bench/RESULTS.md (or --out)."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .appends import bench_appends
from .browser import bench_overview, fill_lineages, store_for_env
from .matching import bench_matching
from .timing import ms

FULL = dict(append_sizes=(10, 100, 1000), append_scale=10_000, append_samples=300, matching=1000, matching_runs=20,
            overview=(10, 100, 10), overview_runs=10, download=(100, 1000), download_runs=3,
            latency=(20, 5.0, 4), generation=100)
QUICK = dict(append_sizes=(10, 100), append_scale=None, append_samples=20, matching=100, matching_runs=3,
             overview=(2, 5, 4), overview_runs=2, download=(5, 100), download_runs=1,
             latency=(4, 1.0, 1), generation=10)


def machine(workdir: Path) -> str:
    disk = subprocess.run(["df", "-hT", str(workdir)], capture_output=True, text=True).stdout.splitlines()[-1].split()
    return (f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
            f"work folder on {disk[1]} ({disk[2]} disk, {disk[4]} free)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the harness runs end to end")
    parser.add_argument("--no-server", action="store_true", help="skip the benchmarks that start otree prodserver")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    workdir = Path(tempfile.mkdtemp(prefix="lineage-bench-"))
    lines: list[str] = []
    rows: list[tuple[str, str, str, str]] = []  # what, measured, target, verdict

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    def target(what: str, measured: str, goal: str, met: bool) -> None:
        rows.append((what, measured, goal, "met" if met else "MISSED"))

    try:
        say(f"# Benchmarks\n\n{datetime.date.today().isoformat()}, {machine(workdir)}.\n"
            f"Command: `python -m bench{' --quick' if args.quick else ''}{' --no-server' if args.no_server else ''}`."
            " Contenders are interleaved (A B C D A B ...) in one run; ratios are of that run.\n")

        say("## Record append (one record, durable when the call returns)\n")
        say("| records already in the session | contender | p50 | p99 | p99 ratio: store / this |")
        say("|---|---|---|---|---|")
        p99s = {}
        for size in (*sizes["append_sizes"], *([sizes["append_scale"]] if sizes["append_scale"] else [])):
            timings = bench_appends(workdir, size, sizes["append_samples"])
            store_p99 = timings["lineage store"].p99
            p99s[size] = store_p99
            for name, t in timings.items():
                ratio = "" if name == "lineage store" else f"{store_p99 / t.p99:.2f}"
                say(f"| {size:,} | {name} | {ms(t.p50)} | {ms(t.p99)} | {ratio} |")
            if size in sizes["append_sizes"]:
                target(f"append p99, {size:,} records, vs seed side table", f"{store_p99 / timings['seed side table'].p99:.2f}×", "≤ 0.5×",
                       store_p99 <= 0.5 * timings["seed side table"].p99)
                target(f"append p99, {size:,} records, vs WAL side table", f"{store_p99 / timings['side table, WAL'].p99:.2f}×", "≤ 1.0×",
                       store_p99 <= timings["side table, WAL"].p99)
                target(f"append p99, {size:,} records, vs fsync floor", f"{store_p99 / timings['fsync floor'].p99:.2f}×", "≤ 2×",
                       store_p99 <= 2 * timings["fsync floor"].p99)
        flat = max(p99s.values()) / min(p99s.values())
        say(f"\nStore append p99 from the smallest to the largest session: {flat:.2f}× (flat means about 1).\n")

        say("## Matching (load the ancestor's records from the store, then match)\n")
        for n in (sizes["matching"], *([sizes["matching"] * 10] if not args.quick else [])):
            t = bench_matching(workdir, n, sizes["matching_runs"])
            say(f"- {n:,} participants to a {n:,}-record ancestor: p50 {ms(t.p50)}, max {ms(max(t.samples))}")
            if n == sizes["matching"]:
                target(f"matching {n:,} participants (load + match)", ms(t.p50), "≤ 50 ms", t.p50 <= 0.050)

        say("\n## The lineage browser, in process\n")
        lineages, per_lineage, records = sizes["overview"]
        store = store_for_env(workdir / "browser-store")
        fill_lineages(store, lineages, per_lineage, records)
        from starlette.testclient import TestClient

        from .inprocess import otree_app

        client = TestClient(otree_app(workdir))
        warm, cold = bench_overview(client, sizes["overview_runs"])
        say(f"- /lineage/ with {lineages * per_lineage:,} sessions in {lineages} lineages: first view {ms(cold)}, "
            f"then p50 {ms(warm.p50)}, max {ms(max(warm.samples))}")
        target(f"/lineage/ overview, {lineages * per_lineage:,} sessions", ms(warm.p50), "≤ 300 ms", warm.p50 <= 0.300)

        sessions, per_session = sizes["download"]
        big = fill_lineages(store, 1, sessions, per_session, prefix="big")[0]
        expected = sessions * per_session

        if not args.no_server:
            say("\n## Against otree prodserver\n")
            from .server import bench_download, bench_page_latency, bench_store_share, start_server

            server, probe_out = start_server(workdir, store.root, "server")
            try:
                timings, growth, rows_read = bench_download(server, big, sizes["download_runs"])
                assert rows_read == expected
                say(f"- lineage download over HTTP, {expected:,} records, Parquet: p50 {ms(timings.p50)} to the last "
                    f"byte (max {ms(max(timings.samples))}); the server's peak memory grew {growth:.0f} MB")
                target(f"lineage download, {expected:,} records", ms(timings.p50), "≤ 1 s", timings.p50 <= 1.0)
                target("server peak memory growth during the download", f"{growth:.0f} MB", "≤ 150 MB", growth <= 150)
                participants, seconds, phases = sizes["latency"]
                latency = bench_page_latency(server, big, participants, seconds, phases)
                quiet, busy = latency["quiet"], latency["during download"]
                say(f"- participant page (Choice, reloaded by {participants} participants): p50 {ms(quiet.p50)}, "
                    f"p99 {ms(quiet.p99)} quiet; p50 {ms(busy.p50)}, p99 {ms(busy.p99)} while the lineage downloads "
                    f"({len(quiet.samples)} and {len(busy.samples)} requests)")
                target("participant page p99 during a lineage download", f"{busy.p99 / quiet.p99:.2f}×",
                       "≤ 1.25× without", busy.p99 <= 1.25 * quiet.p99)
                share = bench_store_share(server, probe_out, sizes["generation"])
                say(f"- a generation of {sizes['generation']} participants over HTTP: {share['requests']:.0f} requests, "
                    f"{share['request_seconds']:.2f} s of server request time, {share['store_seconds'] * 1000:.0f} ms of it "
                    f"in the store ({share['store_calls']:.0f} calls): {share['share']:.1%}")
                target(f"store's share of server request time, generation of {sizes['generation']}",
                       f"{share['share']:.1%}", "≤ 5%", share["share"] <= 0.05)
            finally:
                server.stop()

        say("\n## Targets\n")
        say("| what | measured | target | |")
        say("|---|---|---|---|")
        for row in rows:
            say("| " + " | ".join(row) + " |")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if not args.quick:
        notes = Path(__file__).with_name("NOTES.md")
        args.out.write_text("\n".join(lines) + "\n\n" + (notes.read_text() if notes.exists() else ""))
        print(f"\nWritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
