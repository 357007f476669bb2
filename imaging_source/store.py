"""The instance store: DICOM files on disk (study/series/instance) and their index, kept in step.

Layout under ``<data_dir>/imaging/``:
  ``instances/<study>/<series>/<sop>.dcm``  received instances, PS3.10 files as the peer sent them
  ``manifests/<study>/<kos>.dcm``           the KOS manifests built for RAD-68
  ``transcoded/<transfer syntax>/<sop>.dcm`` instances re-encoded for a retrieve (a cache; may be deleted)
  ``tmp/``                                 files being written

Order of operations: the file is fsynced, renamed into place and its folder fsynced, then the index row is
committed. A crash between the two leaves a file without row (invisible, overwritten by the next copy);
never a row without its file. A SOP Instance UID that is already held is not stored again (duplicates are
idempotent).
All methods block; async callers use anyio.to_thread.
"""

from __future__ import annotations

import errno
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Row, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from imaging_source import tables as t
from imaging_source.instance_meta import InstanceMeta
from xds.db import make_engine, migrate, writer
from xds.files import fsync_dir, fsync_file

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CHUNK = 1 << 20
_SERIES_CACHE = 100_000  # series UIDs remembered as indexed (then forgotten all at once)

# the statements of the intake path, built once (SQLAlchemy caches their compiled form by identity)
_HAS_INSTANCE = select(t.instance.c.sop_instance_uid).where(
    t.instance.c.sop_instance_uid == bindparam("uid")
)
_HAS_SERIES = select(t.series.c.series_uid).where(t.series.c.series_uid == bindparam("uid"))
_TOUCH_STUDY = (
    update(t.study)
    .where(t.study.c.study_uid == bindparam("uid"))
    .values(last_received=bindparam("now"), dirty=True)
)
_INSERT_INSTANCE = insert(t.instance)


def _fsync_in_place(source: Path, target: Path) -> bool:
    """Flush ``source`` and rename it to ``target`` when both are on one file system (no copy); False, with
    nothing done, when they are not."""
    try:
        if os.stat(source).st_dev != os.stat(target.parent).st_dev:
            return False
        fsync_file(source)
        os.replace(source, target)
    except OSError as exc:
        if exc.errno == errno.EXDEV:
            return False
        raise
    return True


def _safe(uid: str) -> str:
    # UIDs are digits and dots (checked on intake); keep anything else out of paths all the same
    return "".join(c if c.isdigit() or c == "." else "_" for c in uid) or "_"


@dataclass(frozen=True)
class StoredInstance:
    sop_instance_uid: str
    sop_class_uid: str
    study_uid: str
    series_uid: str
    transfer_syntax_uid: str
    instance_number: int | None
    has_pixels: bool
    path: Path
    size: int


@dataclass(frozen=True)
class Manifest:
    kos_uid: str
    study_uid: str
    entry_uuid: str
    path: Path
    instance_count: int
    state: str
    replaces: str | None


