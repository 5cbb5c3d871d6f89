"""A real PostgreSQL server for the tests, from Debian's packages, in a temporary folder.

``initdb`` makes a cluster in a fresh folder and ``pg_ctl`` starts it on
127.0.0.1 at a free port (and a unix socket in the same folder); no root
service, nothing left behind. ``initdb`` refuses to run as root, so as root
(CI, ``scripts/bootstrap test``) every server command runs as the
``postgres`` user that Debian's package makes, through ``runuser``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PostgresServer", "find_binaries"]


def find_binaries() -> Path | None:
    """The folder of the newest installed PostgreSQL's ``initdb`` and ``pg_ctl``, or None."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name),
                        reverse=True) if Path("/usr/lib/postgresql").is_dir() else []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """One throw-away cluster: :meth:`start`, :meth:`stop` (and start again: a network cut), :meth:`remove`."""

    def __init__(self, binaries: Path, user: str = "wallhinge", database: str = "wallhinge"):
        self.binaries, self.user, self.database = binaries, user, database
        self.folder = Path(tempfile.mkdtemp(prefix="wallhinge-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self._as = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")  # Debian's postgresql package makes this user
            except KeyError:
                owner = pwd.getpwnam("nobody")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", owner.pw_name, "--"]

    @property
    def url(self) -> str:
        """The database's SQLAlchemy URL over TCP on loopback."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def _run(self, *command: str) -> None:
        result = subprocess.run([*self._as, *command], capture_output=True, text=True, timeout=60)
        if result.returncode:
            raise RuntimeError(f"{' '.join(command[:2])} failed: {result.stderr.strip() or result.stdout.strip()}")

    def initialise(self) -> "PostgresServer":
        self._run(str(self.binaries / "initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust",
                  "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
        return self

    def start(self) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.folder}"
                   " -c fsync=off -c full_page_writes=off -c synchronous_commit=off")
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "server.log"),
                  "-o", options, "-w", "-t", "30", "start")

    def create_database(self) -> None:
        self._run(str(self.binaries / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
                  self.database)

    def stop(self) -> None:
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except RuntimeError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)
