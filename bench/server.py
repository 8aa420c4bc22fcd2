"""Against `otree prodserver`: participant page latency with and without a large lineage
download running, and the store's share of the server-side request time for a
generation of 100 participants (measured inside the server by probe/sitecustomize.py).
The HTTP driver is the one the reliability tests use (tests/participants.py)."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.otree_project import OtreeServer, make_project
from tests.participants import Participant

from .timing import Timings

PROBE = Path(__file__).with_name("probe")


def start_server(workdir: Path, store_root: Path, name: str) -> tuple[OtreeServer, Path]:
    project = make_project(workdir / name)
    probe_out = workdir / f"{name}-probe.json"
    server = OtreeServer(project, store_root, PYTHONPATH=str(PROBE), BENCH_PROBE_OUT=str(probe_out)).start()
    return server, probe_out


def create_session(server: OtreeServer, participants: int) -> tuple[str, list[str]]:
    body = json.dumps(dict(session_config_name="pd_advice", num_participants=participants)).encode()
    request = urllib.request.Request(server.url + "/api/sessions", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=120) as response:
        code = json.loads(response.read())["code"]
    with urllib.request.urlopen(f"{server.url}/api/sessions/{code}", timeout=60) as response:
        return code, [p["code"] for p in json.loads(response.read())["participants"]]


def bench_page_latency(server: OtreeServer, lineage: str, participants: int, seconds_per_phase: float,
                       phases: int) -> dict[str, Timings]:
    """Participants reload their Choice page in a loop; phases alternate quiet / download."""
    _, codes = create_session(server, participants)
    people = [Participant(requests.Session(), server.url, code).start() for code in codes]
    results: dict[str, list[float]] = {"quiet": [], "during download": []}
    downloads = []

    def download_loop(stop: threading.Event) -> None:
        while not stop.is_set():
            started = time.perf_counter()
            response = requests.get(f"{server.url}/lineage/lineages/{lineage}/history.parquet", timeout=600)
            downloads.append((response.status_code, len(response.content), time.perf_counter() - started))

    def reload_loop(person: Participant, until: float, into: list[float]) -> None:
        while time.monotonic() < until:
            started = time.perf_counter()
            person.reload()
            into.append(time.perf_counter() - started)

    for phase in range(phases * 2):
        label = "quiet" if phase % 2 == 0 else "during download"
        stop = threading.Event()
        downloader = threading.Thread(target=download_loop, args=(stop,)) if label != "quiet" else None
        if downloader:
            downloader.start()
            time.sleep(0.2)  # let the download start before measuring
        until = time.monotonic() + seconds_per_phase
        with ThreadPoolExecutor(len(people)) as pool:
            list(pool.map(lambda p: reload_loop(p, until, results[label]), people))
        stop.set()
        if downloader:
            downloader.join()
    assert all(status == 200 for status, _, _ in downloads) and downloads
    return {label: Timings(values) for label, values in results.items()}


def bench_store_share(server: OtreeServer, probe_out: Path, participants: int) -> dict[str, float]:
    """A whole generation over HTTP; the store's share of the server's request time."""
    before = json.loads(probe_out.read_text()) if probe_out.exists() else dict(request_seconds=0, store_seconds=0,
                                                                                 requests=0, store_calls=0)
    _, codes = create_session(server, participants)
    people = [Participant(requests.Session(), server.url, code) for code in codes]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda p: p.start(), people))
        list(pool.map(lambda p: p.choose("cooperate", f"advice of {p.code}"), people))
        list(pool.map(lambda p: p.wait_for("Results", timeout=300), people))
    time.sleep(0.5)
    after = json.loads(probe_out.read_text())
    delta = {key: after[key] - before[key] for key in after}
    delta["share"] = delta["store_seconds"] / delta["request_seconds"]
    return delta


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def bench_download(server: OtreeServer, lineage: str, runs: int) -> tuple[Timings, float, int]:
    """(time to the last byte of each download, the server's peak RSS growth in MB, rows)."""
    import io

    import pyarrow.parquet as pq

    pid = server.process.pid
    baseline = _status_kib(pid, "VmRSS:")
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the server's peak RSS to its RSS now
    except OSError:
        pass
    samples, body = [], b""
    for _ in range(runs):
        started = time.perf_counter()
        response = requests.get(f"{server.url}/lineage/lineages/{lineage}/history.parquet", timeout=600)
        body = response.content
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200
    growth_mb = (_status_kib(pid, "VmHWM:") - baseline) / 1024
    return Timings(samples), growth_mb, pq.read_table(io.BytesIO(body)).num_rows
