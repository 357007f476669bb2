"""``xds up`` and ``xds serve ACTOR``: one HTTP port for all SOAP endpoints, plus the actors' listeners."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import ssl
import sys
import threading
import traceback
from dataclasses import replace

import uvicorn
from starlette.applications import Starlette

from consumer.imaging.config import with_consumer_destination
from xds.audit.trail import AuditTrail, audit_destination, install, outbox_path
from xds.config import ConfigError, Settings
from xds.runtime import ActorService, load_actor, services_app
from xds.tls import server_context


def build_services(settings: Settings, only: str | None = None) -> tuple[list[ActorService], list[str]]:
    services, missing = [], []
    for name in [only] if only else settings.actors:
        service = load_actor(name, settings)
        if service is None:
            missing.append(name)
        else:
            services.append(service)
    return services, missing


def run_up(settings: Settings, only: str | None = None, demo: bool = False) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.spool_dir.mkdir(parents=True, exist_ok=True)
    try:
        sock = _listen(settings)
    except OSError as exc:
        print(f"xds: cannot bind HTTP {settings.http_host}:{settings.http_port}: {exc}", file=sys.stderr)
        return 1
    host, port = sock.getsockname()[:2]
    # the actors learn the port bound (port 0: a free one), e.g. the repository's URL of this registry
    settings = replace(settings, http_port=port)
    try:
        tls = server_context(settings)
        # DESIGN.md: the domain knows the C-MOVE destination that `xds images --via cmove` opens
        settings = with_consumer_destination(settings)
        audit_destination(settings)
    except ConfigError as exc:
        print(f"xds: configuration: {exc}", file=sys.stderr)
        return 2
    # extra HTTP workers are forked before this process opens databases or starts threads; each waits
    # until this one has started its services (start-up sweeps run before any worker takes a request)
    ready_r, ready_w = os.pipe()
    workers = [_fork_worker(settings, only, sock, ready_r, ready_w) for _ in range(settings.http_workers - 1)]
    os.close(ready_r)
    trail = AuditTrail(settings)
    install(trail)  # ITI-20: every transaction this process answers is recorded (xds.audit.trail)
    try:
        services, missing = build_services(settings, only)
        if only and missing:
            print(f"xds: the {only} actor is not part of this version yet", file=sys.stderr)
            return 2
        base = f"{'https' if tls else 'http'}://{host}:{port}"
        print(f"xds {'serve ' + only if only else 'up'}: data in {settings.data_dir.resolve()}")
        print(f"  GET  {base}/health")
        for service in services:
            for endpoint in service.endpoints:
                print(f"  {service.name}: {endpoint.replace('{base}', base)}")
        if missing:
            print(f"  (not part of this version yet: {', '.join(missing)})")
        if workers:
            print(f"  {len(workers) + 1} HTTP processes")
        if not settings.audit_repository and all(s.name != "audit" for s in services):
            print(f"  audit: no audit_repository configured; records wait in {outbox_path(settings)}")
        sys.stdout.flush()
        trail.start()
        def started() -> None:
            os.write(ready_w, b"go" * len(workers))
            if demo:  # `xds up --demo` (make run): load the demo data once every actor listens
                threading.Thread(target=_demo, args=(settings,), daemon=True).start()

        _serve(services_app(services, on_started=started), sock, tls)
    finally:
        trail.stop()
        os.close(ready_w)  # a worker still waiting reads end-of-file and ends
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in workers:
            os.waitpid(pid, 0)
    return 0


def _demo(settings: Settings) -> None:
    from consumer.command import run
    from xds.cli.demo import demo

    run(lambda: demo(settings))  # a failure is one line on stderr; the domain keeps running


def _listen(settings: Settings) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it (Linux): without it, a response written as head + body waits for the
    # client's delayed ACK, 40 ms per request
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((settings.http_host, settings.http_port))
    return sock


def _serve(app: Starlette, sock: socket.socket, tls: ssl.SSLContext | None) -> None:
    # ITI TF-2a 3.19.6.1 (ATNA): with TLS configured the port speaks HTTPS with mutual authentication only
    factory = None if tls is None else (lambda _config, _default: tls)
    # an idle kept-alive TLS connection is only dropped once its peer answers the TLS close, which an idle
    # client may never do: after this many seconds the shutdown goes on without it
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", ssl_context_factory=factory, timeout_graceful_shutdown=10
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


def _fork_worker(settings: Settings, only: str | None, sock: socket.socket, ready: int, go: int) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        os.close(go)  # only the first process writes; so a worker sees end-of-file when that one is gone
        _end_with_parent()
        if os.read(ready, 2) == b"go":
            # records of this worker wait in the shared outbox; the first process delivers them
            trail = AuditTrail(settings)
            install(trail)
            services, _ = build_services(settings, only)
            # the same routes; listeners and start-up work belong to the first process
            app = services_app([replace(s, startup=(), shutdown=()) for s in services])
            try:
                _serve(app, sock, server_context(settings))
            finally:
                trail.stop()  # what is still queued goes to the outbox
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def _end_with_parent() -> None:
    """Linux prctl(PR_SET_PDEATHSIG): a worker is sent SIGTERM when the process that forked it dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
