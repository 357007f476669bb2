"""C-STORE sub-operations from the stored file (imaging_source.send): as stored when the peer accepts the
stored transfer syntax, converted by pynetdicom when it accepts only another one (PS3.7 D.3.3.2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from imaging_helpers import dataset_part, write_study
from pydicom import dcmread
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, _config, evt

from imaging_source.send import StoredFile
from imaging_source.store import StoredInstance


def _stored(path: Path) -> StoredInstance:
    ds = dcmread(path, stop_before_pixels=True)
    return StoredInstance(
        str(ds.SOPInstanceUID), str(ds.SOPClassUID), str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID),
        str(ds.file_meta.TransferSyntaxUID), 1, True, path, path.stat().st_size,
    )


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
def test_stored_file_goes_out_in_the_accepted_syntax(tmp_path: Path, syntax: str) -> None:
    study = write_study(tmp_path / "study", slices=1)
    source = study.files[0]
    received: list[tuple[str, bytes]] = []

    def on_store(event) -> int:  # noqa: ANN001
        with open(event.dataset_path, "rb") as fh:
            received.append((str(event.context.transfer_syntax), fh.read()))
        return 0

    scp = AE("DEST")
    scp.add_supported_context(CTImageStorage, [syntax])  # only this syntax
    chunked = _config.STORE_RECV_CHUNKED_DATASET
    _config.STORE_RECV_CHUNKED_DATASET = True
    server = scp.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)])
    try:
        scu = AE("SRC")
        scu.add_requested_context(CTImageStorage, [syntax])
        assoc = scu.associate("127.0.0.1", server.server_address[1], ae_title="DEST")
        assert assoc.is_established
        try:
            status = assoc.send_c_store(StoredFile(_stored(source)))
        finally:
            assoc.release()
    finally:
        server.shutdown()
        _config.STORE_RECV_CHUNKED_DATASET = chunked
    assert status.Status == 0
    [(used, data)] = received
    assert used == syntax
    written = tmp_path / "received.dcm"
    written.write_bytes(data)
    if syntax == ExplicitVRLittleEndian:  # as stored: the data set bytes of the file, unchanged
        assert dataset_part(written) == dataset_part(source)
    got, original = dcmread(written), dcmread(source)
    assert got.PixelData == original.PixelData
    assert got.SOPInstanceUID == original.SOPInstanceUID
