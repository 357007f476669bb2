"""A throwaway PostgreSQL cluster for the tests (DESIGN.md, "Dependencies and why").

``initdb`` + ``pg_ctl`` into a temporary folder, as the ``postgres`` user when running as root (initdb
refuses to run as root) and as the current user otherwise. Trust authentication, UTF8 with the C locale, no
fsync, listening only on 127.0.0.1 on a free port and on a unix socket inside the folder. At the end
``pg_ctl -m immediate stop`` and the folder is removed, also when the code inside the ``with`` block fails.

    with PostgresCluster() as cluster:
        url = cluster.url                      # postgresql+psycopg://postgres@127.0.0.1:PORT/xds_test
        other = cluster.create_database("x")   # a fresh empty database, cheap (TEMPLATE template0)

Needs PostgreSQL 13 or newer (``DROP DATABASE ... WITH (FORCE)``). When the binaries or the ``postgres``
account are missing, the constructor raises :class:`PostgresUnavailable`; the caller decides whether that
skips or fails (tests/conftest.py fails under CI).
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

SUPERUSER = "postgres"
DEFAULT_DATABASE = "xds_test"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Throwaway: durability is worth nothing here, speed is.
_SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "listen_addresses": "'127.0.0.1'",
}
# the free port is found before the server binds it; another process may take it meanwhile
_START_ATTEMPTS = 5


class PostgresUnavailable(RuntimeError):
    """PostgreSQL (initdb/pg_ctl) or the account to run it as is not available on this machine."""


def _version_key(bindir: str) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,); non-numeric parts sort first
    return tuple(int(part) for part in re.findall(r"\d+", Path(bindir).parent.name)) or (-1,)


def find_binaries() -> tuple[Path, Path]:
    """``(initdb, pg_ctl)`` from PATH, else from the newest ``/usr/lib/postgresql/*/bin`` (Debian's place)."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(initdb), Path(pg_ctl)
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True):
        initdb_path, pg_ctl_path = Path(bindir, "initdb"), Path(bindir, "pg_ctl")
        if os.access(initdb_path, os.X_OK) and os.access(pg_ctl_path, os.X_OK):
            return initdb_path, pg_ctl_path
    raise PostgresUnavailable(
        "PostgreSQL is not installed: no initdb/pg_ctl on PATH nor in /usr/lib/postgresql/*/bin "
        "(Debian: apt-get install postgresql, or run tools/install-system-deps.sh as root)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clean_env() -> dict[str, str]:
    # PGDATA, PGPORT, PGHOST, PGOPTIONS ... of the caller must not leak into the throwaway cluster
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


