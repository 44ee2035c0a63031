"""A real Orthanc PACS for the tests: temp config and storage, free loopback ports, DICOMweb on."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import requests

ORTHANC = Path("/usr/sbin/Orthanc")
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
ORTHANC_AE = "TESTPACS"
#: HTTP basic authentication of the test Orthanc (REST and DICOMweb)
USER, PASSWORD = "reader", "s3cret-for-tests"
AUTH = (USER, PASSWORD)
#: our AE title in the tests, and the phantom patient with a current study and two earlier ones
OUR_AE = "NODULELENS"
PATIENT = "PACS-TEST-0001"
CURRENT_DATE, PRIOR_DATE, OLD_DATE = "20240605", "20220310", "20100101"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Orthanc:
    """``start()``/``stop()`` (restartable on the same storage); REST helpers on loopback."""

    def __init__(self, root: Path, modalities: dict[str, tuple[str, int]]) -> None:
        self.root = root
        self.http_port = free_port()
        self.dicom_port = free_port()
        self.ae_title = ORTHANC_AE
        self.config = root / "orthanc.json"
        self.log = root / "orthanc.log"
        root.mkdir(parents=True, exist_ok=True)
        self.config.write_text(json.dumps({
            "Name": "NoduleLens test PACS",
            "StorageDirectory": str(root / "storage"),
            "IndexDirectory": str(root / "index"),
            "HttpPort": self.http_port,
            "DicomPort": self.dicom_port,
            "DicomAet": ORTHANC_AE,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": True,
            "RegisteredUsers": {USER: PASSWORD},
            "DicomCheckCalledAet": True,
            "DicomScuTimeout": 10,
            "DicomScpTimeout": 30,
            "DicomAlwaysAllowFind": True,
            "DicomAlwaysAllowGet": True,
            "StorageCompression": False,
            "SaveJobs": False,
            "ConcurrentJobs": 1,
            "TranscodeDicomProtocol": False,
            "Plugins": [str(DICOMWEB_PLUGIN)],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": True},
            "DicomModalities": {name: {"AET": ae, "Host": "127.0.0.1", "Port": port, "AllowGet": True,
                                       "AllowFind": True, "AllowMove": True, "AllowStore": True,
                                       "AllowEcho": True}
                                for name, (ae, port) in modalities.items()},
        }, indent=1))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def web_url(self) -> str:
        return f"{self.url}/dicom-web"

    def start(self, timeout_s: float = 60.0) -> None:
        if shutil.which(str(ORTHANC)) is None or not DICOMWEB_PLUGIN.exists():
            raise RuntimeError("Orthanc or its DICOMweb plugin is not installed (scripts/setup.sh installs them)")
        with open(self.log, "ab") as out:  # the child keeps its own copy of the handle
            # DCMTK inside Orthanc keeps Nagle's algorithm on unless TCP_NODELAY is set (~40 ms a C-STORE)
            self.proc = subprocess.Popen([str(ORTHANC), str(self.config)], stdout=out, stderr=subprocess.STDOUT,
                                         env=dict(os.environ, TCP_NODELAY="1"))
        t_end = time.monotonic() + timeout_s
        while time.monotonic() < t_end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Orthanc exited: see {self.log}:\n{self.log.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/system", timeout=1, auth=AUTH).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Orthanc did not start in {timeout_s} s: see {self.log}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None

    # -- REST ---------------------------------------------------------------------------------------
    def get(self, path: str) -> Any:
        r = requests.get(f"{self.url}{path}", timeout=30, auth=AUTH)
        r.raise_for_status()
        return r.json() if "json" in r.headers.get("content-type", "") else r.content

    def post(self, path: str, body: Any, timeout: float = 120) -> Any:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        r = requests.post(f"{self.url}{path}", data=data, timeout=timeout, auth=AUTH)
        r.raise_for_status()
        return r.json() if "json" in r.headers.get("content-type", "") else r.content

    def upload(self, files: list[Path]) -> None:
        for f in files:
            self.post("/instances", f.read_bytes())

    def find_study(self, study_uid: str) -> str | None:
        ids = self.post("/tools/lookup", study_uid.encode())
        return next((i["ID"] for i in ids if i["Type"] == "Study"), None)

    def instance_file(self, sop_uid: str) -> bytes | None:
        ids = self.post("/tools/lookup", sop_uid.encode())
        iid = next((i["ID"] for i in ids if i["Type"] == "Instance"), None)
        return None if iid is None else self.get(f"/instances/{iid}/file")
