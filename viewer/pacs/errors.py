"""Typed errors of the PACS layer: each names the node, study or file and says what to do."""

from __future__ import annotations

from inference.errors import ActionableError


class PacsError(ActionableError):
    """Base class of every PACS error (nodes, query/retrieve, listener, sending)."""


class NodeConfigError(PacsError):
    """A node or the local AE is configured wrongly (bad AE title, port, missing TLS file…)."""


class UnknownNode(PacsError):
    """No node of that name is configured."""


class NodeUnreachable(PacsError):
    """The association (or the HTTP request) could not be made."""


class RemoteFailure(PacsError):
    """The node answered, but with a failure status."""


class ArchiveError(PacsError):
    """The local archive cannot take a received or pulled instance (disk full, not writable)."""


class PullCancelled(PacsError):
    """The user cancelled a pull; what was already received stays in the archive."""