class PostgresCluster:
    """One throwaway cluster. Use as a context manager, or call :meth:`start` and :meth:`stop`."""

    def __init__(self, base_dir: str | os.PathLike[str] | None = None) -> None:
        """Find the binaries and the account to run them as; nothing is started yet.

        ``base_dir``: where the temporary folder goes (default: the system temp dir). As root, every parent of
        it must be searchable by ``postgres`` (pytest's ``tmp_path`` is not: it lives under a 0700 folder).
        """
        self.initdb, self.pg_ctl = find_binaries()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            try:
                self._postgres_pw: pwd.struct_passwd | None = pwd.getpwnam(SUPERUSER)
            except KeyError:
                raise PostgresUnavailable(
                    f"running as root, but there is no '{SUPERUSER}' user to run initdb/pg_ctl as "
                    "(the Debian postgresql package creates it)"
                ) from None
            self._runas = self._runas_prefix()
        else:
            self._postgres_pw = None
            self._runas = []
        self.base_dir = base_dir
        self.root: Path | None = None
        self.port: int | None = None
        self.version: str = self._binary_version()
        self.timings: dict[str, float] = {}  # seconds per phase: initdb, start, createdb, stop
        self._admin: psycopg.Connection[tuple[object, ...]] | None = None
        self._lock = threading.Lock()

    # -- paths and URLs ----------------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self._require_root() / "data"

    @property
    def socket_dir(self) -> Path:
        return self._require_root() / "socket"

    @property
    def log_file(self) -> Path:
        return self._require_root() / "server.log"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the database created at start."""
        return self.url_for(DEFAULT_DATABASE)

    def url_for(self, dbname: str) -> str:
        if self.port is None:
            raise RuntimeError("the cluster is not running")
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    # -- lifecycle ---------------------------------------------------------------------------------------

    def __enter__(self) -> PostgresCluster:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> str:
        """initdb, start, create the default database; returns its URL. Cleans up after itself on failure."""
        if self.root is not None:
            raise RuntimeError("the cluster is already started")
        self.root = Path(tempfile.mkdtemp(prefix="xds-pg-", dir=self.base_dir))
        try:
            self._prepare_root()
            t0 = time.perf_counter()
            self._run(
                [str(self.initdb), "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust",
                 "-E", "UTF8", "--locale=C", "--no-sync"],
                "initdb",
            )
            self._write_settings()
            t1 = time.perf_counter()
            self._start_server()
            t2 = time.perf_counter()
            self.create_database(DEFAULT_DATABASE)
            t3 = time.perf_counter()
            self.timings.update(initdb=t1 - t0, start=t2 - t1, createdb=t3 - t2)
        except BaseException:
            self.stop()
            raise
        return self.url

    def stop(self) -> None:
        """``pg_ctl -m immediate stop`` and remove the folder. Safe to call twice or after a failed start."""
        if self.root is None:
            return
        t0 = time.perf_counter()
        try:
            if self._admin is not None:
                self._admin.close()
                self._admin = None
            if (self.data_dir / "postmaster.pid").exists():
                result = self._run(
                    [str(self.pg_ctl), "-D", str(self.data_dir), "-m", "immediate", "-w", "-t", "30", "stop"],
                    "pg_ctl stop", check=False,
                )
                if result.returncode != 0:
                    self._kill_postmaster()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
            self.port = None
            self.timings["stop"] = time.perf_counter() - t0

    # -- databases ---------------------------------------------------------------------------------------

    def create_database(self, name: str) -> str:
        """Create an empty database (``TEMPLATE template0``) and return its SQLAlchemy URL."""
        self._check_name(name)
        self._admin_execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(name))
        )
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing the connections still open to it."""
        self._check_name(name)
        self._admin_execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def terminate_connections(self, name: str) -> None:
        """End every connection to a database, as a restart of the server ends them (waiting up to 5 s
        for each to be gone, PostgreSQL 14+)."""
        self._check_name(name)
        self._admin_execute(
            sql.SQL(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = {}"
            ).format(sql.Literal(name))
        )

    # -- internals ---------------------------------------------------------------------------------------

    def _require_root(self) -> Path:
        if self.root is None:
            raise RuntimeError("the cluster is not started")
        return self.root

    @staticmethod
    def _check_name(name: str) -> None:
        if not _NAME.fullmatch(name):
            raise ValueError(f"database name {name!r}: use [a-z_][a-z0-9_]*, at most 63 characters")

    @staticmethod
    def _runas_prefix() -> list[str]:
        if runuser := shutil.which("runuser"):
            return [runuser, "-u", SUPERUSER, "--"]
        if su := shutil.which("su"):
            return [su, SUPERUSER, "-s", "/bin/sh", "-c"]  # the command goes in as one shell string
        raise PostgresUnavailable("running as root, but neither runuser nor su is there to run as postgres")

    def _command(self, argv: list[str]) -> list[str]:
        if not self._runas:
            return argv
        if self._runas[-1] == "-c":  # su
            return [*self._runas, shlex.join(argv)]
        return [*self._runas, *argv]

    def _run(self, argv: list[str], what: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        # cwd: postgres may not be allowed into the caller's working directory
        result = subprocess.run(
            self._command(argv), cwd=self.root or "/", env=_clean_env(), capture_output=True, text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{what} failed (exit {result.returncode}): {shlex.join(argv)}\n"
                f"{result.stdout}{result.stderr}"
            )
        return result

    def _binary_version(self) -> str:
        out = subprocess.run(
            [str(self.pg_ctl), "--version"], capture_output=True, text=True, check=True, env=_clean_env()
        ).stdout
        match = re.search(r"\)\s+(\d+(?:\.\d+)?)", out)
        return match.group(1) if match else out.strip()

    def _prepare_root(self) -> None:
        root = self._require_root()
        self.socket_dir.mkdir(mode=0o700)
        if self._postgres_pw is None:
            return
        for path in (root, self.socket_dir):
            os.chown(path, self._postgres_pw.pw_uid, self._postgres_pw.pw_gid)
        if self._run(["test", "-w", str(root)], "access check", check=False).returncode != 0:
            raise RuntimeError(
                f"the '{SUPERUSER}' user cannot write to {root}: every parent folder must be searchable "
                "by it (pass a base_dir under /tmp, not pytest's tmp_path)"
            )

    def _write_settings(self) -> None:
        settings = {**_SERVER_SETTINGS, "unix_socket_directories": f"'{self.socket_dir}'"}
        lines = "".join(f"{key} = {value}\n" for key, value in settings.items())
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# throwaway test cluster (tests/pg_cluster.py)\n" + lines)

    def _start_server(self) -> None:
        for attempt in range(1, _START_ATTEMPTS + 1):
            port = _free_port()
            result = self._run(
                [str(self.pg_ctl), "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60",
                 "-o", f"-p {port}", "start"],
                "pg_ctl start", check=False,
            )
            if result.returncode == 0:
                self.port = port
                return
            log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
            if "could not bind" not in log or attempt == _START_ATTEMPTS:
                raise RuntimeError(
                    f"pg_ctl start failed (exit {result.returncode}):\n{result.stdout}{result.stderr}\n"
                    f"server log:\n{log[-4000:]}"
                )
            self.log_file.unlink()

    def _kill_postmaster(self) -> None:
        """pg_ctl stop failed: SIGQUIT (immediate shutdown) to our own postmaster, then SIGKILL."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.05)

    def _admin_execute(self, statement: sql.Composable) -> None:
        with self._lock:
            if self._admin is None or self._admin.closed:
                if self.port is None:
                    raise RuntimeError("the cluster is not running")
                self._admin = psycopg.connect(
                    host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
                )
            self._admin.execute(statement)
