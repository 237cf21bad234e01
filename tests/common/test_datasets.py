import gzip
import hashlib
import time
import warnings

import numpy as np
import pytest

from nnscratch.common import data_files, datasets
from nnscratch.common.datasets import (
    ChecksumWarning,
    DatasetError,
    SampleFallbackWarning,
    check_labels,
    encode_idx,
    find_dataset,
    load_dataset,
    parse_cifar_batch,
    parse_idx,
    read_idx,
    train_val_split,
)
from tests.dataset_support import (
    cifar_batch,
    gzip_bomb,
    idx_header,
    idx_path,
    make_cifar_dataset,
    make_idx_dataset,
    write_npz,
    write_npz_declaring,
)

DEBIAN_DIR = datasets.SYSTEM_DATA_ROOT / "fashion-mnist"


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
    x_train = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "mnist.npz", x_train=x_train, y_train=np.arange(6), x_test=x_train[:2], y_test=np.arange(2))
    data = load_dataset("mnist", data_dir=tmp_path)
    assert data.x_train.shape == (6, 1, 28, 28)
    np.testing.assert_array_equal(data.x_train[:, 0], x_train)


def test_npz_arrays_in_fortran_order_and_big_endian_are_read_as_saved(tmp_path, isolated_data_dirs):
    x_train = np.asfortranarray(np.random.default_rng(0).integers(0, 256, (6, 28, 28), dtype=np.uint8))
    path = write_npz(tmp_path / "mnist.npz", x_train=x_train, y_train=np.arange(6, dtype=">i8"))
    data = load_dataset("mnist", data_dir=path.parent)
    np.testing.assert_array_equal(data.x_train[:, 0], x_train)
    assert data.y_train.dtype == np.int64 and data.y_train.tolist() == list(range(6))


def test_npz_missing_arrays_are_named(tmp_path, isolated_data_dirs):
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(DatasetError, match=r"missing array\(s\) \['y_train', 'x_test', 'y_test'\]"):
        load_dataset("mnist", data_dir=tmp_path)


# ----------------------------------------------------------------------------- lookup & checksums


def test_search_order_is_data_dir_then_env_then_cache_then_system(tmp_path, isolated_data_dirs, monkeypatch):
    monkeypatch.setenv("NNSCRATCH_DATA", str(tmp_path / "env"))
    (tmp_path / "env").mkdir()
    (tmp_path / "given").mkdir()
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


# ----------------------------------------------------------------------------- the folders the user names


