"""What an actor package hands to ``xds up`` / ``xds serve``: its HTTP routes and its listeners.

Each actor package exposes ``service(settings) -> ActorService`` in ``<package>/service.py``; actors meet only
through their transactions, so this is all the process needs to know of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from starlette.routing import BaseRoute

from xds.config import Settings

ACTOR_PACKAGES = {
    "registry": "registry",
    "repository": "repository",
    "pix": "pix",
    "imaging-source": "imaging_source",
}


@dataclass
class ActorService:
    name: str
    routes: Sequence[BaseRoute] = ()
    startup: Sequence[Callable[[], Awaitable[None]]] = ()  # listeners (MLLP, DICOM) started with the server
    shutdown: Sequence[Callable[[], Awaitable[None]]] = ()
    endpoints: Sequence[str] = field(default_factory=list)  # human-readable, printed by `xds up`


def load_actor(name: str, settings: Settings) -> ActorService | None:
    """The actor's service, or None while its package is not part of this version."""
    try:
        module = importlib.import_module(ACTOR_PACKAGES[name] + ".service")
    except ModuleNotFoundError as exc:
        if exc.name in (ACTOR_PACKAGES[name], ACTOR_PACKAGES[name] + ".service"):
            return None
        raise
    return module.service(settings)
