"""``nnscratch download NAME``: the one code path in nnscratch that uses the network.

Each file is fetched from the dataset's official mirrors into ``<file>.part`` next to its
destination, resuming an interrupted ``.part`` with an HTTP Range request, checked against
a known sha256, and only then renamed into place with ``os.replace`` (atomic on one file
system). So a folder never holds a half-written or unverified dataset file under its real
name, and a file that fails its check is deleted, never used.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .datasets import CIFAR10_TEST_BATCH, CIFAR10_TRAIN_BATCHES, IDX_ROLES, KNOWN_SHA256, cache_dir
from .progress import progress_bar

CHUNK_BYTES = 1 << 16


class DownloadError(RuntimeError):
    """No mirror delivered a file with the expected checksum."""


@dataclass(frozen=True)
class RemoteFile:
    """A file to fetch: its name on the mirrors, and the sha256 it must have.

    ``sha256_of_gunzipped``: hash the gunzipped bytes (IDX .gz files, whose compressed
    bytes differ between mirrors) rather than the bytes as downloaded.
    """

    name: str
    sha256: str
    sha256_of_gunzipped: bool = False


@dataclass(frozen=True)
class RemoteDataset:
    """Where a dataset lives online: base URLs tried in order, and its files."""

    mirrors: tuple[str, ...]
    files: tuple[RemoteFile, ...]


def _idx_remote(name: str, mirrors: tuple[str, ...]) -> RemoteDataset:
    files = tuple(
        RemoteFile(f"{stem}-{suffix}.gz", KNOWN_SHA256[name][role], sha256_of_gunzipped=True)
        for role, (stem, suffix) in IDX_ROLES.items()
    )
    return RemoteDataset(mirrors, files)


CIFAR10_ARCHIVE = "cifar-10-binary.tar.gz"

REMOTES = {
    "fashion-mnist": _idx_remote("fashion-mnist", ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)),
    "mnist": _idx_remote(
        "mnist",
        ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    ),
    # The archive's page (https://www.cs.toronto.edu/~kriz/cifar.html) publishes its MD5,
    # c32a1d4ab5d03f1284b67883e8d87530; this is the sha256 of that same 170,052,171-byte file.
    "cifar10": RemoteDataset(
        ("https://www.cs.toronto.edu/~kriz/",),
        (RemoteFile(CIFAR10_ARCHIVE, "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"),),
    ),
}


def file_sha256(path: Path, gunzip: bool = False) -> str:
    """sha256 of a file's bytes, or of its gunzipped bytes, read in chunks."""
    digest = hashlib.sha256()
    with gzip.open(path, "rb") if gunzip else open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK_BYTES * 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(
    name: str, dest: str | Path | None = None, remote: RemoteDataset | None = None, quiet: bool = False
) -> Path:
    """Fetch dataset ``name`` into ``dest/<name>/`` (default: the user cache) and return that folder.

    Files already there with the right checksum are kept. ``remote`` overrides the mirrors
    and checksums (the tests point it at a local server).
    """
    if remote is None:
        if name not in REMOTES:
            raise ValueError(f"nnscratch download: unknown dataset {name!r}; choose one of {', '.join(REMOTES)}")
        remote = REMOTES[name]
    folder = Path(dest or cache_dir()) / name
    folder.mkdir(parents=True, exist_ok=True)
    for remote_file in remote.files:
        target = folder / remote_file.name
        if target.is_file() and _verified(target, remote_file):
            continue
        _fetch_verified(remote, remote_file, target, quiet)
    if name == "cifar10":
        _extract_cifar(folder / CIFAR10_ARCHIVE, folder / "cifar-10-batches-bin")
    return folder


def _verified(path: Path, remote_file: RemoteFile) -> bool:
    try:
        return file_sha256(path, remote_file.sha256_of_gunzipped) == remote_file.sha256
    except (OSError, EOFError):
        return False


def _fetch_verified(remote: RemoteDataset, remote_file: RemoteFile, target: Path, quiet: bool) -> None:
    """Try each mirror until one gives a file with the right sha256; then move it into place."""
    partial = target.with_name(target.name + ".part")
    failures = []
    for mirror in remote.mirrors:
        url = mirror.rstrip("/") + "/" + remote_file.name
        try:
            _fetch_resumable(url, partial, quiet)
        except (urllib.error.URLError, OSError) as error:
            failures.append(f"{url}: {error}")
            continue
        if _verified(partial, remote_file):
            with open(partial, "rb") as stream:
                os.fsync(stream.fileno())
            os.replace(partial, target)
            return
        actual = _safe_hash(partial, remote_file.sha256_of_gunzipped)
        failures.append(f"{url}: sha256 {actual}, expected {remote_file.sha256}")
        partial.unlink()  # a wrong file must not be resumed from
    raise DownloadError(f"could not download {remote_file.name}:\n  " + "\n  ".join(failures))


def _safe_hash(path: Path, gunzip: bool) -> str:
    try:
        return file_sha256(path, gunzip)
    except (OSError, EOFError) as error:
        return f"unreadable ({error})"


def _fetch_resumable(url: str, partial: Path, quiet: bool) -> None:
    """Download ``url`` into ``partial``, continuing from its current size when the server allows."""
    have = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as error:
        if error.code != 416:  # 416: nothing left to send, the .part is already complete
            raise
        return
    with response:
        resumed = response.status == 206
        mode = "ab" if resumed else "wb"  # a plain 200 means the server ignored Range: start over
        length = response.headers.get("Content-Length")
        total = (int(length) + (have if resumed else 0)) if length else None
        with (
            open(partial, mode) as out,
            progress_bar(
                total=total, initial=have if resumed else 0, desc=partial.name[:-5], unit="B", quiet=quiet
            ) as bar,
        ):
            for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                out.write(chunk)
                bar.update(len(chunk))


def _extract_cifar(archive: Path, out_dir: Path) -> None:
    """Extract the six CIFAR-10 batch files, by name only (no paths from the archive are trusted)."""
    wanted = set(CIFAR10_TRAIN_BATCHES) | {CIFAR10_TEST_BATCH}
    out_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            base = Path(member.name).name
            if base not in wanted or not member.isfile():
                continue
            source = tar.extractfile(member)
            temporary = out_dir / f"{base}.part"
            with source, open(temporary, "wb") as out:
                shutil.copyfileobj(source, out)
            os.replace(temporary, out_dir / base)
            wanted.discard(base)
    if wanted:
        raise DownloadError(f"{archive}: archive lacks {sorted(wanted)}")