def load_quietly(name, data_dir=None):
    """load_dataset with the checksum warnings of the tests' own files silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChecksumWarning)
        return load_dataset(name, data_dir=data_dir)


def test_data_dir_that_does_not_exist_is_refused_not_replaced_by_the_sample(tmp_path, isolated_data_dirs):
    with pytest.raises(DatasetError, match=rf"^--data-dir {tmp_path / 'nowhere'}: no such folder$"):
        load_dataset("fashion-mnist", data_dir=tmp_path / "nowhere")


def test_data_dir_that_is_a_file_is_refused(tmp_path, isolated_data_dirs):
    (tmp_path / "mnist.tar").write_bytes(b"not a folder")
    with pytest.raises(DatasetError, match=rf"--data-dir {tmp_path / 'mnist.tar'}: is a file, not a folder"):
        load_dataset("mnist", data_dir=tmp_path / "mnist.tar")


def test_nnscratch_data_that_does_not_exist_is_refused_naming_the_variable(tmp_path, isolated_data_dirs, monkeypatch):
    make_idx_dataset(tmp_path / "cache" / "nnscratch" / "mnist")
    monkeypatch.setenv("NNSCRATCH_DATA", str(tmp_path / "typo"))
    with pytest.raises(DatasetError, match=rf"\$NNSCRATCH_DATA {tmp_path / 'typo'}: no such folder"):
        load_dataset("mnist")


@pytest.mark.parametrize(
    "removed, missing",
    [
        (["test_labels"], "t10k-labels-idx1-ubyte[.gz]"),
        (["test_images", "test_labels"], "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]"),
        (["train_images", "train_labels", "test_images"], "train-images-idx3-ubyte[.gz]"),
    ],
    ids=["3-of-4-files", "train-files-only", "test-labels-only"],
)
def test_folder_with_part_of_a_dataset_names_it_and_the_missing_files(tmp_path, isolated_data_dirs, removed, missing):
    make_idx_dataset(tmp_path / "cache" / "nnscratch" / "mnist")  # a complete copy that must not be used instead
    folder = tmp_path / "given" / "mnist"
    make_idx_dataset(folder)
    for role in removed:
        next(folder.glob(f"{datasets.IDX_ROLES[role][0]}*")).unlink()
    with pytest.raises(DatasetError, match=rf"^{folder} holds only part of mnist: missing .*") as caught:
        load_dataset("mnist", data_dir=tmp_path / "given")
    assert missing in str(caught.value) and "\n" not in str(caught.value)


def test_cifar_folder_with_part_of_the_batches_names_the_missing_ones(tmp_path, isolated_data_dirs):
    inner = make_cifar_dataset(tmp_path / "cifar10")
    (inner / "data_batch_3.bin").unlink()
    (inner / "test_batch.bin").unlink()
    missing = "cifar-10-batches-bin/data_batch_3.bin, cifar-10-batches-bin/test_batch.bin"
    message = rf"^{tmp_path / 'cifar10'} holds only part of cifar10: missing {missing} \(found data_batch_1.bin, "
    with pytest.raises(DatasetError, match=message):
        load_dataset("cifar10", data_dir=tmp_path)


def test_data_dir_holding_none_of_the_dataset_warns_where_it_was_found(tmp_path, isolated_data_dirs):
    found = tmp_path / "cache" / "nnscratch" / "mnist"
    make_idx_dataset(found)
    (tmp_path / "given").mkdir()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_dataset("mnist", data_dir=tmp_path / "given")
    notes = [str(w.message) for w in caught if w.category is datasets.DataDirWarning]
    assert data.location == str(found)
    assert notes == [
        f"--data-dir {tmp_path / 'given'} holds none of mnist's files (in {tmp_path / 'given' / 'mnist'} or "
        f"{tmp_path / 'given'} itself); using the copy in {found}"
    ]


def test_not_found_error_and_sample_fallback_warning_are_one_line(tmp_path, isolated_data_dirs):
    (tmp_path / "given").mkdir()
    with pytest.raises(FileNotFoundError) as caught:
        load_dataset("mnist", data_dir=tmp_path / "given")
    assert "\n" not in str(caught.value) and f"Searched: {tmp_path / 'given' / 'mnist'}, " in str(caught.value)
    with pytest.warns(SampleFallbackWarning) as warned:
        load_dataset("fashion-mnist")
    assert "\n" not in str(warned[0].message)


def test_unreadable_dataset_file_is_a_one_line_dataset_error(tmp_path, isolated_data_dirs, monkeypatch):
    make_idx_dataset(tmp_path / "mnist")

    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(data_files, "open", refuse, raising=False)
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    with pytest.raises(DatasetError, match=rf"^{path}: cannot be read \(Permission denied\)$"):
        load_dataset("mnist", data_dir=tmp_path)


def test_folder_in_place_of_a_dataset_file_is_a_dataset_error(tmp_path, isolated_data_dirs):
    make_idx_dataset(tmp_path / "mnist")
    path = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    path.unlink()
    path.mkdir()
    with pytest.raises(DatasetError, match=rf"^{path}: cannot be read \(Is a directory\)$"):
        load_dataset("mnist", data_dir=tmp_path)


# ----------------------------------------------------------------------------- IDX headers, sizes, gzip bombs


def test_idx_size_is_computed_with_python_integers_not_overflowing(tmp_path):
    largest = 2**32 - 1
    declared = 16 + largest**3  # about 2**96: np.prod would wrap around in int64
    with pytest.raises(DatasetError, match=rf"need {declared} bytes but the file has 16 \(truncated\?\)"):
        parse_idx(idx_header(largest, largest, largest), "huge")


def test_gzip_declaring_more_than_deflate_can_inflate_is_refused_unread(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_header(60000, 28, 28) + bytes(100)))
    size = path.stat().st_size
    message = rf"need 47040016 bytes but a {size}-byte gzip file inflates to at most {size * 1032:,}"
    with pytest.raises(DatasetError, match=message):
        read_idx(path)


def test_gzip_bomb_after_a_small_header_is_refused_one_byte_past_the_declared_size(tmp_path, monkeypatch):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip_bomb(idx_header(3, 28, 28), 64 << 20))
    inflated = []
    original_fill = data_files.DataFile._fill
    monkeypatch.setattr(
        data_files.DataFile, "_fill", lambda self, buffer: inflated.append(buffer.size) or original_fill(self, buffer)
    )
    with pytest.raises(DatasetError, match=r"IDX dims \(3, 28, 28\) need 2368 bytes but the decompressed file goes on"):
        read_idx(path)
    assert inflated == [3 * 28 * 28]


def test_raw_idx_file_longer_than_its_header_declares_is_refused(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(idx_header(3) + bytes(4))
    with pytest.raises(DatasetError, match=rf"{path}: IDX dims \(3,\) need 11 bytes but the file has 12$"):
        read_idx(path)


@pytest.mark.parametrize(
    "header, message",
    [
        (b"\x00\x00", r"too short for an IDX file \(2 bytes, need at least 4\)"),
        (
            idx_header(3, 28, 28, dtype_code=0x0C),
            r"not an IDX file of unsigned bytes: magic 00000c03 \(expected 000008",
        ),
        (idx_header(ndim=0), r"not an IDX file of unsigned bytes: magic 00000800 \(expected 000008"),
        (idx_header(1, 1, 1, 1, 1), r"not an IDX file of unsigned bytes: magic 00000805 \(expected 000008"),
        (b"\x01\x00\x08\x01", r"not an IDX file of unsigned bytes: magic 01000801 \(expected 000008"),
        (idx_header(3, 28, 28)[:9], r"IDX header truncated \(9 bytes, need 16\)"),
    ],
    ids=["too-short", "int32-dtype-code", "zero-dimensions", "five-dimensions", "nonzero-first-byte", "header-cut"],
)
def test_malformed_idx_header_names_the_file(tmp_path, header, message):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(header)
    with pytest.raises(DatasetError, match=rf"^{path}: {message}"):
        read_idx(path)


@pytest.mark.parametrize(
    "role, data, message",
    [
        (
            "train_images",
            idx_header(3 * 28 * 28) + bytes(3 * 28 * 28),
            r"IDX header gives 1 dimension\(s\); images need 3",
        ),
        ("test_labels", idx_header(10, 1, 1) + bytes(10), r"IDX header gives 3 dimension\(s\); labels need 1"),
        ("train_images", idx_header(20, 32, 32) + bytes(20 * 32 * 32), r"images of 32x32, expected 28x28"),
        ("test_images", idx_header(0, 28, 28), r"holds no images \(IDX dims \(0, 28, 28\)\)"),
    ],
    ids=["images-as-vector", "labels-with-3-dims", "32x32-images", "no-test-images"],
)
def test_idx_file_that_does_not_fit_its_role_names_it(tmp_path, isolated_data_dirs, role, data, message):
    make_idx_dataset(tmp_path / "mnist")
    path = idx_path(tmp_path / "mnist", role)
    path.write_bytes(gzip.compress(data))
    with pytest.raises(DatasetError, match=rf"^{path}: {message}"):
        load_quietly("mnist", tmp_path)


def test_fewer_labels_than_images_names_both_files(tmp_path, isolated_data_dirs):
    make_idx_dataset(tmp_path / "mnist")
    images, labels = idx_path(tmp_path / "mnist", "test_images"), idx_path(tmp_path / "mnist", "test_labels")
    labels.write_bytes(gzip.compress(idx_header(9) + bytes(9)))
    with pytest.raises(DatasetError, match=rf"^{images} holds 10 images but {labels} 9 labels$"):
        load_quietly("mnist", tmp_path)


# ----------------------------------------------------------------------------- labels


@pytest.mark.parametrize(
    "labels, message",
    [
        ([0, 9, 10], r"labels\[2\] is 10, outside 0..9 \(10 classes; 1 bad label\(s\) in all\)"),
        ([-1, 3, -2], r"labels\[0\] is -1, outside 0..9 \(10 classes; 2 bad label\(s\) in all\)"),
        (np.array([0.0, 1.0]), r"labels must be integers \(class indices\), got dtype float64"),
        (np.array([True, False]), r"labels must be integers \(class indices\), got dtype bool"),
    ],
    ids=["equal-to-num-classes", "negative", "float", "bool"],
)
def test_labels_must_be_integers_below_num_classes(labels, message):
    with pytest.raises(DatasetError, match=rf"^file.idx: {message}$"):
        check_labels(np.asarray(labels), 10, "file.idx")


def test_labels_up_to_num_classes_minus_one_are_accepted():
    labels = check_labels(np.arange(10, dtype=np.uint8), 10, "file.idx")
    assert labels.dtype == np.int64 and labels.tolist() == list(range(10))


@pytest.mark.parametrize("role", ["train_labels", "test_labels"])
def test_idx_label_equal_to_num_classes_is_found_when_loading(tmp_path, isolated_data_dirs, role):
    arrays = make_idx_dataset(tmp_path / "mnist")
    labels = arrays[role].copy()
    labels[7] = 10
    path = idx_path(tmp_path / "mnist", role)
    path.write_bytes(gzip.compress(encode_idx(labels)))
    with pytest.raises(DatasetError, match=rf"^{path}: labels\[7\] is 10, outside 0..9"):
        load_quietly("mnist", tmp_path)


def test_cifar_test_label_out_of_range_names_the_batch_and_index(tmp_path, isolated_data_dirs):
    inner = make_cifar_dataset(tmp_path / "cifar10")
    (inner / "test_batch.bin").write_bytes(cifar_batch([3, 10, 200]))
    with pytest.raises(
        DatasetError, match=rf"^{inner / 'test_batch.bin'}: labels\[1\] is 10, outside 0..9 \(10 classes; 2 bad"
    ):
        load_dataset("cifar10", data_dir=tmp_path)


def test_cifar_batch_longer_than_cifar10_batches_is_refused_unread(tmp_path, isolated_data_dirs):
    inner = make_cifar_dataset(tmp_path / "cifar10")
    (inner / "data_batch_2.bin").write_bytes(gzip_bomb(b"", 64 << 20))
    with pytest.raises(
        DatasetError, match=r"data_batch_2.bin: at most 30,730,000 bytes \(10,000 records of a CIFAR-10"
    ):
        load_dataset("cifar10", data_dir=tmp_path)


# ----------------------------------------------------------------------------- npz


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"x_train": np.zeros((6, 28, 28), np.float32)},
            r"x_train must be uint8 images \(N, 28, 28\) or \(N, 1, 28, 28\), got dtype float32",
        ),
        ({"x_test": np.zeros((3, 784), np.uint8)}, r"x_test must be uint8 images .*, got dtype uint8 shape \(3, 784\)"),
        ({"x_train": np.zeros((6, 8, 8), np.uint8)}, r"x_train must be uint8 images .* shape \(6, 8, 8\)"),
        ({"x_train": np.zeros((0, 28, 28), np.uint8)}, r"x_train holds no images"),
        ({"y_train": np.arange(6) * 0.5}, r"y_train must be integer labels \(N,\), got dtype float64"),
        (
            {"y_test": np.zeros((3, 1), np.int64)},
            r"y_test must be integer labels \(N,\), got dtype int64 shape \(3, 1\)",
        ),
        ({"y_test": np.array([0, 10, 2])}, r"y_test\[1\] is 10, outside 0..9"),
        ({"y_train": np.array([0, 1, 2, 3, 4, -5])}, r"y_train\[5\] is -5, outside 0..9"),
        ({"y_train": np.arange(5)}, r"x_train holds 6 images but y_train 5 labels"),
        (
            {"y_test": np.array([1, "a", None], dtype=object)},
            r"member 'y_test.npy' is an object array that only pickle could load; refused \(it was not unpickled\)",
        ),
        ({"x_test": None, "y_test": None}, r"missing array\(s\) \['x_test', 'y_test'\]"),
    ],
    ids=[
        "float-images",
        "flat-images",
        "8x8-images",
        "no-images",
        "float-labels",
        "2d-labels",
        "label-equal-to-num-classes",
        "negative-label",
        "fewer-labels",
        "object-array",
        "no-test-set",
    ],
)
def test_malformed_npz_dataset_is_refused_naming_the_file_and_array(tmp_path, isolated_data_dirs, changes, message):
    path = write_npz(tmp_path / "mnist.npz", **changes)
    with pytest.raises(DatasetError, match=rf"^{path}: {message}"):
        load_dataset("mnist", data_dir=tmp_path)


def test_npz_array_declaring_more_than_the_archive_can_hold_is_refused_unread(tmp_path, isolated_data_dirs):
    path = write_npz_declaring(tmp_path / "mnist.npz", "x_train", (2**40, 28, 28))
    with pytest.raises(
        DatasetError,
        match=rf"^{path}: member 'x_train.npy': its header declares \(1099511627776, 28, 28\) uint8 .* the zip says",
    ):
        load_dataset("mnist", data_dir=tmp_path)


def test_npz_array_shorter_than_its_header_declares_is_refused(tmp_path, isolated_data_dirs):
    path = write_npz_declaring(tmp_path / "mnist.npz", "y_test", (3,), "<i8", bytes(16))
    with pytest.raises(
        DatasetError,
        match=rf"^{path}: member 'y_test.npy': its header declares \(3,\) int64 \(24 bytes .* inflates to 144 bytes",
    ):
        load_dataset("mnist", data_dir=tmp_path)


def test_file_that_is_not_a_zip_archive_is_refused_as_npz(tmp_path, isolated_data_dirs):
    (tmp_path / "mnist.npz").write_bytes(b"x_train,y_train\n1,2\n")
    with pytest.raises(
        DatasetError, match=rf"^{tmp_path / 'mnist.npz'}: not a readable zip archive \(File is not a zip file\)"
    ):
        load_dataset("mnist", data_dir=tmp_path)
