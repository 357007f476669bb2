"""Document Consumer (ITI-18, ITI-43), with Document Source (ITI-41) and Patient Identity Source (ITI-8)
sending for the ``xds`` command line. Only standard messages go on the wire."""

from consumer.client import Client, SubmitResult
from consumer.codes import CodeError, resolve_code
from consumer.errors import PeerUnavailable, one_line
from consumer.feed import Ack, FeedError, build_adt, send_feed
from consumer.params import ParameterError, parameter_names, query_by_name, query_cli_name
from consumer.relations import Related
from consumer.retrieve import RetrievedFile, RetrieveResult
from consumer.submit import DEFAULT_CODES, SubmitOptions

__all__ = [
    "DEFAULT_CODES",
    "Ack",
    "Client",
    "CodeError",
    "FeedError",
    "ParameterError",
    "PeerUnavailable",
    "Related",
    "RetrieveResult",
    "RetrievedFile",
    "SubmitOptions",
    "SubmitResult",
    "build_adt",
    "one_line",
    "parameter_names",
    "query_by_name",
    "query_cli_name",
    "resolve_code",
    "send_feed",
]
