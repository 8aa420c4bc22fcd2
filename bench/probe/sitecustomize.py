"""Loaded by the benchmark's oTree server (PYTHONPATH=bench/probe): measures, inside the
server, the time requests take and the time they spend in the lineage store, and writes
the totals to $BENCH_PROBE_OUT after every request. Not used outside the benchmark."""

import json
import os
import threading
import time

_OUT = os.environ.get("BENCH_PROBE_OUT")
_totals = {"requests": 0, "request_seconds": 0.0, "store_seconds": 0.0, "store_calls": 0}
_guard = threading.Lock()
_depth = threading.local()


def _dump():
    temp = _OUT + ".tmp"
    with open(temp, "w") as handle:
        json.dump(_totals, handle)
    os.replace(temp, _OUT)


def _timed(function):
    def wrapper(*args, **kwargs):
        outermost = getattr(_depth, "n", 0) == 0 and not threading.current_thread().name.startswith("history-snapshot")
        _depth.n = getattr(_depth, "n", 0) + 1
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            _depth.n -= 1
            if outermost:
                with _guard:
                    _totals["store_seconds"] += time.perf_counter() - started
                    _totals["store_calls"] += 1
    return wrapper


def _instrument_store(module):
    store = module.HistoryStore
    for name in ("append_records", "read_records", "load_session", "register_session", "check_writable",
                 "schedule_snapshot", "load_manifest", "resolve_latest", "session_exists", "list_sessions",
                 "ancestry", "refresh_snapshot"):
        setattr(store, name, _timed(getattr(store, name)))


def _instrument_app(asgi):
    inner = asgi.app

    class Timed:
        def __getattr__(self, name):
            return getattr(inner, name)

        async def __call__(self, scope, receive, send):
            if scope["type"] != "http":
                return await inner(scope, receive, send)
            started = time.perf_counter()
            try:
                await inner(scope, receive, send)
            finally:
                with _guard:
                    _totals["requests"] += 1
                    _totals["request_seconds"] += time.perf_counter() - started
                    _dump()

    asgi.app = Timed()


if _OUT:
    import sys

    sys.path.insert(0, os.getcwd())
    from admin_ext._post_import import call_after_import

    call_after_import("history_store._store", _instrument_store)
    call_after_import("otree.asgi", _instrument_app)
