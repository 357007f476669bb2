"""C-STORE intake with dcmtk storescu as the real peer: instances on disk and in the index, duplicates
idempotent, bad data sets refused with the PS3.4 status and nothing kept."""

from __future__ import annotations

from pathlib import Path

from imaging_helpers import imaging_settings, running_source, storescu, write_study
from pydicom import dcmread


def test_storescu_study_is_stored_and_indexed(tmp_path: Path) -> None:
    study = write_study(tmp_path / "in", slices=3, series=2)
    with running_source(imaging_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "data")) as src:
        run = storescu(src.port, *study.files)
        assert run.returncode == 0, run.stderr
        stored = src.store.find_instances(study_uid=study.study_uid)
        assert len(stored) == 6
        assert src.store.counts() == {"studies": 1, "series": 2, "instances": 6}
        for inst in stored:
            assert inst.path.is_file()
            assert inst.path.relative_to(src.store.instances).parts[:2] == (inst.study_uid, inst.series_uid)
        originals = {str(dcmread(p).SOPInstanceUID): dcmread(p) for p in study.files}
        for inst in stored:
            assert dcmread(inst.path) == originals[inst.sop_instance_uid]  # every element equal

        again = storescu(src.port, *study.files)  # duplicates: success, nothing new
        assert again.returncode == 0, again.stderr
        assert src.store.counts()["instances"] == 6
        assert src.source.intake.duplicates == 6


def broken_files(folder: Path) -> dict[str, Path]:
    """Files that are no usable instance: no Study Instance UID, cut short, a bad length."""
    from imaging_helpers import ct_slice
    from pydicom.uid import generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    ds = ct_slice(generate_uid(), generate_uid(), 1)
    del ds.StudyInstanceUID
    ds.save_as(folder / "nostudy.dcm", enforce_file_format=True)
    full = folder / "full.dcm"
    ct_slice(generate_uid(), generate_uid(), 1).save_as(full, enforce_file_format=True)
    data = full.read_bytes()
    (folder / "truncated.dcm").write_bytes(data[: len(data) - 3000])
    damaged = bytearray(data)
    at = damaged.find(b"\x08\x00\x20\x00DA")  # (0008,0020) StudyDate: its length made absurd
    damaged[at + 6 : at + 8] = (0xFFF0).to_bytes(2, "little")
    (folder / "badlength.dcm").write_bytes(bytes(damaged))
    full.unlink()
    return {p.stem: p for p in folder.iterdir()}


def test_corrupt_files_from_storescu_are_refused_without_harm(tmp_path: Path) -> None:
    bad = broken_files(tmp_path / "bad")
    good = write_study(tmp_path / "good", slices=1)
    with running_source(imaging_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "data")) as src:
        for name, path in bad.items():
            run = storescu(src.port, path, extra=("-v",))
            report = (run.stdout + run.stderr).lower()
            assert run.returncode != 0, name
            if name == "nostudy":
                # PS3.4 Table B.2-1: Error, Cannot understand (C000)
                assert "received store response (error: cannotunderstand)" in report, report
            else:
                assert "store scu failed" in report  # storescu itself will not send a file it cannot parse
        # a peer that does send a broken byte stream (pynetdicom, the file's bytes unparsed)
        assert send_raw(src.port, garbage_file(tmp_path / "garbage.dcm")) == 0xC000
        assert src.store.counts() == {"studies": 0, "series": 0, "instances": 0}
        assert list(src.store.instances.rglob("*.dcm")) == []
        assert list(src.store.tmp.iterdir()) == []
        # the listener still serves
        assert storescu(src.port, *good.files).returncode == 0
        assert src.store.counts()["instances"] == 1


def garbage_file(path: Path) -> Path:
    """A PS3.10 file whose File Meta is fine and whose data set is noise after the first elements."""
    from imaging_helpers import ct_slice
    from pydicom.uid import generate_uid

    ct_slice(generate_uid(), generate_uid(), 1).save_as(path, enforce_file_format=True)
    data = bytearray(path.read_bytes())
    group_length = int.from_bytes(data[140:144], "little")
    start = 144 + group_length + 40
    data[start : start + 400] = bytes((i * 37 + 11) % 256 for i in range(400))
    path.write_bytes(bytes(data))
    return path


def send_raw(port: int, path: Path) -> int:
    """C-STORE the file's data set bytes as they are (pynetdicom's chunked send does not parse them)."""
    from pydicom import dcmread
    from pynetdicom import AE, _config

    meta = dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID"]).file_meta
    ae = AE(ae_title="RAWSCU")
    ae.add_requested_context(meta.MediaStorageSOPClassUID, meta.TransferSyntaxUID)
    previous = _config.STORE_SEND_CHUNKED_DATASET
    _config.STORE_SEND_CHUNKED_DATASET = True
    try:
        assoc = ae.associate("127.0.0.1", port, ae_title="XDSI_SOURCE")
        assert assoc.is_established
        try:
            return int(assoc.send_c_store(path).Status)
        finally:
            assoc.release()
    finally:
        _config.STORE_SEND_CHUNKED_DATASET = previous
