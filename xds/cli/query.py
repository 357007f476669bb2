"""``xds query QUERY``: any ITI-18 stored query (ITI TF-2a 3.18.4.1.2.3.7), printed as tables or JSON."""

from __future__ import annotations

import argparse
from pathlib import Path

from xds.config import Settings

# friendly flags and the Python parameter name(s) they fill (when the query takes them)
_FLAGS = {
    "pid": ("patient_id",),
    "class_code": ("class_code",),
    "type_code": ("type_code",),
    "format_code": ("format_code",),
    "practice_setting": ("practice_setting_code",),
    "facility": ("healthcare_facility_type_code",),
    "event": ("event_code_list",),
    "confidentiality": ("confidentiality_code",),
    "uuid": ("entry_uuid", "uuid"),
    "unique_id": ("unique_id",),
    "association_type": ("association_types",),
    "created_from": ("creation_time_from",),
    "created_to": ("creation_time_to",),
}


def add_endpoint_options(
    parser: argparse.ArgumentParser, *, registry: bool = True, repository: bool = True
) -> None:
    if registry:
        parser.add_argument("--registry", metavar="URL", help="ITI-18 endpoint (default: the settings')")
    if repository:
        parser.add_argument("--repository", metavar="URL", help="ITI-41/43 endpoint (default: the settings')")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for an answer")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "query", help="ITI-18 Registry Stored Query",
        description="Run a stored query, e.g. find-documents, get-all, get-documents, get-related-documents.",
    )
    p.add_argument("query_name", metavar="QUERY", help="find-documents, get-documents ... or the query UUID")
    p.add_argument("--pid", help="patient ID (XAD-PID, ID^^^&OID&ISO)")
    p.add_argument("--status", action="append", help="approved (default), deprecated, submitted; repeatable")
    p.add_argument("--class", dest="class_code", action="append", metavar="CODE")
    p.add_argument("--type", dest="type_code", action="append", metavar="CODE")
    p.add_argument("--format", dest="format_code", action="append", metavar="CODE")
    p.add_argument("--practice-setting", action="append", metavar="CODE")
    p.add_argument("--facility", action="append", metavar="CODE", help="healthcareFacilityTypeCode")
    p.add_argument("--event", action="append", metavar="CODE", help="eventCodeList; repeated: all of them")
    p.add_argument("--confidentiality", action="append", metavar="CODE")
    p.add_argument("--uuid", action="append", metavar="UUID", help="entryUUID(s) for the Get... queries")
    p.add_argument("--unique-id", action="append", metavar="ID", help="uniqueId(s) for the Get... queries")
    p.add_argument("--association-type", action="append", metavar="TYPE", help="RPLC, APND, XFRM ...")
    p.add_argument("--created-from", metavar="DTM")
    p.add_argument("--created-to", metavar="DTM")
    p.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE",
        help="any parameter of the query, by its name ($XDSDocumentEntryClassCode or class_code)",
    )
    p.add_argument("--object-refs", action="store_true", help="ask for ObjectRefs instead of LeafClass")
    p.add_argument("--config", type=Path, help="TOML configuration file")
    add_endpoint_options(p, repository=False)


def _params(args: argparse.Namespace):  # noqa: ANN202 - a consumer.cli_values.CliParams
    from consumer.cli_values import CliParams
    from consumer.params import ParameterError, parameter_names, query_by_name
    from xds.validation.query_tables import Kind

    params = CliParams(query_by_name(args.query_name))
    names = parameter_names(params.query)
    for flag, targets in _FLAGS.items():
        values = getattr(args, flag)
        if values is None:
            continue
        target = next((t for t in targets if t in names), None)
        if target is None:
            raise ParameterError(f"{args.query_name} takes no --{flag.replace('_', '-')}")
        for value in values if isinstance(values, list) else [values]:
            params.add(target, value)
    for pair in args.param:
        params.add_pair(pair)
    # --status fills every status parameter of the query (GetAll has three); approved unless given
    for spec in params.specs(Kind.STATUS_LIST):
        if not params.has(spec.name):
            for status in args.status or ["approved"]:
                params.add(spec.name, status)
    if args.status and not params.specs(Kind.STATUS_LIST):
        raise ParameterError(f"{args.query_name} takes no --status")
    return params


def run_query(args: argparse.Namespace, settings: Settings) -> int:
    from consumer.command import OK, make_client, run, warn
    from consumer.output import query_json, query_text

    def action() -> int:
        params = _params(args)
        with make_client(args, settings) as client:
            response = client.query(
                params.query, params.build(), object_refs=args.object_refs, raw=params.raw
            )
        print(query_json(response) if args.json else query_text(response))
        warn(response.errors)
        return OK

    return run(action)