class InstanceStore:
    def __init__(self, engine_url: str, root: Path) -> None:
        self.root = Path(root)
        for folder in (self.instances, self.manifests, self.transcoded, self.tmp):
            folder.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(engine_url)
        migrate(self.engine, MIGRATIONS)
        self._writer = writer(self.engine)
        self._series: set[str] = set()  # series known to be indexed

    def close(self) -> None:
        self.engine.dispose()

    @property
    def instances(self) -> Path:
        return self.root / "instances"

    @property
    def manifests(self) -> Path:
        return self.root / "manifests"

    @property
    def transcoded(self) -> Path:
        return self.root / "transcoded"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._writer.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def new_tmp(self, suffix: str = ".dcm") -> Path:
        return self.tmp / f"{uuid.uuid4().hex}{suffix}"

    # --- intake ---------------------------------------------------------------------------------------

    def has(self, sop_instance_uid: str) -> bool:
        with self.read() as conn:
            found = conn.execute(_HAS_INSTANCE, {"uid": sop_instance_uid}).first()
        return found is not None

    def add(self, source: Path, meta: InstanceMeta, *, move: bool = True) -> bool:
        """Store the checked file at ``source`` (moved when ``move``, else copied) and index it. Returns
        False when the instance was already held (nothing changes; ``source`` is left to the caller).

        On return the file and its directory entry are on disk (one fsync of the file before it gets its
        name, one of its folder after): PS3.4 B.2.3 lets the C-STORE SCP answer Success only once it "has
        successfully stored" the instance, so this happens per instance, before the answer."""
        if self.has(meta.sop_instance_uid):
            return False
        relative = f"{_safe(meta.study_uid)}/{_safe(meta.series_uid)}/{_safe(meta.sop_instance_uid)}.dcm"
        target = self.instances / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        # a received file is flushed where it was written and renamed into place; an import, or a file on
        # another file system, is copied under tmp/, flushed, then renamed into place
        if not (move and _fsync_in_place(source, target)):
            temporary = self.new_tmp()
            try:
                shutil.copyfile(source, temporary)
                fsync_file(temporary)
                os.replace(temporary, target)
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
        fsync_dir(target.parent)
        try:
            self._index(meta, relative, target.stat().st_size)
        except IntegrityError:
            return False  # the same instance, stored concurrently: the other copy's row stands
        return True

    def _index(self, meta: InstanceMeta, relative: str, size: int) -> None:
        # one short write transaction of prepared statements (their SQL is compiled once, not per instance)
        now = time.time()
        with self.write() as conn:
            updated = conn.execute(_TOUCH_STUDY, {"uid": meta.study_uid, "now": now})
            if updated.rowcount == 0:
                conn.execute(
                    insert(t.study),
                    dict(
                        study_uid=meta.study_uid,
                        patient_id=meta.patient_id,
                        issuer=meta.issuer,
                        patient_name=meta.patient_name,
                        birth_date=meta.birth_date,
                        sex=meta.sex,
                        study_date=meta.study_date,
                        study_time=meta.study_time,
                        accession=meta.accession,
                        study_id=meta.study_id,
                        description=meta.study_description,
                        referring=meta.referring,
                        last_received=now,
                        dirty=True,
                    ),
                )
            known = meta.series_uid in self._series
            if not known and conn.execute(_HAS_SERIES, {"uid": meta.series_uid}).first() is None:
                conn.execute(
                    insert(t.series),
                    dict(
                        series_uid=meta.series_uid,
                        study_uid=meta.study_uid,
                        modality=meta.modality,
                        series_number=meta.series_number,
                        description=meta.series_description,
                        body_part=meta.body_part,
                        anatomic_region=meta.anatomic_region,
                    ),
                )
            conn.execute(
                _INSERT_INSTANCE,
                dict(
                    sop_instance_uid=meta.sop_instance_uid,
                    series_uid=meta.series_uid,
                    study_uid=meta.study_uid,
                    sop_class_uid=meta.sop_class_uid,
                    transfer_syntax_uid=meta.transfer_syntax_uid,
                    instance_number=meta.instance_number,
                    has_pixels=meta.has_pixels,
                    path=relative,
                    size=size,
                    received=now,
                ),
            )
        # series rows are never deleted: once committed, later instances skip the look-up
        if len(self._series) > _SERIES_CACHE:
            self._series.clear()
        self._series.add(meta.series_uid)

    # --- reads ------------------------------------------------------------------------------------------

    def _instance(self, row: Row) -> StoredInstance:
        return StoredInstance(
            row.sop_instance_uid,
            row.sop_class_uid,
            row.study_uid,
            row.series_uid,
            row.transfer_syntax_uid,
            row.instance_number,
            bool(row.has_pixels),
            self.instances / row.path,
            row.size,
        )

    def find_instances(
        self,
        *,
        study_uid: str | None = None,
        series_uid: str | None = None,
        sop_uids: Iterable[str] | None = None,
    ) -> list[StoredInstance]:
        query = select(t.instance)
        if study_uid is not None:
            query = query.where(t.instance.c.study_uid == study_uid)
        if series_uid is not None:
            query = query.where(t.instance.c.series_uid == series_uid)
        found: list[StoredInstance] = []
        with self.read() as conn:
            if sop_uids is None:
                rows = conn.execute(
                    query.order_by(t.instance.c.series_uid, t.instance.c.instance_number)
                ).all()
                return [self._instance(row) for row in rows]
            wanted = sorted(set(sop_uids))
            for start in range(0, len(wanted), 500):
                batch = wanted[start : start + 500]
                rows = conn.execute(query.where(t.instance.c.sop_instance_uid.in_(batch))).all()
                found.extend(self._instance(row) for row in rows)
        return found

    def study(self, study_uid: str) -> Row | None:
        with self.read() as conn:
            return conn.execute(select(t.study).where(t.study.c.study_uid == study_uid)).first()

    def series_of(self, study_uid: str) -> list[Row]:
        with self.read() as conn:
            return list(
                conn.execute(
                    select(t.series).where(t.series.c.study_uid == study_uid).order_by(t.series.c.series_uid)
                )
            )

    def studies_to_publish(self, idle_before: float | None = None) -> list[str]:
        """Studies with instances not yet in a published manifest (and, with ``idle_before``, quiet since)."""
        query = select(t.study.c.study_uid).where(t.study.c.dirty.is_(True))
        if idle_before is not None:
            query = query.where(t.study.c.last_received <= idle_before)
        with self.read() as conn:
            return list(conn.execute(query.order_by(t.study.c.last_received)).scalars())

    # --- manifests ----------------------------------------------------------------------------------------

    def _manifest(self, row: Row) -> Manifest:
        return Manifest(
            row.kos_uid,
            row.study_uid,
            row.entry_uuid,
            self.manifests / row.path,
            row.instance_count,
            row.state,
            row.replaces,
        )

    def published_manifest(self, study_uid: str) -> Manifest | None:
        """The study's current manifest in the registry (the newest published one)."""
        with self.read() as conn:
            row = conn.execute(
                select(t.manifest)
                .where(t.manifest.c.study_uid == study_uid, t.manifest.c.state == t.PUBLISHED)
                .order_by(t.manifest.c.created.desc())
                .limit(1)
            ).first()
        return self._manifest(row) if row is not None else None

    def manifests_of(self, study_uid: str) -> list[Manifest]:
        with self.read() as conn:
            rows = conn.execute(
                select(t.manifest).where(t.manifest.c.study_uid == study_uid).order_by(t.manifest.c.created)
            ).all()
        return [self._manifest(row) for row in rows]

    def manifest_path(self, study_uid: str, kos_uid: str) -> Path:
        path = self.manifests / _safe(study_uid) / f"{_safe(kos_uid)}.dcm"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def add_manifest(self, manifest: Manifest, received_before: float) -> None:
        """Record a built manifest ('pending'); ``received_before`` is the study's last_received it covers."""
        with self.write() as conn:
            conn.execute(
                insert(t.manifest).values(
                    kos_uid=manifest.kos_uid,
                    study_uid=manifest.study_uid,
                    entry_uuid=manifest.entry_uuid,
                    path=manifest.path.relative_to(self.manifests).as_posix(),
                    instance_count=manifest.instance_count,
                    state=t.PENDING,
                    replaces=manifest.replaces,
                    created=time.time(),
                )
            )

    def settle_manifest(self, manifest: Manifest, covered_until: float, *, error: str | None = None) -> None:
        """Mark the manifest published (the study is clean unless instances came after ``covered_until``)
        or failed with ``error``."""
        with self.write() as conn:
            state = t.FAILED if error is not None else t.PUBLISHED
            conn.execute(
                update(t.manifest)
                .where(t.manifest.c.kos_uid == manifest.kos_uid)
                .values(state=state, error=error)
            )
            if error is None:
                conn.execute(
                    update(t.study)
                    .where(
                        t.study.c.study_uid == manifest.study_uid, t.study.c.last_received <= covered_until
                    )
                    .values(dirty=False)
                )

    def counts(self) -> dict[str, int]:
        from sqlalchemy import func

        with self.read() as conn:
            return {
                name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in (("studies", t.study), ("series", t.series), ("instances", t.instance))
            }


def copy_chunks(source: Path, target: Path) -> None:
    with source.open("rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst, CHUNK)


def sorted_instances(instances: Sequence[StoredInstance]) -> list[StoredInstance]:
    return sorted(instances, key=lambda i: (i.series_uid, i.instance_number or 0, i.sop_instance_uid))
