"""Shared by ``xds query|retrieve|submit|feed``: common options, the client, and one exit code and one
line on stderr for every way a command can fail.

Exit codes: 0 done; 1 the peer refused (an XDS error code, an HL7 AE/AR, a document failing its check);
2 usage or configuration (bad option, bad value, unreadable file; nothing was sent); 3 the peer could not
be reached.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from consumer.client import Client
from consumer.codes import CodeError
from consumer.errors import PeerUnavailable, one_line
from consumer.feed import FeedError
from consumer.params import ParameterError
from consumer.progress import terminal_progress
from xds.config import Settings
from xds.errors import RegistryError, XdsError

OK, XDS_FAILURE, USAGE, UNREACHABLE = 0, 1, 2, 3


def make_client(args: argparse.Namespace, settings: Settings) -> Client:
    return Client.from_settings(
        settings,
        registry_url=getattr(args, "registry", None),
        repository_url=getattr(args, "repository", None),
        timeout=args.timeout,
        progress=terminal_progress,
    )


def fail(message: str) -> None:
    print("xds: " + " ".join(message.split()), file=sys.stderr)


def warn(errors: tuple[RegistryError, ...]) -> None:
    for e in errors:
        fail(f"{'error' if e.is_error else 'warning'}: {e.code}: {e.context}")


def run(action: Callable[[], int]) -> int:
    """Run a command; every failure becomes its exit code and one line."""
    try:
        return action()
    except PeerUnavailable as exc:
        fail(one_line(exc))
        return UNREACHABLE
    except XdsError as exc:
        fail(one_line(exc))
        return XDS_FAILURE
    except FeedError as exc:
        fail(f"HL7 {exc.code}: {exc.text or 'the receiver did not accept the message'}")
        return XDS_FAILURE
    except (ParameterError, CodeError) as exc:
        fail(str(exc))
        return USAGE
    except ConnectionError as exc:
        fail(f"cannot reach the peer: {exc}")
        return UNREACHABLE
    except OSError as exc:
        fail(f"{exc.filename or ''}: {exc.strerror or exc}" if exc.filename else str(exc))
        return USAGE
    except ValueError as exc:
        fail(str(exc))
        return USAGE
    except Exception as exc:  # a bug of ours or a peer's answer we cannot read: still one line
        fail(f"unexpected {type(exc).__name__}: {exc}")
        return XDS_FAILURE
