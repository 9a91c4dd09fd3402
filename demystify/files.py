"""Files the course writes and fetches: one atomic write, one verified fetch, one weights lookup.

- `atomic_write(path)`: every file the package writes (checkpoints, metrics, an exported
  program) is written to a temporary file next to it, flushed to disk and renamed over it, so
  a crash or an error mid-write leaves the old file (or none), never half a file.
- `fetch(url, filename, known_hash, what=...)`: an official data file, verified against its
  checksum (a SHA-256, or "md5:…" where only an MD5 is published). It is read when present under
  `data_dir()`; otherwise it is downloaded only when the learner opted in with
  `DEMYSTIFY_DOWNLOAD=1`, through `pooch.retrieve`, which writes to a temporary file, checks the
  hash and only then moves the file into place.
- `torchvision_checkpoint(url, what=...)`: torchvision's pre-trained weights, looked for in
  torch.hub's cache (`$TORCH_HOME/hub/checkpoints`, where torchvision itself keeps them) and in
  `data_dir()/torchvision`, and verified (the full SHA-256 when the caller knows it, else the
  hash prefix torchvision writes into the file name).

Nothing here touches the network unless the learner opted in.
"""
from __future__ import annotations

import os
import re
import secrets
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class DataNotAvailable(FileNotFoundError):
    """An official dataset's files are not on this machine and downloading was not allowed."""


class DataCorrupt(ValueError):
    """A data file exists but is damaged (wrong checksum, truncated, unreadable)."""


def data_dir() -> Path:
    """Where official datasets live: $DEMYSTIFY_DATA, else the checkout's data/cache/."""
    if os.environ.get("DEMYSTIFY_DATA"):
        return Path(os.environ["DEMYSTIFY_DATA"]).expanduser()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "data").is_dir():
        return checkout / "data" / "cache"
    return Path.home() / ".cache" / "demystify"     # installed from git (Colab, Azure)


def download_allowed() -> bool:
    """True only when the learner opted in with DEMYSTIFY_DOWNLOAD=1."""
    return os.environ.get("DEMYSTIFY_DOWNLOAD", "").strip().lower() in ("1", "true", "yes")


@contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """A temporary path next to `path` to write to; on success it replaces `path` at once.

        with atomic_write(folder / "model.safetensors") as tmp:
            save_file(tensors, tmp)

    The temporary file is in the same folder (a rename is atomic only within one file
    system) and ends with the same suffix (writers that choose a format by the suffix see the
    right one). After the block it is flushed to disk (fsync) and renamed over `path`
    (os.replace); if the block raises, it is removed and `path` keeps its old content.
    The folder is created if needed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}")
    try:
        yield tmp
        if not tmp.is_file():
            raise FileNotFoundError(f"nothing was written to {tmp} for {path}")
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if os.name == "posix":       # make the rename itself durable, where the system can
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        except OSError:
            pass
        finally:
            os.close(folder)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` through `atomic_write`: the old file or the new, never
    half of one. Returns the path."""
    path = Path(path)
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def file_hash(path: str | Path, alg: str = "sha256") -> str:
    """The hex digest of a file (pooch's `file_hash`: read in chunks)."""
    import pooch
    return pooch.file_hash(str(path), alg=alg)


