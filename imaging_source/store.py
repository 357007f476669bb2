"""The instance store: DICOM files on disk (study/series/instance) and their index, kept in step.

Layout under ``<data_dir>/imaging/``:
  ``instances/<study>/<series>/<sop>.dcm``  received instances, PS3.10 files as the peer sent them
  ``manifests/<study>/<kos>.dcm``           the KOS manifests built for RAD-68
  ``transcoded/<transfer syntax>/<sop>.dcm`` instances re-encoded for a retrieve (a cache; may be deleted)
  ``tmp/``                                 files being written

Order of operations: the index rows are written, the file renamed into place, then the rows committed. A
crash between the two leaves a file without row (invisible, overwritten by the next copy); never a row
without its file. When the file is fsynced is said at ``add``. A SOP Instance UID that is already held is not
stored again (duplicates are idempotent).
All methods block; async callers use anyio.to_thread.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Row, bindparam, case, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from imaging_source import tables as t
from imaging_source.instance_meta import InstanceMeta
from xds import raw_sql
from xds.db import make_engine, migrate, writer
from xds.files import fsync_dir, fsync_file
from xds.raw_sql import Compiled

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_SERIES_CACHE = 100_000  # series UIDs remembered as indexed (then forgotten all at once)
_CLOCK_STEP = 0.001  # seconds: a study's last_received moves on by at least this for each new instance

# the statements of the intake path, built once (SQLAlchemy caches their compiled form by identity)
_HAS_INSTANCE = select(t.instance.c.sop_instance_uid).where(
    t.instance.c.sop_instance_uid == bindparam("uid")
)


class _Held(Exception):
    """The instance is in the index already."""


def _same_file_system(path: Path, folder: Path) -> bool:
    return os.stat(path).st_dev == os.stat(folder).st_dev


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


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
        # the intake's statements, compiled once for the dialect and run on the driver (xds.raw_sql)
        dialect_insert = sqlite_insert if self.engine.dialect.name == "sqlite" else postgresql_insert
        upsert = dialect_insert(t.study)
        # each new instance moves last_received forward, even one whose clock reading lost the race for the
        # row to a later one: a manifest built meanwhile covers up to the value it read, and the study must
        # stay due for the instance it did not see (rad68 settle_manifest)
        held = t.study.c.last_received
        upsert = upsert.on_conflict_do_update(
            index_elements=[t.study.c.study_uid],
            set_={
                "last_received": case(
                    (held >= upsert.excluded.last_received, held + _CLOCK_STEP),
                    else_=upsert.excluded.last_received,
                ),
                "dirty": upsert.excluded.dirty,
            },
        )
        self._upsert_study = Compiled(upsert, self.engine)
        self._insert_series = Compiled(dialect_insert(t.series).on_conflict_do_nothing(), self.engine)
        self._insert_instance = Compiled(dialect_insert(t.instance).on_conflict_do_nothing(), self.engine)

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

    def add(self, source: Path, meta: InstanceMeta, *, move: bool = True, durable: bool = True) -> bool:
        """Store the checked file at ``source`` (moved when ``move``, else copied) and index it. Returns
        False when the instance was already held (nothing changes; ``source`` is left to the caller).

        The row is written and the file renamed into place in one transaction: a crash leaves either both or
        at most a file without row (invisible, replaced by the next copy), never a row without its file.
        ``durable`` (an import) fsyncs the file before and its folder after the rename, before the commit.
        The C-STORE intake passes False: the instance is then in the page cache, safe from a crash of this
        process but not of the machine, until ``make_durable`` runs before its study's manifest is published
        (imaging_source.rad68); ``check_unpublished`` drops the rows of files a power loss took."""
        relative = f"{_safe(meta.study_uid)}/{_safe(meta.series_uid)}/{_safe(meta.sop_instance_uid)}.dcm"
        target = self.instances / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = source
        if not (move and _same_file_system(source, target.parent)):
            # an import, or a file on another file system: copied under tmp/ (unless already held)
            if self.has(meta.sop_instance_uid):
                return False
            staged = self.new_tmp()
            shutil.copyfile(source, staged)
        try:
            if durable:
                fsync_file(staged)
            size = staged.stat().st_size
            with raw_sql.transaction(self.engine) as conn:
                self._index(conn, meta, relative, size)
                os.replace(staged, target)
                if durable:
                    fsync_dir(target.parent)
        except _Held:
            return False
        finally:
            if staged is not source:
                staged.unlink(missing_ok=True)
        # series rows are never deleted: once committed, later instances skip their insert
        if len(self._series) > _SERIES_CACHE:
            self._series.clear()
        self._series.add(meta.series_uid)
        return True

    def _index(self, conn: raw_sql.Transaction, meta: InstanceMeta, relative: str, size: int) -> None:
        """The rows of one new instance (prepared statements, compiled once); _Held when it is not new."""
        now = time.time()
        conn.execute(self._upsert_study, dict(
            study_uid=meta.study_uid, patient_id=meta.patient_id, issuer=meta.issuer,
            patient_name=meta.patient_name, birth_date=meta.birth_date, sex=meta.sex,
            study_date=meta.study_date, study_time=meta.study_time, accession=meta.accession,
            study_id=meta.study_id, description=meta.study_description, referring=meta.referring,
            last_received=now, dirty=True,
        ))
        if meta.series_uid not in self._series:
            conn.execute(self._insert_series, dict(
                series_uid=meta.series_uid, study_uid=meta.study_uid, modality=meta.modality,
                series_number=meta.series_number, description=meta.series_description,
                body_part=meta.body_part, anatomic_region=meta.anatomic_region,
            ))
        inserted = conn.execute(self._insert_instance, dict(
            sop_instance_uid=meta.sop_instance_uid, series_uid=meta.series_uid, study_uid=meta.study_uid,
            sop_class_uid=meta.sop_class_uid, transfer_syntax_uid=meta.transfer_syntax_uid,
            instance_number=meta.instance_number, has_pixels=meta.has_pixels, path=relative, size=size,
            received=now,
        ))
        if inserted == 0:
            raise _Held  # the same SOP Instance again: the transaction (the study's touch too) rolls back

    def make_durable(self, instances: Iterable[StoredInstance]) -> list[StoredInstance]:
        """fsync the files of ``instances`` and the folders that name them (POSIX: a new entry is durable once
        its folder is). Files the kernel has written back already cost little. Returns the instances made
        durable: one whose file is gone (removed behind our back) leaves the index, with a warning."""
        folders: set[Path] = {self.instances}
        kept: list[StoredInstance] = []
        lost: list[str] = []
        for inst in instances:
            try:
                fsync_file(inst.path)
            except FileNotFoundError:
                lost.append(inst.sop_instance_uid)
                continue
            kept.append(inst)
            folders.update((inst.path.parent, inst.path.parent.parent))
        for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
            fsync_dir(folder)
        if lost:
            log.warning("%d indexed instance(s) had no file and left the index: %s", len(lost), lost[:10])
            self._forget(lost)
        return kept

    def check_unpublished(self) -> int:
        """At start-up: drop the rows of instances not yet made durable (studies with unpublished instances)
        whose file a power loss took or cut short. Returns how many."""
        with self.read() as conn:
            rows = conn.execute(
                select(t.instance.c.sop_instance_uid, t.instance.c.path, t.instance.c.size)
                .join(t.study, t.study.c.study_uid == t.instance.c.study_uid)
                .where(t.study.c.dirty.is_(True))
            ).all()
        lost = [row.sop_instance_uid for row in rows if _size(self.instances / row.path) != row.size]
        self._forget(lost)
        return len(lost)

    def _forget(self, sop_instance_uids: Sequence[str]) -> None:
        with self.write() as conn:
            for start in range(0, len(sop_instance_uids), 500):
                batch = sop_instance_uids[start : start + 500]
                conn.execute(delete(t.instance).where(t.instance.c.sop_instance_uid.in_(batch)))

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


def sorted_instances(instances: Sequence[StoredInstance]) -> list[StoredInstance]:
    return sorted(instances, key=lambda i: (i.series_uid, i.instance_number or 0, i.sop_instance_uid))
