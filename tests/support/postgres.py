"""A throw-away PostgreSQL cluster for tests (stdlib only).

    with temporary_postgres() as dsn:   # postgres://postgres@127.0.0.1:PORT/ashyq_test
        ...

Run a command against one:  python tests/support/postgres.py -- pytest -q
(the command gets CIVIC_DATABASE_URL set to the DSN; its exit code is returned).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

DATABASE = "ashyq_test"


def postgres_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin that has initdb, or None."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not found:
        return None
    newest = max(found, key=lambda p: int(Path(p).parent.parent.name.split(".")[0]))
    return Path(newest).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*cmd: str | Path) -> list[str]:
    # PostgreSQL refuses to run as root, so root drops to the postgres user.
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return prefix + [str(c) for c in cmd]


def _run(*cmd: str | Path) -> None:
    result = subprocess.run(_as_postgres(*cmd), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{result.stdout}{result.stderr}")


@contextlib.contextmanager
def temporary_postgres() -> Iterator[str]:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="ashyq-pg-"))
    data, log = tmp / "data", tmp / "log"
    if os.geteuid() == 0:
        shutil.chown(tmp, user="postgres", group="postgres")
    options = (
        f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1"
        # durability is pointless for a test cluster; these make it much faster
        " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        " -c max_connections=300"
    )
    try:
        _run(bin_dir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
             "--locale=C.UTF-8")  # C.UTF-8 so lower()/upper() fold Kazakh and Russian letters
        _run(bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start")
        _run(bin_dir / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", DATABASE)
        yield f"postgres://postgres@127.0.0.1:{port}/{DATABASE}"
    finally:
        if (data / "postmaster.pid").exists():  # also after a start that timed out
            subprocess.run(_as_postgres(bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"),
                           capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print("usage: python tests/support/postgres.py -- CMD [ARGS...]", file=sys.stderr)
        return 2
    # turn SIGTERM (e.g. a CI timeout) into an exception so the cluster is still stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with temporary_postgres() as dsn:
        print(f"PostgreSQL test cluster: {dsn}", file=sys.stderr, flush=True)
        return subprocess.run(argv, env={**os.environ, "CIVIC_DATABASE_URL": dsn}).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
