"""``xds up`` and ``xds serve ACTOR``: one HTTP port for all SOAP endpoints, plus the actors' listeners."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys

import uvicorn

from xds.config import Settings
from xds.runtime import ActorService, load_actor, services_app


def build_services(settings: Settings, only: str | None = None) -> tuple[list[ActorService], list[str]]:
    services, missing = [], []
    for name in [only] if only else settings.actors:
        service = load_actor(name, settings)
        if service is None:
            missing.append(name)
        else:
            services.append(service)
    return services, missing


def run_up(settings: Settings, only: str | None = None) -> int:
    services, missing = build_services(settings, only)
    if only and missing:
        print(f"xds: the {only} actor is not part of this version yet", file=sys.stderr)
        return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.spool_dir.mkdir(parents=True, exist_ok=True)
    app = services_app(services)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it (Linux): without it, a response written as head + body waits for the
    # client's delayed ACK, 40 ms per request
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((settings.http_host, settings.http_port))
    except OSError as exc:
        print(f"xds: cannot bind HTTP {settings.http_host}:{settings.http_port}: {exc}", file=sys.stderr)
        return 1
    host, port = sock.getsockname()[:2]
    base = f"http://{host}:{port}"
    print(f"xds {'serve ' + only if only else 'up'}: data in {settings.data_dir.resolve()}")
    print(f"  GET  {base}/health")
    for service in services:
        for endpoint in service.endpoints:
            print(f"  {service.name}: {endpoint.replace('{base}', base)}")
    if missing:
        print(f"  (not part of this version yet: {', '.join(missing)})")
    sys.stdout.flush()

    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve(sockets=[sock]))
    return 0
