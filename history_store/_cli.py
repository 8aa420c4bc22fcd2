"""python -m history_store: list, show, export, verify, import, backup, restore.

Exit codes a script can rely on: 0 done (verify: clean, or everything repaired);
1 done, but problems remain (verify found damage, import met conflicts);
2 nothing done: bad arguments, unknown session or lineage, unreadable file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final, TextIO

from ._backup import RestoreRefusedError, backup_store, restore_store
from ._errors import HistoryStoreError
from ._files import atomic_output
from ._store import HISTORY_DIR_ENV, HistoryStore, default_root
from ._transfer import CSV, PARQUET, export_lineage, import_file
from ._verify import verify_store

OK: Final = 0
PROBLEMS: Final = 1
USAGE: Final = 2


class Progress:
    """A one-line progress bar on stderr, only when a person is watching (a terminal)."""

    def __init__(self, label: str, stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.stream = stream
        self.active = stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.active or total == 0:
            return
        width = 30
        filled = width * done // total
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m history_store", description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, default=None,
                        help=f"the store's folder (default ${HISTORY_DIR_ENV}, else data/history)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="lineages and their sessions, generations and counts")
    show = commands.add_parser("show", help="one session: its manifest and records")
    show.add_argument("code")
    export = commands.add_parser("export", help="a lineage to one Parquet (with manifests) or CSV file")
    export.add_argument("lineage")
    export.add_argument("-o", "--output", type=Path, required=True, help="FILE.parquet or FILE.csv")
    export.add_argument("--include-excluded", action="store_true", help="also sessions excluded from the lineage")
    verify = commands.add_parser("verify", help="check every session; --repair fixes what is safe to fix")
    verify.add_argument("--repair", action="store_true")
    imported = commands.add_parser("import", help="bring a lineage exported elsewhere (Parquet) into this store")
    imported.add_argument("file", type=Path)
    backup = commands.add_parser("backup", help="the whole store to one file, safe while oTree runs")
    backup.add_argument("file", type=Path)
    restore = commands.add_parser("restore", help="a backup into an empty store (or --merge into this one)")
    restore.add_argument("file", type=Path)
    restore.add_argument("--merge", action="store_true",
                         help="add what the backup has and this store lacks; refuse if any record differs")
    args = parser.parse_args(argv)

    store = HistoryStore(args.store if args.store is not None else default_root())
    try:
        return COMMANDS[args.command](store, args)
    except HistoryStoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE


def _list(store: HistoryStore, args: argparse.Namespace) -> int:
    statuses = store.session_statuses()
    if not statuses:
        print(f"No sessions in {store.root}.")
        return OK
    print(f"{'lineage':<16} {'session':<12} {'gen':>3} {'created (UTC)':<16} {'records':>9} {'paid':>5}  status")
    for s in statuses:
        if s.manifest is None:
            print(f"{s.lineage:<16} {s.session_code:<12} {'?':>3} {'':<16} {'':>9} {'':>5}  DAMAGED: {s.damage}")
            continue
        status = "excluded: " + s.excluded_reason if s.is_excluded else ("demo" if s.manifest.is_demo else "")
        print(f"{s.lineage:<16} {s.session_code:<12} {s.manifest.generation:>3} "
              f"{s.manifest.created_at[:16].replace('T', ' '):<16} "
              f"{f'{s.num_records}/{s.manifest.num_participants}':>9} {s.num_completed:>5}  {status}")
    lineages = sorted({s.lineage for s in statuses})
    print(f"{len(lineages)} lineage(s), {len(statuses)} session(s), "
          f"{sum(s.num_records for s in statuses)} record(s)")
    return OK


def _show(store: HistoryStore, args: argparse.Namespace) -> int:
    manifest = store.load_manifest(args.code)
    rows = store.read_records(args.code)
    print(f"session      {manifest.session_code}\nlineage      {manifest.lineage}\n"
          f"generation   {manifest.generation}\nancestor     {manifest.ancestor_session_code or '-'}\n"
          f"created      {manifest.created_at}\nconfig       {manifest.config_name}\n"
          f"participants {manifest.num_participants}\nseed         {manifest.matching_seed}\n"
          f"records      {sum(1 for r in rows if r.get('choice'))} "
          f"({sum(1 for r in rows if r.get('payoff') is not None)} with payoff)")
    for row in rows:
        advice = (row.get("advice") or "").replace("\n", " / ")
        print(f"  {row['participant_code']:<10} {row.get('role') or '?':<7} {row.get('choice') or '?':<10} "
              f"{'' if row.get('payoff') is None else row['payoff']:>6}  {advice[:60]}")
    return OK


def _export(store: HistoryStore, args: argparse.Namespace) -> int:
    fmt = {".parquet": PARQUET, ".csv": CSV}.get(args.output.suffix.lower())
    if fmt is None:
        print("error: the output file must end in .parquet or .csv", file=sys.stderr)
        return USAGE
    if args.lineage not in store.list_lineages():
        print(f"error: no lineage {args.lineage!r} in {store.root}", file=sys.stderr)
        return USAGE
    with atomic_output(args.output) as handle:
        export_lineage(store, args.lineage, handle, fmt, include_excluded=args.include_excluded,
                       progress=Progress("export"))
    count = len(store.lineage_sessions(args.lineage, include_excluded=args.include_excluded))
    print(f"Exported {count} session(s) of lineage {args.lineage} to {args.output}")
    return OK


def _verify(store: HistoryStore, args: argparse.Namespace) -> int:
    report = verify_store(store, repair=args.repair, progress=Progress("verify"))
    for finding in report.findings:
        mark = "repaired" if finding.repaired else ("DAMAGED" if finding.is_damage else "found")
        print(f"{mark:<9} {finding.where}: {finding.problem}")
    damaged = sum(f.is_damage for f in report.findings)
    print(f"{report.sessions} session(s), {report.records} record(s) checked: "
          f"{len(report.findings)} finding(s), {sum(f.repaired for f in report.findings)} repaired, "
          f"{damaged} damaged")
    if not report.clean and not args.repair and not damaged:
        print("Run with --repair to fix these without losing any acknowledged record.")
    return OK if report.clean else PROBLEMS


def _import(store: HistoryStore, args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"error: no file {args.file}", file=sys.stderr)
        return USAGE
    report = import_file(store, args.file)
    print(f"Imported {len(report.sessions_added)} new session(s), {report.records_added} record(s); "
          f"{len(report.unchanged)} session(s) already here unchanged")
    for conflict in report.conflicts:
        print(f"conflict: {conflict} (kept what this store holds)", file=sys.stderr)
    return PROBLEMS if report.conflicts else OK


def _backup(store: HistoryStore, args: argparse.Namespace) -> int:
    report = backup_store(store, args.file)
    print(f"Backed up {report.sessions} session(s), {report.records} record(s) to {args.file}")
    return OK


def _restore(store: HistoryStore, args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"error: no file {args.file}", file=sys.stderr)
        return USAGE
    try:
        report = restore_store(store, args.file, merge=args.merge)
    except RestoreRefusedError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return PROBLEMS
    print(f"Restored {len(report.sessions_added)} session(s), {report.records_added} record(s) into {store.root}")
    return OK


COMMANDS = {"list": _list, "show": _show, "export": _export, "verify": _verify, "import": _import,
            "backup": _backup, "restore": _restore}
