"""Run this project under oTree from tests: in a temp folder, on a temp store.

oTree reads settings.py and db.sqlite3 from its working folder, and a stale
db.sqlite3 makes `otree test` refuse to start; so every test that starts oTree
gets a fresh folder that links to the project's code.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROJECT_ENTRIES = ("settings.py", "choice", "history_store", "admin_ext", "_static")
VENV_BIN = Path(sys.executable).parent
SESSION_SCRIPT = Path(__file__).with_name("otree_session.py")


def make_project(folder: Path) -> Path:
    """A working folder for oTree whose code is this project's."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_ENTRIES:
        if (PROJECT_ROOT / name).exists():
            (folder / name).symlink_to(PROJECT_ROOT / name)
    return folder


def otree_env(store: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTREE_")}
    env.pop("DATABASE_URL", None)
    # oTree's prodserver starts its timeout worker as a bare `otree`.
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["OTREE_HISTORY_DIR"] = str(store)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def run_otree(project: Path, store: Path, *args: str, env: dict[str, str] | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "otree"), *args], cwd=project, env=env or otree_env(store),
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )


@dataclass
class SessionRun:
    code: str | None
    error: str | None
    error_type: str | None
    output: str


def run_session(project: Path, store: Path, *, config: str = "pd_advice", participants: int = 4,
                case: int = 0, env: dict[str, str] | None = None, **overrides: object) -> SessionRun:
    """Create a session with config overrides and play it with the app's bots, on the
    folder's own database (db.sqlite3, or DATABASE_URL), as `otree test` does in memory."""
    request = dict(config=config, participants=participants, case=case, overrides=overrides)
    result = subprocess.run(
        [sys.executable, str(SESSION_SCRIPT), json.dumps(request)], cwd=project,
        env=env or otree_env(store), capture_output=True, text=True, timeout=300,
        stdin=subprocess.DEVNULL,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode not in (0, 3) or not lines:
        raise AssertionError(f"session run failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    answer = json.loads(lines[-1])
    return SessionRun(answer.get("code"), answer.get("error"), answer.get("type"), result.stdout + result.stderr)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OtreeServer:
    """`otree prodserver` on loopback in its own process group (it leaves a worker behind)."""

    def __init__(self, project: Path, store: Path, **env: str) -> None:
        self.project = project
        self.store = store
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = otree_env(store, **env)
        self.log = project / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> OtreeServer:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(VENV_BIN / "otree"), "prodserver", f"127.0.0.1:{self.port}"],
                cwd=self.project, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"oTree server exited:\n{self.log.read_text()}")
            try:
                urllib.request.urlopen(self.url + "/favicon.ico", timeout=2)
                return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"oTree server did not start:\n{self.log.read_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        # the timeout worker may outlive the parent in the group
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process = None

    def __enter__(self) -> OtreeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
