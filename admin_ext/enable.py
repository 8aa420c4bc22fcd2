"""Importing this module (one line in settings.py) mounts the lineage browser at /lineage."""

from __future__ import annotations

from types import ModuleType

from ._post_import import call_after_import

MOUNT_PATH = "/lineage"


def _mount(otree_asgi: ModuleType) -> None:
    from starlette.responses import RedirectResponse
    from starlette.routing import Route

    from .app import lineage_app

    app = otree_asgi.app
    if any(getattr(route, "path", None) == MOUNT_PATH for route in app.router.routes):
        return  # already mounted in this process
    # A Mount does not match the bare prefix: send /lineage to /lineage/.
    app.router.routes.append(
        Route(MOUNT_PATH, lambda request: RedirectResponse(MOUNT_PATH + "/", status_code=307))
    )
    app.mount(MOUNT_PATH, lineage_app, name="lineage")


call_after_import("otree.asgi", _mount)
