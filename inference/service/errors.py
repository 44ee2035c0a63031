"""Typed errors of the inference service, as the GUI and the CLI see them. Torch-free.

Every message says what happened and what the user can do. The CLI prints ``str(error)`` and
exits with status 2; the GUI shows it in a dialog and keeps running (a dead worker is started
again on the next request).
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: a request to the inference worker did not produce a result."""


class WorkerDied(ServiceError):
    """The worker process ended in the middle of a request (killed, crashed, out of memory)."""

    def __init__(self, exitcode: int | None, during: str = "a request") -> None:
        self.exitcode = exitcode
        how = "was killed by signal %d" % -exitcode if exitcode is not None and exitcode < 0 else (
            f"exited with status {exitcode}" if exitcode is not None else "stopped answering")
        super().__init__(
            f"the inference worker {how} during {during}. It is started again on the next "
            "request; if this repeats, try --device cpu or a smaller scan, and check free memory")


class WorkerStartFailed(ServiceError):
    """The worker could not start or could not load its model."""


class WorkerFailed(ServiceError):
    """The worker raised an error while it handled a request (it stays up for the next one)."""

    def __init__(self, message: str, error_type: str = "", details: str = "") -> None:
        self.error_type = error_type
        self.details = details
        super().__init__(message)


class OutOfMemory(WorkerFailed):
    """The accelerator (or the machine) ran out of memory; the worker is restarted."""


class ScanTransferError(ServiceError):
    """A scan could not be handed to the worker (shared memory exhausted, bad array)."""
