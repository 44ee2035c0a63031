"""Shared fixtures: where the real scans are, and a real X server for GUI tests.

Tests that need ``../shared/data`` skip with the reason where it is absent (CI always has it).
When DISPLAY is unset, an Xvfb server is started for the session (Mesa's software OpenGL).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("NODULELENS_SHARED_DATA", REPO.parent / "shared" / "data"))

_xvfb: subprocess.Popen | None = None


def _die_with_parent() -> None:  # runs in the Xvfb child before exec (Linux)
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _start_xvfb() -> None:
    global _xvfb
    if os.environ.get("DISPLAY") or shutil.which("Xvfb") is None:
        return
    for n in range(90, 140):
        if Path(f"/tmp/.X11-unix/X{n}").exists() or Path(f"/tmp/.X{n}-lock").exists():
            continue
        proc = subprocess.Popen(
            ["Xvfb", f":{n}", "-screen", "0", "1920x1200x24", "-nolisten", "tcp", "+extension", "GLX"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # Xvfb ends with the test process, after every X client in it (Qt, VTK) has closed;
            # stopping it earlier, in pytest_unconfigure, makes Qt exit(1) on the broken connection
            preexec_fn=_die_with_parent if os.name == "posix" else None,
        )
        for _ in range(100):
            if Path(f"/tmp/.X11-unix/X{n}").exists():
                os.environ["DISPLAY"] = f":{n}"
                _xvfb = proc
                return
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        proc.kill()


def pytest_configure(config: pytest.Config) -> None:
    _start_xvfb()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _xvfb is not None and os.name != "posix":
        _xvfb.terminate()


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not found at {path} (../shared/data is absent on this machine)")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return _need(SHARED_DATA)


@pytest.fixture(scope="session")
def lidc1() -> Path:
    return _need(SHARED_DATA / "lidc" / "LIDC-IDRI-0001")


@pytest.fixture(scope="session")
def lidc2() -> Path:
    return _need(SHARED_DATA / "lidc" / "LIDC-IDRI-0002")


@pytest.fixture(scope="session")
def luna_annotations() -> Path:
    return _need(SHARED_DATA / "luna16" / "annotations.csv")


@pytest.fixture(scope="session")
def example_nifti() -> Path:
    return _need(SHARED_DATA / "other" / "example_ct.nii.gz")
