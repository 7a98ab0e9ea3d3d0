"""A private podman API service on a unix socket."""

from __future__ import annotations

import contextlib
import http.client
import json as jsonlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .base import STOP_TIMEOUT, ServerError, _ServerProcess, require_binary


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def _ulimit(name: str, res: int, cap: int) -> str:
    """``name=N:N`` with N = min(our hard limit, cap): containers cannot exceed podman's own."""
    hard = resource.getrlimit(res)[1]
    value = cap if hard == resource.RLIM_INFINITY else min(hard, cap)
    return f"{name}={value}:{value}"


class PodmanService(_ServerProcess):
    """``podman system service`` on a unix socket, with all storage inside ``dir``.

    Sandbox notes: the host has hybrid cgroups (v1 + a v2 mount holding hugetlb), which crun
    refuses, so containers only run with ``runc``; default ulimits are pinned to the current
    hard limits (podman's 1048576 is not permitted); the default network is "none" and the
    bridge backend is disabled (CNI with an empty plugin dir), so nothing touches the host's
    interfaces or firewall. ``--network host`` works (the container sees host loopback).
    """

    name = "podman"
    startup_timeout = 20.0

    def __init__(
        self,
        dir: str | Path,
        runtime: str | None = None,
        storage_driver: str = "vfs",
    ) -> None:
        self.binary = require_binary("podman", "podman")
        super().__init__(dir, port=0)
        self.runtime = runtime or ("runc" if shutil.which("runc") else "crun")
        self.storage_driver = storage_driver
        self.socket_path = self.dir / "podman.sock"
        self.containers_conf = self.dir / "containers.conf"
        self.storage_conf = self.dir / "storage.conf"
        self.env = dict(os.environ)
        self.env.update(
            CONTAINERS_CONF=str(self.containers_conf),
            CONTAINERS_STORAGE_CONF=str(self.storage_conf),
            CONTAINERS_REGISTRIES_CONF=str(self.dir / "registries.conf"),
            TMPDIR=str(self.dir / "tmp"),
        )

    @property
    def base_url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def can_run_containers(self) -> bool:
        """True when the OCI runtime can start containers here (runc; crun cannot)."""
        return self.runtime == "runc" and shutil.which("runc") is not None

    def _prepare(self) -> None:
        d = self.dir
        for sub in ("root", "runroot", "tmp", "libpod", "networks", "cni-plugins"):
            (d / sub).mkdir(exist_ok=True)
        ulimits = [
            # podman caps itself at nproc 32768 and tries nofile 1048576 (root defaults)
            _ulimit("nofile", resource.RLIMIT_NOFILE, 1048576),
            _ulimit("nproc", resource.RLIMIT_NPROC, 32768),
        ]
        self.containers_conf.write_text(
            "[containers]\n"
            f"default_ulimits = {jsonlib.dumps(ulimits)}\n"
            'netns = "none"\n'
            "[engine]\n"
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            f'events_logfile_path = "{d}/events.log"\n'
            f'runtime = "{self.runtime}"\n'
            f'tmp_dir = "{d}/libpod"\n'
            f'image_copy_tmp_dir = "{d}/tmp"\n'
            "[network]\n"
            'network_backend = "cni"\n'
            f'network_config_dir = "{d}/networks"\n'
            f'cni_plugin_dirs = ["{d}/cni-plugins"]\n'
        )
        self.storage_conf.write_text(
            "[storage]\n"
            f'driver = "{self.storage_driver}"\n'
            f'graphroot = "{d}/root"\n'
            f'runroot = "{d}/runroot"\n'
        )
        (d / "registries.conf").write_text("unqualified-search-registries = []\n")
        self.socket_path.unlink(missing_ok=True)

    def _command(self) -> list[str]:
        return [self.binary, "system", "service", "--time=0", self.base_url]

    def _popen_kwargs(self) -> dict[str, Any]:
        return {"env": self.env}

    def _ready(self) -> bool:
        if not self.socket_path.exists():
            return False
        status, body = self.api("GET", "/_ping", timeout=2.0)
        return status == 200 and body == "OK"

    def _where(self) -> str:
        return self.base_url

    def api(
        self, method: str, path: str, body: Any = None, timeout: float = 30.0
    ) -> tuple[int, Any]:
        """One HTTP request over the unix socket; JSON answers are decoded."""
        conn = _UnixHTTPConnection(str(self.socket_path), timeout)
        try:
            payload = None if body is None else jsonlib.dumps(body).encode()
            headers = {"Content-Type": "application/json"} if payload is not None else {}
            conn.request(method, path, body=payload, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            if resp.getheader("Content-Type", "").startswith("application/json") and raw:
                return resp.status, jsonlib.loads(raw)
            return resp.status, raw.decode(errors="replace")
        finally:
            conn.close()

    def podman(
        self, *args: str, check: bool = True, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        """Run the podman CLI against this service's storage."""
        result = subprocess.run(
            [self.binary, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise ServerError(
                f"podman {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}"
            )
        return result

    def import_tiny_image(
        self,
        name: str = "localhost/opscheck-tiny:latest",
        binaries: Sequence[str] = ("/bin/sh", "/bin/sleep", "/bin/cat"),
        files: Mapping[str, bytes | str] | None = None,
        cmd: Sequence[str] = ("/bin/sleep", "3600"),
    ) -> str:
        """Build an image offline from host binaries (+ their ldd libraries) and files."""
        paths: set[str] = set()
        for binary in binaries:
            paths.add(binary)
            out = subprocess.run(
                ["ldd", binary], capture_output=True, text=True, timeout=10, check=False
            ).stdout
            paths.update(tok for tok in out.split() if tok.startswith("/"))
        tar_path = self.dir / "tmp" / f"image-{time.monotonic_ns()}.tar"
        tar_path.parent.mkdir(exist_ok=True)
        with tarfile.open(tar_path, "w") as tar:
            for path in sorted(paths):
                tar.add(os.path.realpath(path), arcname=path.lstrip("/"))
            for arc, content in (files or {}).items():
                data = content.encode() if isinstance(content, str) else content
                info = tarfile.TarInfo(arc.lstrip("/"))
                info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
                with tempfile.SpooledTemporaryFile() as buf:
                    buf.write(data)
                    buf.seek(0)
                    tar.addfile(info, buf)
        try:
            self.podman(
                "import", "-q", "--change", f"CMD {jsonlib.dumps(list(cmd))}", str(tar_path), name
            )
        finally:
            tar_path.unlink(missing_ok=True)
        return name

    def _stray_pids(self) -> list[int]:
        """conmon / cleanup processes started for this service (their cmdline names dir)."""
        needle = (str(self.dir) + "/").encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if needle in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
        return pids

    def _reap_strays(self, timeout: float = STOP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while self._stray_pids() and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in self._stray_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _unmount_leftovers(self) -> None:
        prefix = str(self.dir) + "/"
        try:
            lines = Path("/proc/self/mountinfo").read_text().splitlines()
        except OSError:
            return
        mounts = [line.split()[4] for line in lines if len(line.split()) > 4]
        for mnt in sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True):
            subprocess.run(["umount", "-l", mnt], capture_output=True, timeout=10, check=False)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Remove all containers, stop the service, reap conmon and unmount what is left."""
        if self.proc is not None:
            with contextlib.suppress(Exception):
                self.podman("pod", "rm", "-a", "-f", check=False, timeout=30)
                self.podman("rm", "-a", "-f", "-t", "0", check=False, timeout=30)
        super().stop(timeout)
        self._reap_strays()
        self._unmount_leftovers()
