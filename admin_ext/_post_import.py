"""Run a function right after a module is imported, without importing it first.

settings.py cannot import otree.asgi (oTree imports settings while building it), so
the lineage browser waits for otree.asgi to finish importing and mounts itself then.
This works in every process that builds oTree's app: devserver (and its reloads),
prodserver and `otree test`.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable
from types import ModuleType


def call_after_import(module_name: str, callback: Callable[[ModuleType], None]) -> None:
    """callback(module) once module_name is imported (at once if it already is).

    Several callbacks may wait for one module; each runs once, in the order given.
    """
    if module_name in sys.modules:
        callback(sys.modules[module_name])
        return
    for finder in sys.meta_path:
        if isinstance(finder, _AfterImportFinder) and finder.module_name == module_name:
            if callback not in finder.callbacks:
                finder.callbacks.append(callback)
            return
    sys.meta_path.insert(0, _AfterImportFinder(module_name, callback))


class _AfterImportFinder(importlib.abc.MetaPathFinder):
    def __init__(self, module_name: str, callback: Callable[[ModuleType], None]) -> None:
        self.module_name = module_name
        self.callbacks = [callback]

    def find_spec(self, fullname, path, target=None):
        if fullname != self.module_name:
            return None
        sys.meta_path.remove(self)  # find the real module with the other finders
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _CallbackLoader(spec.loader, self.callbacks)
        return spec


class _CallbackLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader, callbacks: list[Callable[[ModuleType], None]]) -> None:
        self.loader = loader
        self.callbacks = callbacks

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        for callback in self.callbacks:
            callback(module)
