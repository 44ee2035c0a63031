"""Entry point of the spawned worker. Torch-free on purpose: the client names this function as
the process target, so the GUI process never imports the worker module (nor torch) itself."""

from __future__ import annotations

import importlib
from typing import Any


def run_worker(*args: Any) -> None:
    importlib.import_module("inference.service.worker").main(*args)
