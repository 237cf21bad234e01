"""``nnscratch download`` against a local HTTP server on 127.0.0.1: never the real network."""

import gzip
import hashlib
import http.server
import io
import tarfile
import threading

import numpy as np
import pytest

from nnscratch.common import datasets
from nnscratch.common.datasets import encode_idx, load_dataset
from nnscratch.common.download import REMOTES, DownloadError, RemoteDataset, RemoteFile, download

# the fixture files are stand-ins, so the loader rightly says their checksums are not MNIST's
pytestmark = pytest.mark.filterwarnings("ignore::nnscratch.common.datasets.ChecksumWarning")


class FixtureServer:
    """Serves ``files`` (name -> bytes) under ``/<mirror>/``, honouring Range, logging requests."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.rsplit("/", 1)[-1]
                server.requests.append((self.path, self.headers.get("Range")))
                if name not in server.files or self.path.startswith("/broken/"):
                    self.send_error(404)
                    return
                body, status = server.files[name], 200
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].rstrip("-"))
                    body, status = body[start:], 206
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server():
    fixture = FixtureServer()
    yield fixture
    fixture.httpd.shutdown()


def idx_fixture(server, seed=0):
    """Put four small gzipped IDX files on the server; return a RemoteDataset describing them."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
        "train_labels": (np.arange(30) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(10) % 10).astype(np.uint8),
    }
    files = []
    for role, (stem, suffix) in datasets.IDX_ROLES.items():
        raw = encode_idx(arrays[role])
        name = f"{stem}-{suffix}.gz"
        server.files[name] = gzip.compress(raw)
        files.append(RemoteFile(name, hashlib.sha256(raw).hexdigest(), sha256_of_gunzipped=True))
    return RemoteDataset((f"{server.url}/mirror/",), tuple(files)), arrays


def test_download_fetches_verifies_and_is_then_found_by_load_dataset(server, tmp_path, isolated_data_dirs):
    remote, arrays = idx_fixture(server)
    folder = download("mnist", tmp_path / "dl", remote=remote, quiet=True)
    assert folder == tmp_path / "dl" / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(server.files)  # no .part left behind
    data = load_dataset("mnist", data_dir=tmp_path / "dl")
    np.testing.assert_array_equal(data.x_train[:, 0], arrays["train_images"])


def test_download_defaults_to_the_user_cache_which_load_dataset_searches(server, isolated_data_dirs):
    remote, _ = idx_fixture(server)
    folder = download("mnist", remote=remote, quiet=True)
    assert folder == datasets.cache_dir() / "mnist"
    assert load_dataset("mnist").location == str(folder)


def test_interrupted_download_resumes_with_a_range_request(server, tmp_path):
    remote, _ = idx_fixture(server)
    name = remote.files[0].name
    folder = tmp_path / "mnist"
    folder.mkdir()
    half = len(server.files[name]) // 2
    (folder / f"{name}.part").write_bytes(server.files[name][:half])
    download("mnist", tmp_path, remote=remote, quiet=True)
    assert (f"/mirror/{name}", f"bytes={half}-") in server.requests
    assert (folder / name).read_bytes() == server.files[name]


def test_verified_files_are_not_fetched_again(server, tmp_path):
    remote, _ = idx_fixture(server)
    download("mnist", tmp_path, remote=remote, quiet=True)
    server.requests.clear()
    download("mnist", tmp_path, remote=remote, quiet=True)
    assert server.requests == []


def test_next_mirror_is_tried_when_one_fails(server, tmp_path):
    remote, _ = idx_fixture(server)
    remote = RemoteDataset((f"{server.url}/broken/", f"{server.url}/mirror/"), remote.files)
    download("mnist", tmp_path, remote=remote, quiet=True)
    assert any(path.startswith("/broken/") for path, _ in server.requests)
    assert len(list((tmp_path / "mnist").iterdir())) == 4


def test_checksum_mismatch_is_an_error_and_leaves_nothing_under_the_real_name(server, tmp_path):
    remote, _ = idx_fixture(server)
    name = remote.files[0].name
    server.files[name] = gzip.compress(b"not the data")
    message = rf"could not download {name}:\n  .*: sha256 [0-9a-f]{{64}}, expected {remote.files[0].sha256}"
    with pytest.raises(DownloadError, match=message):
        download("mnist", tmp_path, remote=remote, quiet=True)
    assert not (tmp_path / "mnist" / name).exists()
    assert not (tmp_path / "mnist" / f"{name}.part").exists()


def test_cifar_archive_is_verified_and_only_the_batches_are_extracted(server, tmp_path, isolated_data_dirs):
    buffer = io.BytesIO()
    record = np.zeros(3073, dtype=np.uint8)
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in (*datasets.CIFAR10_TRAIN_BATCHES, datasets.CIFAR10_TEST_BATCH, "../../evil.bin"):
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}" if ".." not in name else name)
            info.size = record.size
            tar.addfile(info, io.BytesIO(record.tobytes()))
    archive = buffer.getvalue()
    server.files["cifar-10-binary.tar.gz"] = archive
    remote = RemoteDataset(
        (f"{server.url}/mirror/",), (RemoteFile("cifar-10-binary.tar.gz", hashlib.sha256(archive).hexdigest()),)
    )
    folder = download("cifar10", tmp_path, remote=remote, quiet=True)
    assert sorted(p.name for p in (folder / "cifar-10-batches-bin").iterdir()) == sorted(
        (*datasets.CIFAR10_TRAIN_BATCHES, datasets.CIFAR10_TEST_BATCH)
    )
    assert not (tmp_path.parent / "evil.bin").exists()
    assert load_dataset("cifar10", data_dir=tmp_path).x_train.shape == (5, 3, 32, 32)


def test_official_remotes_check_the_same_sha256_as_the_loader():
    for name in ("fashion-mnist", "mnist"):
        expected = {
            f"{stem}-{suffix}.gz": datasets.KNOWN_SHA256[name][role]
            for role, (stem, suffix) in datasets.IDX_ROLES.items()
        }
        assert {f.name: f.sha256 for f in REMOTES[name].files} == expected
        assert all(f.sha256_of_gunzipped for f in REMOTES[name].files)
    assert all(url.startswith(("http://", "https://")) for remote in REMOTES.values() for url in remote.mirrors)


def test_unknown_dataset_is_refused():
    with pytest.raises(ValueError, match=r"unknown dataset 'svhn'"):
        download("svhn")
