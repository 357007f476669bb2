import hashlib

import pytest

from xds.model import Attachment


def test_from_file_hashes_in_chunks(tmp_path):
    data = bytes(range(256)) * 5000
    path = tmp_path / "doc.bin"
    path.write_bytes(data)
    att = Attachment.from_file(path, "application/pdf")
    assert att.size == len(data)
    assert att.sha1 == hashlib.sha1(data).hexdigest()
    assert b"".join(att.iter_chunks(1000)) == data


def test_in_memory():
    att = Attachment.from_bytes(b"Befund", "text/plain")
    assert att.read() == b"Befund"
    assert att.sha1 == hashlib.sha1(b"Befund").hexdigest()


def test_exactly_one_source():
    with pytest.raises(ValueError):
        Attachment(0, "", data=b"", path=None).__class__(0, "")
