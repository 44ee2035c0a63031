"""Remote DICOM nodes and our own application entity: frozen, validated configuration objects.

A node is a PACS (or a modality, or another workstation) reachable by DIMSE (AE title, host,
port, optional TLS) and/or by DICOMweb (base URL with no, basic or bearer authentication).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from viewer.pacs.errors import NodeConfigError

DEFAULT_AE = "NODULELENS"
DEFAULT_PORT = 11112
LOOPBACK = "127.0.0.1"


class Auth(Enum):
    NONE = "none"
    BASIC = "basic"
    BEARER = "bearer"


class Protocol(Enum):
    """How a node is reached for an operation."""

    DIMSE = "dimse"
    DICOMWEB = "dicomweb"


def check_ae_title(title: str, what: str) -> str:
    clean = str(title or "").strip()
    if not clean or len(clean) > 16 or "\\" in clean or not clean.isascii() or not clean.isprintable():
        raise NodeConfigError(what, f"AE title {title!r} is not valid",
                              "Use 1 to 16 printable ASCII characters, no backslash")
    return clean


def check_port(port: int, what: str) -> int:
    try:
        value = int(port)
    except (TypeError, ValueError):
        value = -1
    if not 0 < value < 65536:
        raise NodeConfigError(what, f"port {port!r} is not valid", "Use a TCP port from 1 to 65535")
    return value


@dataclass(frozen=True, slots=True)
class Node:
    """A remote node. ``port == 0`` means no DIMSE; ``web_url == ""`` means no DICOMweb."""

    name: str
    ae_title: str = ""
    host: str = LOOPBACK
    port: int = 0
    tls_cert: str = ""
    tls_key: str = ""
    tls_ca: str = ""
    web_url: str = ""
    auth: Auth = Auth.NONE
    username: str = ""
    secret: str = ""  # password (basic) or token (bearer); the settings file is owner-only

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("-", "").replace("_", "").isalnum():
            raise NodeConfigError(self.name or "(no name)", "is not a valid node name",
                                  "Use letters, digits, '-' and '_'")
        if not self.port and not self.web_url:
            raise NodeConfigError(self.name, "has neither a DICOM port nor a DICOMweb URL",
                                  "Give --ae/--host/--port, or --web-url, or both")
        if self.port:
            check_ae_title(self.ae_title, self.name)
            check_port(self.port, self.name)
            if not self.host:
                raise NodeConfigError(self.name, "has a port but no host", "Give --host")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise NodeConfigError(self.name, "has only one of the TLS certificate and key",
                                  "Give both --tls-cert and --tls-key (or neither)")
        if self.web_url and not self.web_url.startswith(("http://", "https://")):
            raise NodeConfigError(self.name, f"DICOMweb URL {self.web_url!r} is not http(s)",
                                  "Give the base URL, e.g. http://pacs:8042/dicom-web")
        if self.auth is not Auth.NONE and not self.secret:
            raise NodeConfigError(self.name, f"uses {self.auth.value} authentication without a secret",
                                  "Give --password (basic) or --token (bearer)")

    @property
    def uses_tls(self) -> bool:
        return bool(self.tls_cert)

    def protocol(self, prefer_web: bool = False) -> Protocol:
        """DIMSE when the node has a port (unless ``prefer_web`` and it has a URL), else DICOMweb."""
        if self.web_url and (prefer_web or not self.port):
            return Protocol.DICOMWEB
        return Protocol.DIMSE

    def missing_tls_files(self) -> list[str]:
        return [p for p in (self.tls_cert, self.tls_key, self.tls_ca) if p and not Path(p).is_file()]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["auth"] = self.auth.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Node":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["auth"] = Auth(known.get("auth", "none"))
        return cls(**known)

    def describe(self) -> str:
        parts = []
        if self.port:
            parts.append(f"{self.ae_title}@{self.host}:{self.port}{' TLS' if self.uses_tls else ''}")
        if self.web_url:
            parts.append(f"{self.web_url} ({self.auth.value})")
        return f"{self.name}: " + ", ".join(parts)


@dataclass(frozen=True, slots=True)
class LocalAE:
    """Our own application entity: what we call ourselves, where the listener binds, the archive."""

    ae_title: str = DEFAULT_AE
    port: int = DEFAULT_PORT
    bind: str = LOOPBACK
    archive: str = ""
    #: calling AE titles the listener accepts; empty: the AE titles of the configured nodes
    allowed_callers: tuple[str, ...] = ()
    quiet_seconds: float = 10.0
    min_free_mb: int = 500
    priors_years: int = 5
    timeout_s: float = 30.0
    auto_send_node: str = ""
    auto_send_formats: tuple[str, ...] = ("sr", "seg")

    def __post_init__(self) -> None:
        check_ae_title(self.ae_title, "local AE")
        check_port(self.port, "local AE")
        for t in self.allowed_callers:
            check_ae_title(t, "allowed calling AE titles")
        if self.quiet_seconds <= 0 or self.timeout_s <= 0 or self.priors_years < 0 or self.min_free_mb < 0:
            raise NodeConfigError("local AE", "has a negative or zero time/limit",
                                  "Give positive quiet time and timeout, non-negative years and disk space")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["allowed_callers"] = list(self.allowed_callers)
        data["auto_send_formats"] = list(self.auto_send_formats)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "LocalAE":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("allowed_callers", "auto_send_formats"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)


@dataclass(frozen=True, slots=True)
class PacsConfig:
    local: LocalAE = field(default_factory=LocalAE)
    nodes: tuple[Node, ...] = ()

    def node(self, name: str) -> Node:
        from viewer.pacs.errors import UnknownNode
        for n in self.nodes:
            if n.name == name:
                return n
        known = ", ".join(n.name for n in self.nodes) or "none"
        raise UnknownNode(name, f"is not a configured PACS node (configured: {known})",
                          "Add it with `nodulelens pacs nodes add`")

    def callers(self) -> tuple[str, ...]:
        """The calling AE titles the listener accepts."""
        if self.local.allowed_callers:
            return self.local.allowed_callers
        return tuple(sorted({n.ae_title for n in self.nodes if n.port}))