def sha256sum(path: str | Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    return file_hash(path, "sha256")


def _algorithm(known_hash: str) -> tuple[str, str]:
    """("sha256", digest) for pooch's hash notation: a bare SHA-256 or "alg:digest"."""
    alg, _, digest = known_hash.rpartition(":")
    return (alg or "sha256").lower(), digest.lower()


def _label(alg: str) -> str:
    return alg.upper().replace("SHA", "SHA-")


def verify(path: Path, known_hash: str, *, prefix: bool = False) -> Path:
    """`path` if its checksum is `known_hash` (pooch notation; with `prefix`, the start of
    its SHA-256), else DataCorrupt saying to delete it and fetch it again."""
    alg, digest = _algorithm(known_hash)
    actual = file_hash(path, alg)
    if not (actual.startswith(digest) if prefix else actual == digest):
        raise DataCorrupt(f"{path} is corrupt ({_label(alg)} {actual[:12]}…, expected "
                          f"{digest[:12]}…): delete it and fetch it again")
    return path


def _urlopen(url: str, output_file, pooch) -> None:
    """pooch's downloader: the standard library's urlopen (with a timeout) into output_file.

    pooch does the rest (a temporary file, the hash check, the move into place); the one
    network call of the package stays in one place that tests can replace.
    """
    with urllib.request.urlopen(url, timeout=60) as response, open(output_file, "wb") as out:
        while chunk := response.read(1 << 20):
            out.write(chunk)


def _not_available(what: str, path: Path, url: str, more: str = "") -> DataNotAvailable:
    return DataNotAvailable(f"{what} is not on this machine: put {Path(url).name} at {path}"
                            f"{more} (from {url}), or set DEMYSTIFY_DOWNLOAD=1 to download it")


def fetch(url: str, filename: str, known_hash: str, *, what: str,
          folder: str | Path | None = None, download: bool | None = None) -> Path:
    """The verified local copy of an official file: `folder/filename` (folder: data_dir()).

    `known_hash` is a SHA-256, or "md5:…" / "sha1:…" where only those are published (pooch's
    notation). A present file is verified and returned; an absent one is downloaded with
    `pooch.retrieve` only if `download` is True (default: `download_allowed()`).
    Raises DataNotAvailable (what to do) when absent and not downloaded or the download
    fails, and DataCorrupt (which file) when a checksum does not match.
    """
    path = Path(folder or data_dir()) / filename
    allowed = download_allowed() if download is None else download
    if not path.exists():
        if not allowed:
            raise _not_available(what, path, url)
        import pooch
        try:
            pooch.retrieve(url, known_hash=known_hash, fname=path.name, path=path.parent,
                           downloader=_urlopen, progressbar=False)
        except ValueError:            # pooch's hash check: nothing was kept
            alg = _label(_algorithm(known_hash)[0])
            raise DataCorrupt(f"download of {url} does not match its {alg}; "
                              f"try again later") from None
        except OSError as err:        # no connection, HTTP error, timeout
            raise DataNotAvailable(f"could not download {what} from {url} "
                                   f"({type(err).__name__}: {err}); check the connection, or "
                                   f"put {Path(url).name} at {path}") from None
    return verify(path, known_hash)


def checkpoint_dirs() -> list[Path]:
    """Where torchvision weights are looked for: torch.hub's cache, then data_dir()/torchvision."""
    import torch
    return [Path(torch.hub.get_dir()) / "checkpoints", data_dir() / "torchvision"]


def _hash_prefix(filename: str) -> str:
    match = re.search(r"-([0-9a-f]{8,})\.pth$", filename)
    if match is None:
        raise ValueError(f"{filename!r} carries no SHA-256 prefix (name-<hex>.pth), so it cannot "
                         f"be verified")
    return match.group(1)


def torchvision_checkpoint(url: str, *, what: str, sha256: str | None = None) -> Path:
    """The verified local copy of a torchvision weights file (`url` names it).

    Looked for in every folder of `checkpoint_dirs()`; verified against `sha256` when given,
    else against the SHA-256 prefix in its name (`resnet18-f37072fd.pth`). With
    DEMYSTIFY_DOWNLOAD=1 an absent file is downloaded into torch.hub's cache by
    `torch.hub.download_url_to_file` (torchvision's own route: temporary file, prefix check,
    rename), never otherwise. Raises DataNotAvailable (where to put it) or DataCorrupt.
    """
    filename = url.rsplit("/", 1)[-1]
    prefix = _hash_prefix(filename)
    folders = checkpoint_dirs()
    found = next((d / filename for d in folders if (d / filename).is_file()), None)
    if found is None:
        if not download_allowed():
            raise _not_available(what, folders[0] / filename, url, f" or {folders[1] / filename}")
        import torch
        found = folders[0] / filename
        found.parent.mkdir(parents=True, exist_ok=True)
        try:
            torch.hub.download_url_to_file(url, str(found), hash_prefix=prefix, progress=False)
        except RuntimeError as err:   # torch.hub's prefix check: the file was not kept
            if "invalid hash value" not in str(err):
                raise                 # anything else (the test suite's offline guard) as is
            raise DataCorrupt(f"download of {url} failed its SHA-256 check ({err}); "
                              f"try again later") from None
        except OSError as err:
            raise DataNotAvailable(f"could not download {what} from {url} "
                                   f"({type(err).__name__}: {err}); check the connection, or "
                                   f"put {filename} in {folders[0]}") from None
    return verify(found, sha256 or prefix, prefix=sha256 is None)
