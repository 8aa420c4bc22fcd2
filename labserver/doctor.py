"""python -m labserver.doctor: what to check before the first real session.

Says what to fix: the store folder is writable and on a local disk (on NFS and other
network file systems file locks can silently do nothing), and oTree's admin password,
auth level and REST key are set. Exit code 0 when nothing needs fixing, 1 otherwise.
Lives outside history_store, which knows nothing of oTree.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from history_store import HISTORY_DIR_ENV, HistoryStore, HistoryStoreError, default_root

NETWORK_FILE_SYSTEMS: Final = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "ceph", "glusterfs", "fuse.sshfs",
    "fuse.s3fs", "fuse.glusterfs", "davfs", "fuse.davfs2", "lustre", "gpfs", "beegfs",
})


@dataclass(frozen=True)
class Check:
    ok: bool
    message: str


def filesystem_type(path: Path, mounts: str) -> str:
    """The file system type of the mount that holds path, from /proc/mounts' text."""
    path = path.resolve()
    best, best_type = "", "unknown"
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        mount_point = fields[1].replace("\\040", " ")
        inside = path == Path(mount_point) or Path(mount_point) in path.parents
        if inside and len(mount_point) >= len(best):
            best, best_type = mount_point, fields[2]
    return best_type


def check_store(root: Path, mounts: str) -> list[Check]:
    checks = []
    try:
        HistoryStore(root).check_writable()
        checks.append(Check(True, f"the history store at {root} is writable"))
    except HistoryStoreError as exc:
        checks.append(Check(False, str(exc)))
    fs = filesystem_type(root if root.exists() else root.parent, mounts)
    if fs in NETWORK_FILE_SYSTEMS:
        checks.append(Check(False, f"the history store is on {fs}, a network file system where file locks can "
                                   f"silently do nothing: set {HISTORY_DIR_ENV} to a folder on a local disk"))
    else:
        checks.append(Check(True, f"the history store is on a local file system ({fs})"))
    return checks


def check_environment(env: dict[str, str]) -> list[Check]:
    checks = []
    if env.get("OTREE_ADMIN_PASSWORD"):
        checks.append(Check(True, "OTREE_ADMIN_PASSWORD is set"))
    else:
        checks.append(Check(False, "OTREE_ADMIN_PASSWORD is not set: set it, or nobody can log in to the admin"))
    if env.get("OTREE_AUTH_LEVEL") in ("DEMO", "STUDY"):
        checks.append(Check(True, f"OTREE_AUTH_LEVEL is {env['OTREE_AUTH_LEVEL']}"))
    else:
        checks.append(Check(False, "OTREE_AUTH_LEVEL is not DEMO or STUDY: set OTREE_AUTH_LEVEL=STUDY, or anyone "
                                   "who reaches the server can open the admin and download the lineages"))
    if env.get("OTREE_REST_KEY"):
        checks.append(Check(True, "OTREE_REST_KEY is set"))
    else:
        checks.append(Check(False, "OTREE_REST_KEY is not set: set it (any long random text) to use oTree's REST API"))
    if env.get("OTREE_PRODUCTION") in ("1", "True", "true"):
        checks.append(Check(True, "OTREE_PRODUCTION is on"))
    else:
        checks.append(Check(False, "OTREE_PRODUCTION is not 1: set it so participants never see debug pages"))
    database = env.get("DATABASE_URL", "")
    checks.append(Check(True, "oTree's database: " + ("PostgreSQL" if database.startswith("postgres")
                                                      else "SQLite (db.sqlite3 in the project folder)")))
    return checks


def main(env: dict[str, str] | None = None, mounts_file: Path = Path("/proc/mounts")) -> int:
    env = dict(os.environ) if env is None else env
    try:
        mounts = mounts_file.read_text()
    except OSError:
        mounts = ""
    root = Path(env.get(HISTORY_DIR_ENV) or default_root())
    checks = check_store(root, mounts) + check_environment(env)
    for check in checks:
        print(f"{'ok ' if check.ok else 'FIX'}  {check.message}")
    problems = sum(not c.ok for c in checks)
    print("Ready for a real session." if not problems else f"{problems} thing(s) to fix before a real session.")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
