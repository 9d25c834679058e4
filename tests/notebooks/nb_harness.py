"""Test helpers for the course: its notebooks, a kernelspec for this interpreter, a JupyterLab.

The server is a real ``jupyter lab`` on 127.0.0.1 (a free port, a random token, its own runtime,
config, settings and workspace directories), with every feature that fetches from the internet
turned off: the news feed, the update check and the PyPI extension manager.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "notebooks"
KERNEL = "python3"


def course_notebooks() -> list[Path]:
    """The chapters, in order (notebooks/NN_*.ipynb)."""
    return sorted(COURSE.glob("[0-9][0-9]_*.ipynb"))


def write_kernelspec(kernels_dir: Path, name: str = KERNEL) -> Path:
    """A kernelspec that starts ipykernel with this very interpreter (the venv's, in CI too)."""
    spec = kernels_dir / name
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "Python 3 (tinygrad-value)", "language": "python"}))
    return spec


def lab_env(home: Path) -> dict:
    """Environment for a JupyterLab that reads and writes only below ``home``.

    JUPYTER_PATH puts our kernelspec first, so the "python3" kernel the notebooks name is this
    interpreter; settings carry the notification opt-outs (no news, no update check) and keep
    every cell in the DOM.
    """
    dirs = {name: home / name for name in ("runtime", "config", "data", "settings", "workspaces")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    write_kernelspec(dirs["data"] / "kernels")
    notif = (dirs["settings"] / "@jupyterlab" / "apputils-extension"
             / "notification.jupyterlab-settings")
    notif.parent.mkdir(parents=True, exist_ok=True)
    notif.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # every cell stays in the DOM (JupyterLab 4 detaches cells scrolled out of view by default)
    tracker = (dirs["settings"] / "@jupyterlab" / "notebook-extension"
               / "tracker.jupyterlab-settings")
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    env = dict(os.environ)
    env.update(JUPYTER_RUNTIME_DIR=str(dirs["runtime"]), JUPYTER_CONFIG_DIR=str(dirs["config"]),
               JUPYTER_DATA_DIR=str(dirs["data"]), JUPYTER_PATH=str(dirs["data"]),
               JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
               JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
               JUPYTER_PLATFORM_DIRS="1", IPYTHONDIR=str(home / "ipython"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    return env


def lab_args(root_dir: Path, token: str) -> list[str]:
    """``jupyter lab`` flags: loopback only, no browser, root allowed, nothing fetched outside."""
    return [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
            "--ServerApp.ip=127.0.0.1", "--ServerApp.port=0", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root_dir}",
            "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--ServerApp.terminals_enabled=False"]


@contextlib.contextmanager
def jupyter_lab(root_dir: Path, home: Path, timeout: float = 60.0):
    """Run JupyterLab serving ``root_dir``; yields (base_url, token). Stopped on exit."""
    token = secrets.token_hex(16)
    env = lab_env(home)
    log = open(home / "lab.log", "w")
    proc = subprocess.Popen(lab_args(root_dir, token), env=env, stdout=log,
                            stderr=subprocess.STDOUT, cwd=root_dir)
    try:
        url = _wait_for_server(proc, Path(env["JUPYTER_RUNTIME_DIR"]), token, timeout, home)
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_for_server(proc, runtime: Path, token: str, timeout: float, home: Path) -> str:
    """The server's base URL, read from the jpserver-PID.json it writes once it is listening."""
    info = runtime / f"jpserver-{proc.pid}.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited ({proc.returncode}):\n"
                               + (home / "lab.log").read_text()[-3000:])
        if info.exists():
            with contextlib.suppress(ValueError):
                data = json.loads(info.read_text())
                url = f"http://127.0.0.1:{data['port']}{data['base_url']}"
                req = urllib.request.Request(url + "api/status",
                                             headers={"Authorization": f"token {token}"})
                with contextlib.suppress(OSError), urllib.request.urlopen(req, timeout=5) as r:
                    if r.status == 200:
                        return url
        time.sleep(0.2)
    raise RuntimeError(f"jupyter lab did not start within {timeout:.0f} s:\n"
                       + (home / "lab.log").read_text()[-3000:])
