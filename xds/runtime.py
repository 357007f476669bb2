"""What an actor package hands to ``xds up`` / ``xds serve``: its HTTP routes and its listeners.

Each actor package exposes ``service(settings) -> ActorService`` in ``<package>/service.py``; actors meet only
through their transactions, so this is all the process needs to know of them.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from xds.config import Settings
from xds.soap import create_app
from xds.tls import TlsConfig

ACTOR_PACKAGES = {
    "registry": "registry",
    "repository": "repository",
    "pix": "pix",
    "imaging-source": "imaging_source",
    "audit": "xds.audit",  # the built-in Audit Record Repository
}


@dataclass
class ActorService:
    name: str
    routes: Sequence[BaseRoute] = ()
    startup: Sequence[Callable[[], Awaitable[None]]] = ()  # listeners (MLLP, DICOM) started with the server
    shutdown: Sequence[Callable[[], Awaitable[None]]] = ()
    endpoints: Sequence[str] = field(default_factory=list)  # human-readable, printed by `xds up`


def services_app(
    services: Sequence[ActorService], on_started: Callable[[], None] | None = None
) -> Starlette:
    """The ASGI app of ``services``: their routes, /health, and their listeners run with the app;
    ``on_started`` is called once every service has started."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        started: list[ActorService] = []
        try:
            for service in services:
                for start in service.startup:
                    await start()
                started.append(service)
            if on_started is not None:
                on_started()
            yield
        finally:
            for service in reversed(started):
                for stop in service.shutdown:
                    await stop()

    routes = [route for service in services for route in service.routes]
    return create_app(routes, actors=[s.name for s in services], lifespan=lifespan)


_WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def local_host(settings: Settings) -> str:
    """The address other actors of this node connect to: the listen address, loopback for a wildcard."""
    return _WILDCARD_HOSTS.get(settings.http_host, settings.http_host)


def local_url(settings: Settings, path: str = "") -> str:
    """The URL of ``path`` on this node's HTTP port, as another actor of the node reaches it: https when
    the node speaks TLS (xds.tls)."""
    host = local_host(settings)
    if ":" in host:
        host = f"[{host}]"
    scheme = "https" if TlsConfig.from_settings(settings) is not None else "http"
    return f"{scheme}://{host}:{settings.http_port}{path}"


def load_actor(name: str, settings: Settings) -> ActorService | None:
    """The actor's service, or None while its package is not part of this version."""
    try:
        module = importlib.import_module(ACTOR_PACKAGES[name] + ".service")
    except ModuleNotFoundError as exc:
        if exc.name in (ACTOR_PACKAGES[name], ACTOR_PACKAGES[name] + ".service"):
            return None
        raise
    return module.service(settings)
