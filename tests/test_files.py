"""demystify.files: the one atomic write, the one verified fetch, the one torchvision lookup.

Each test would fail if the property it names were lost: a write that is not atomic leaves
half a file or a temporary file behind; a fetch that does not verify returns a wrong file; a
fetch that downloads without opt-in reaches the (fake) network; a lookup that searches one
folder misses weights in the other.
"""
from __future__ import annotations

import hashlib
import http.server
import threading
from functools import partial
from pathlib import Path

import pytest
import torch

from demystify.files import (DataCorrupt, DataNotAvailable, atomic_write, checkpoint_dirs,
                             fetch, torchvision_checkpoint)


# --- atomic_write ----------------------------------------------------------------------------

def test_atomic_write_replaces_the_file_only_at_the_end(tmp_path):
    path = tmp_path / "sub" / "metrics.json"
    with atomic_write(path) as tmp:
        assert tmp.parent == path.parent and tmp.name.endswith(".json") and tmp != path
        tmp.write_text("new")
        assert not path.exists()                  # nothing at the destination yet
    assert path.read_text() == "new" and sorted(p.name for p in path.parent.iterdir()) == \
        ["metrics.json"]


def test_an_error_mid_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"old weights")
    with pytest.raises(OSError, match="disk full"):
        with atomic_write(path) as tmp:
            tmp.write_bytes(b"half of the new wei")
            raise OSError("disk full")
    assert path.read_bytes() == b"old weights"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_a_writer_that_writes_nothing_is_an_error_not_an_empty_file(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"old weights")
    with pytest.raises(FileNotFoundError, match="nothing was written"):
        with atomic_write(path):
            pass
    assert path.read_bytes() == b"old weights"


def test_atomic_write_flushes_before_it_renames(tmp_path, monkeypatch):
    import os
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"),
                                                     real_replace(a, b))[1])
    with atomic_write(tmp_path / "x.bin") as tmp:
        tmp.write_bytes(b"x")
    assert events[:2] == ["fsync", "replace"]


# --- fetch -----------------------------------------------------------------------------------

@pytest.fixture
def server(tmp_path, monkeypatch):
    """A local HTTP server (loopback: allowed by the offline guard) serving tmp_path/served."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    served = tmp_path / "served"
    served.mkdir()
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = partial(Quiet, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_reads_and_verifies_a_present_file_in_either_notation(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path))
    (tmp_path / "f.bin").write_bytes(b"official")
    sha, md5 = (hashlib.new(a, b"official").hexdigest() for a in ("sha256", "md5"))
    assert fetch("https://example.org/f.bin", "f.bin", sha, what="f") == tmp_path / "f.bin"
    assert fetch("https://example.org/f.bin", "f.bin", f"md5:{md5}", what="f").is_file()
    with pytest.raises(DataCorrupt, match="f.bin is corrupt .MD5"):
        fetch("https://example.org/f.bin", "f.bin", "md5:" + "0" * 32, what="f")


def test_fetch_downloads_only_on_opt_in_and_verifies(tmp_path, monkeypatch, server):
    served, url = server
    (served / "f.bin").write_bytes(b"official bytes")
    good = hashlib.sha256(b"official bytes").hexdigest()
    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("DEMYSTIFY_DOWNLOAD", raising=False)
    with pytest.raises(DataNotAvailable, match="DEMYSTIFY_DOWNLOAD=1"):
        fetch(url + "f.bin", "sub/f.bin", good, what="f")
    assert not (tmp_path / "data").exists()
    monkeypatch.setenv("DEMYSTIFY_DOWNLOAD", "1")
    path = fetch(url + "f.bin", "sub/f.bin", good, what="f")
    assert path == tmp_path / "data" / "sub" / "f.bin" and path.read_bytes() == b"official bytes"


def test_a_download_with_the_wrong_checksum_is_not_kept(tmp_path, monkeypatch, server):
    served, url = server
    (served / "f.bin").write_bytes(b"tampered")
    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("DEMYSTIFY_DOWNLOAD", "1")
    with pytest.raises(DataCorrupt, match="does not match its SHA-256"):
        fetch(url + "f.bin", "f.bin", hashlib.sha256(b"official").hexdigest(), what="f")
    assert list((tmp_path / "data").iterdir()) == []     # neither the file nor a temporary one


def test_a_failed_download_says_what_to_do(tmp_path, monkeypatch, server):
    _, url = server
    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("DEMYSTIFY_DOWNLOAD", "1")
    with pytest.raises(DataNotAvailable, match="could not download f .*HTTPError.*put absent"):
        fetch(url + "absent.bin", "f.bin", "0" * 64, what="f")
    assert list((tmp_path / "data").iterdir()) == []


# --- torchvision_checkpoint ------------------------------------------------------------------

@pytest.fixture
def folders(tmp_path, monkeypatch):
    """torch.hub's cache and the data folder, both empty."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("DEMYSTIFY_DOWNLOAD", raising=False)
    hub, data = tmp_path / "torch" / "hub" / "checkpoints", tmp_path / "data" / "torchvision"
    hub.mkdir(parents=True)
    data.mkdir(parents=True)
    return hub, data


def _weights(folder, content: bytes) -> tuple[str, str]:
    sha = hashlib.sha256(content).hexdigest()
    name = f"net-{sha[:8]}.pth"
    (folder / name).write_bytes(content)
    return f"https://example.org/{name}", sha


def test_checkpoint_dirs_are_torch_hubs_cache_then_the_data_folder(folders):
    assert checkpoint_dirs() == list(folders)
    assert folders[0].parent == Path(torch.hub.get_dir())


@pytest.mark.parametrize("where", [0, 1], ids=["torch-hub-cache", "data-folder"])
def test_weights_are_found_in_both_folders_and_verified_fully_when_known(folders, where):
    url, sha = _weights(folders[where], b"weights")
    assert torchvision_checkpoint(url, what="w") == folders[where] / url.rsplit("/", 1)[1]
    assert torchvision_checkpoint(url, what="w", sha256=sha).is_file()
    with pytest.raises(DataCorrupt, match="is corrupt"):     # right prefix, wrong full hash
        torchvision_checkpoint(url, what="w", sha256=sha[:8] + "0" * 56)


def test_absent_weights_name_both_folders(folders):
    with pytest.raises(DataNotAvailable, match=f"{folders[0]}.* or {folders[1]}.*DOWNLOAD=1"):
        torchvision_checkpoint("https://example.org/net-0123abcd.pth", what="w")


def test_write_text_atomic_replaces_whole_files_and_keeps_the_old_one_on_error(tmp_path,
                                                                              monkeypatch):
    from demystify.files import write_text_atomic
    target = tmp_path / "sub" / "record.json"
    assert write_text_atomic(target, "old\n") == target and target.read_text() == "old\n"

    real_write = Path.write_text

    def broken_write(self, text, *args, **kwargs):      # half the text, then the disk is full
        real_write(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", broken_write)
    with pytest.raises(OSError, match="disk full"):
        write_text_atomic(target, "new\n")
    monkeypatch.undo()
    assert target.read_text() == "old\n"
    assert [p.name for p in target.parent.iterdir()] == ["record.json"]   # no temp file left
