import gzip
import hashlib
import time
import warnings

import numpy as np
import pytest

from nnscratch.common import datasets
from nnscratch.common.datasets import (
    ChecksumWarning,
    DatasetError,
    SampleFallbackWarning,
    encode_idx,
    find_dataset,
    load_dataset,
    parse_cifar_batch,
    parse_idx,
    read_idx,
    train_val_split,
)

DEBIAN_DIR = datasets.SYSTEM_DATA_ROOT / "fashion-mnist"


def make_idx_dataset(folder, n_train=20, n_test=10, style="dash", gz=True, seed=0):
    """Write a tiny MNIST-style dataset (4 IDX files) into folder; return its arrays."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": (np.arange(n_train) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(n_test) % 10).astype(np.uint8),
    }
    for role, (stem, suffix) in datasets.IDX_ROLES.items():
        name = f"{stem}-{suffix}" if style == "dash" else f"{stem}.{suffix}"
        data = encode_idx(arrays[role])
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return arrays


# ----------------------------------------------------------------------------- readers


@pytest.mark.parametrize("shape", [(5,), (3, 4, 2), (2, 1, 3, 3)])
def test_idx_encode_and_parse_round_trip(shape):
    array = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    np.testing.assert_array_equal(parse_idx(encode_idx(array)), array)


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("style", ["dash", "dot"])
def test_both_naming_styles_raw_and_gzipped_are_found_and_read(tmp_path, isolated_data_dirs, style, gz):
    arrays = make_idx_dataset(tmp_path / "mnist", style=style, gz=gz)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChecksumWarning)
        data = load_dataset("mnist", data_dir=tmp_path)
    assert data.x_train.shape == (20, 1, 28, 28) and data.x_train.dtype == np.uint8
    assert data.y_train.dtype == np.int64 and data.y_test.shape == (10,)
    np.testing.assert_array_equal(data.x_test[:, 0], arrays["test_images"])
    np.testing.assert_array_equal(data.y_train, arrays["train_labels"])
    assert data.location == str(tmp_path / "mnist")


def test_truncated_idx_file_names_the_file_and_both_sizes(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(encode_idx(np.zeros((2, 3, 3), np.uint8))[:-5])
    message = rf"{path}: IDX dims \(2, 3, 3\) need 34 bytes but .* has 29 \(truncated\?\)"
    with pytest.raises(DatasetError, match=message):
        read_idx(path)


def test_wrong_magic_names_the_file_and_the_expected_magic(tmp_path):
    path = tmp_path / "labels.idx1-ubyte"
    path.write_bytes(b"\x00\x00\x0d\x01" + b"\x00" * 8)
    message = rf"{path}: not an IDX file of unsigned bytes: magic 00000d01 \(expected 000008"
    with pytest.raises(DatasetError, match=message):
        read_idx(path)


def test_truncated_gzip_names_the_file(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    noise = np.random.default_rng(0).integers(0, 256, (50, 28, 28), dtype=np.uint8)
    path.write_bytes(gzip.compress(encode_idx(noise))[:1000])
    with pytest.raises(DatasetError, match=rf"{path}: corrupt or truncated gzip data"):
        read_idx(path)


def test_cifar_batches_are_parsed_into_nchw_images(tmp_path, isolated_data_dirs):
    rng = np.random.default_rng(0)
    folder = tmp_path / "data" / "cifar10" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    expected = {}
    for name in (*datasets.CIFAR10_TRAIN_BATCHES, datasets.CIFAR10_TEST_BATCH):
        images = rng.integers(0, 256, (3, 3, 32, 32), dtype=np.uint8)
        labels = np.array([0, 9, 4], dtype=np.uint8)
        records = np.concatenate([labels[:, None], images.reshape(3, -1)], axis=1)
        (folder / name).write_bytes(records.tobytes())
        expected[name] = (images, labels)
    data = load_dataset("cifar10", data_dir=tmp_path / "data")
    assert data.x_train.shape == (15, 3, 32, 32) and data.x_test.shape == (3, 3, 32, 32)
    np.testing.assert_array_equal(data.x_test, expected["test_batch.bin"][0])
    np.testing.assert_array_equal(data.y_train[3:6], [0, 9, 4])
    assert data.classes[9] == "truck" and {c.status for c in data.files} == {"unknown"}


def test_cifar_batch_with_partial_record_is_refused():
    with pytest.raises(DatasetError, match=r"whole 3073-byte records, but the file has 3000 bytes"):
        parse_cifar_batch(b"\x00" * 3000, "batch.bin")


def test_npz_dataset_is_read_without_pickle(tmp_path, isolated_data_dirs):
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (6, 8, 8), dtype=np.uint8)
    np.savez(tmp_path / "mnist.npz", x_train=x_train, y_train=np.arange(6), x_test=x_train[:2], y_test=np.arange(2))
    data = load_dataset("mnist", data_dir=tmp_path)
    assert data.x_train.shape == (6, 1, 8, 8)
    np.testing.assert_array_equal(data.x_train[:, 0], x_train)


def test_npz_missing_arrays_are_named(tmp_path, isolated_data_dirs):
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(DatasetError, match=r"missing array\(s\) \['y_train', 'x_test', 'y_test'\]"):
        load_dataset("mnist", data_dir=tmp_path)


# ----------------------------------------------------------------------------- lookup & checksums


def test_search_order_is_data_dir_then_env_then_cache_then_system(tmp_path, isolated_data_dirs, monkeypatch):
    monkeypatch.setenv("NNSCRATCH_DATA", str(tmp_path / "env"))
    for where in ("system/mnist", "cache/nnscratch/mnist", "env/mnist", "given/mnist"):
        make_idx_dataset(tmp_path / where)
        located = find_dataset("mnist", data_dir=tmp_path / "given")
        assert located[1] == tmp_path / where


def test_checksum_mismatch_warns_with_both_hashes(tmp_path, isolated_data_dirs):
    arrays = make_idx_dataset(tmp_path / "fashion-mnist")
    actual = hashlib.sha256(encode_idx(arrays["train_images"])).hexdigest()
    expected = datasets.KNOWN_SHA256["fashion-mnist"]["train_images"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_dataset("fashion-mnist", data_dir=tmp_path)
    assert {check.status for check in data.files} == {"MISMATCH"}
    assert len(caught) == 4 and all(w.category is ChecksumWarning for w in caught)
    assert f"sha256 of the decompressed data is {actual}, expected {expected}" in str(caught[0].message)


def test_missing_fashion_mnist_falls_back_to_the_sample_visibly(isolated_data_dirs):
    with pytest.warns(SampleFallbackWarning, match=r"Fashion-MNIST was not found; using the bundled sample"):
        data = load_dataset("fashion-mnist")
    assert data.is_fallback and data.name == "sample"
    assert data.x_train.shape == (1500, 1, 28, 28) and data.x_test.shape == (500, 1, 28, 28)


def test_missing_dataset_without_fallback_says_how_to_get_it(isolated_data_dirs):
    message = r"dataset 'mnist' not found. Get it with `nnscratch download mnist`"
    with pytest.raises(FileNotFoundError, match=message):
        load_dataset("mnist")
    with pytest.raises(FileNotFoundError, match="fashion-mnist"):
        load_dataset("fashion-mnist", fallback_to_sample=False)


def test_unknown_dataset_name_lists_the_choices():
    message = r"unknown dataset 'imagenet'; choose one of: fashion-mnist, mnist, cifar10, sample"
    with pytest.raises(ValueError, match=message):
        load_dataset("imagenet")


def test_bundled_sample_is_real_stratified_and_verified():
    data = load_dataset("sample")
    assert [check.status for check in data.files] == ["verified"] * 4
    assert np.bincount(data.y_train).tolist() == [150] * 10
    assert np.bincount(data.y_test).tolist() == [50] * 10
    assert (datasets.SAMPLE_DIR / "LICENSE").read_text().count("MIT License") == 1
    total_bytes = sum(p.stat().st_size for p in datasets.SAMPLE_DIR.iterdir())
    assert total_bytes < 1_000_000


@pytest.mark.skipif(
    not DEBIAN_DIR.is_dir(), reason="needs Debian's dataset-fashion-mnist (installed by `make test` as root)"
)
def test_debian_fashion_mnist_is_found_and_all_four_checksums_verify():
    start = time.perf_counter()
    data = load_dataset("fashion-mnist")
    seconds = time.perf_counter() - start
    assert data.location == str(DEBIAN_DIR)
    assert [check.status for check in data.files] == ["verified"] * 4
    assert data.x_train.shape == (60000, 1, 28, 28) and data.x_test.shape == (10000, 1, 28, 28)
    assert np.bincount(data.y_test).tolist() == [1000] * 10
    print(f"loaded full Fashion-MNIST in {seconds:.2f} s")  # reported, not asserted: machines vary


# ----------------------------------------------------------------------------- splits, statistics


def test_train_val_split_is_stratified_seeded_and_disjoint():
    x = np.arange(1000)
    y = np.repeat(np.arange(10), 100)
    x_train, y_train, x_val, y_val = train_val_split(x, y, 0.2, seed=3)
    assert np.bincount(y_val).tolist() == [20] * 10
    assert len(x_train) == 800 and not set(x_train) & set(x_val)
    again = train_val_split(x, y, 0.2, seed=3)
    np.testing.assert_array_equal(again[2], x_val)
    assert not np.array_equal(train_val_split(x, y, 0.2, seed=4)[2], x_val)


def test_train_val_split_rejects_bad_fractions():
    with pytest.raises(ValueError, match=r"val_fraction must be in \[0, 1\), got 1.0"):
        train_val_split(np.zeros(4), np.zeros(4), 1.0)


def test_normalisation_uses_training_statistics():
    data = load_dataset("sample")
    pixels = data.x_train.astype(np.float64) / 255
    np.testing.assert_allclose(data.mean, [pixels.mean()])
    np.testing.assert_allclose(data.std, [pixels.std()])
    normalized = data.normalize(data.x_train)
    assert normalized.dtype == np.float32
    np.testing.assert_allclose(normalized.mean(), 0, atol=1e-4)
    np.testing.assert_allclose(normalized.std(), 1, atol=1e-4)
