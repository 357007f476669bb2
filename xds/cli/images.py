"""``xds images --pid PID --out DIR [--via ...] [--forward AE@host:port]``: the Imaging Document Consumer
(XDS-I.b). The patient's KOS manifests by ITI-18 and ITI-43, their instances by RAD-69 (RAD TF-3 4.69),
WADO-URI (RAD-55, RAD TF-3 4.55), WADO-RS (RAD-107, RAD TF-3 4.107) or C-MOVE, every referenced instance
checked, then a DICOM folder with a DICOMDIR and/or C-STORE to a PACS.

Exit codes as for the other consumer commands: 0 every referenced instance arrived (and was forwarded);
1 no manifest for the patient, or instances missing (each is named on stderr); 2 usage; 3 a peer could not
be reached.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from xds.cli.query import add_endpoint_options
from xds.config import Settings

VIA = ("auto", "rad69", "wado", "wado-rs", "cmove")
SHOWN = 10  # missing instances named one per line; the rest counted (--json lists all)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "images", help="fetch a patient's images (XDS-I.b Imaging Document Consumer)",
        description="Find the patient's KOS manifests (ITI-18), retrieve them (ITI-43) and fetch every "
        "instance they reference, into a DICOM folder with a DICOMDIR and/or to a PACS by C-STORE.",
    )
    p.add_argument("--pid", required=True, help="patient ID (XAD-PID, ID^^^&OID&ISO)")
    p.add_argument("--out", type=Path, metavar="DIR", help="folder for the DICOM File-set (DICOMDIR)")
    p.add_argument(
        "--via", choices=VIA, default="auto",
        help="rad69 (RAD-69), wado (WADO-URI), wado-rs (WADO-RS) or cmove (C-MOVE to our own AE); "
        "auto: WADO-RS where the manifest gives a Retrieve URL, else RAD-69",
    )
    p.add_argument("--forward", metavar="AE@HOST:PORT", help="C-STORE the instances to this PACS")
    p.add_argument(
        "--source-url", metavar="URL",
        help="HTTP base of the Imaging Document Source (default: this domain's HTTP port)",
    )
    p.add_argument(
        "--dicom-source", action="append", default=[], metavar="AE@HOST:PORT",
        help="where a Retrieve AE Title of the manifests listens (C-MOVE); the domain's own is known",
    )
    p.add_argument(
        "--with-manifests", action="store_true",
        help="put the KOS manifests into the File-set too (pydicom's KEY OBJECT DOC records do not pass "
        "dciodvfy; without them the DICOMDIR does)",
    )
    p.add_argument("--config", type=Path, help="TOML configuration file")
    add_endpoint_options(p)


def run_images(args: argparse.Namespace, settings: Settings) -> int:
    from consumer.command import OK, USAGE, XDS_FAILURE, fail, make_client, run
    from consumer.imaging import ImagingConsumer, ManifestError, NoManifests, Sources, parse_target, receiver
    from consumer.output import table
    from consumer.progress import terminal_progress

    def action() -> int:
        if args.out is None and not args.forward:
            fail("give --out DIR, --forward AE@HOST:PORT or both")
            return USAGE
        target = parse_target(args.forward) if args.forward else None
        sources = Sources.from_settings(settings, url=args.source_url, dicom=args.dicom_source)
        with make_client(args, settings) as client:
            consumer = ImagingConsumer(
                client, sources, receiver(settings), timeout=args.timeout, progress=terminal_progress
            )
            try:
                result = consumer.images(
                    args.pid, args.out, via=args.via, forward_to=target,
                    include_manifests=args.with_manifests,
                )
            except (NoManifests, ManifestError) as exc:
                fail(str(exc))
                return XDS_FAILURE
        if args.json:
            print(json.dumps(_json(result), indent=2, ensure_ascii=False))
        else:
            print(_text(result, table))
        for m in result.missing[:SHOWN]:
            fail(f"missing {m.ref.sop_instance_uid} (series {m.ref.series_uid}): {m.reason}")
        if len(result.missing) > SHOWN:
            more = len(result.missing) - SHOWN
            fail(f"missing {more} more of {len(result.referenced)} referenced instances")
        if result.forwarded:
            for uid, why in result.forwarded.failed.items():
                fail(f"not forwarded {uid}: {why}")
        for uid, why in result.skipped.items():
            fail(f"warning: {uid}: {why}")
        return OK if result.ok else XDS_FAILURE

    return run(action)


def _json(result) -> dict:  # noqa: ANN001 - consumer.imaging.ImagesResult
    refs = {r.sop_instance_uid: r for r in result.referenced}
    return {
        "patient_id": result.patient_id,
        "via": result.via,
        "manifests": [m.sop_instance_uid for m in result.manifests],
        "referenced": len(result.referenced),
        "received": len(result.referenced) - len(result.missing),
        "files": [
            {"sop_instance_uid": uid, "study_uid": refs[uid].study_uid, "series_uid": refs[uid].series_uid,
             "file": str(path)}
            for uid, path in result.files.items()
        ],
        "missing": [
            {"sop_instance_uid": m.ref.sop_instance_uid, "study_uid": m.ref.study_uid,
             "series_uid": m.ref.series_uid, "reason": m.reason}
            for m in result.missing
        ],
        "dicomdir": str(result.dicomdir) if result.dicomdir else None,
        "forwarded": None if result.forwarded is None else {
            "sent": len(result.forwarded.sent), "failed": result.forwarded.failed,
        },
    }


def _text(result, table) -> str:  # noqa: ANN001
    counts: dict[tuple[str, str], list[int]] = {}
    missing = {m.ref.sop_instance_uid for m in result.missing}
    for r in result.referenced:
        row = counts.setdefault((r.study_uid, r.series_uid), [0, 0])
        row[0] += 1
        row[1] += r.sop_instance_uid not in missing
    rows = [(study, series, n, got) for (study, series), (n, got) in counts.items()]
    lines = [
        f"{len(result.manifests)} manifest(s) for {result.patient_id}, via {result.via}",
        table(("study", "series", "referenced", "received"), rows),
    ]
    if result.dicomdir:
        lines.append(f"DICOM folder: {result.dicomdir.parent} (DICOMDIR, {len(result.files)} instances)")
    if result.forwarded:
        lines.append(f"forwarded: {len(result.forwarded.sent)} instances by C-STORE")
    return "\n".join(lines)
