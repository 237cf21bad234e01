"""Datasets of your own: ``load_dataset(PATH)`` on an ``.npz`` file or an image folder, good and bad."""

import shutil

import numpy as np
import pytest

from nnscratch.common.dataset_export import folder_name, write_image_folder, write_npz_dataset
from nnscratch.common.datasets import DatasetError, is_dataset_path, load_dataset
from tests.dataset_support import make_image_folder, write_png


def images(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


GOOD = {
    "x_train": images((6, 5, 4)),
    "y_train": np.arange(6) % 3,
    "x_test": images((3, 5, 4), 1),
    "y_test": np.arange(3),
}


def write(path, **changes):
    """An .npz dataset at ``path``: the good arrays with ``changes`` (None leaves a key out)."""
    arrays = {**GOOD, **changes}
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return path


# ----------------------------------------------------------------------------- what counts as a path


@pytest.mark.parametrize(
    "name, is_path",
    [("sample", False), ("fashion-mnst", False), ("data.npz", True), ("my/images", True), ("cifar10", False)],
)
def test_a_name_is_a_path_when_it_is_written_as_one(name, is_path):
    assert is_dataset_path(name) is is_path


def test_an_existing_folder_is_a_path_even_without_a_slash(tmp_path, monkeypatch):
    make_image_folder(tmp_path / "pets")
    monkeypatch.chdir(tmp_path)
    assert is_dataset_path("pets") and load_dataset("pets").classes == ("cat", "dog")


# ----------------------------------------------------------------------------- npz: the accepted forms


def test_npz_of_gray_images_is_loaded_as_nchw_uint8_with_numbered_classes(tmp_path):
    dataset = load_dataset(str(write(tmp_path / "d.npz")))
    assert dataset.x_train.shape == (6, 1, 5, 4) and dataset.x_train.dtype == np.uint8
    np.testing.assert_array_equal(dataset.x_test[:, 0], GOOD["x_test"])
    assert dataset.y_train.dtype == np.int64 and dataset.classes == ("0", "1", "2")
    assert dataset.name == str(tmp_path / "d.npz") and dataset.location == str((tmp_path / "d.npz").resolve())


def test_npz_channels_first_and_channels_last_give_the_same_images(tmp_path):
    nchw = images((6, 3, 5, 4))
    first = load_dataset(str(write(tmp_path / "first.npz", x_train=nchw, x_test=nchw[:3])))
    last_array = nchw.transpose(0, 2, 3, 1)
    last = load_dataset(str(write(tmp_path / "last.npz", x_train=last_array, x_test=last_array[:3])))
    assert first.image_shape == last.image_shape == (3, 5, 4)
    np.testing.assert_array_equal(first.x_train, last.x_train)


def test_npz_float_pixels_in_0_1_become_the_uint8_pixels_they_scale(tmp_path):
    floats = GOOD["x_train"].astype(np.float32) / 255
    dataset = load_dataset(str(write(tmp_path / "f.npz", x_train=floats)))
    np.testing.assert_array_equal(dataset.x_train[:, 0], GOOD["x_train"])


def test_npz_class_names_name_the_classes(tmp_path):
    dataset = load_dataset(str(write(tmp_path / "n.npz", class_names=np.array(["cat", "dog", "bird", "fish"]))))
    assert dataset.classes == ("cat", "dog", "bird", "fish") and dataset.num_classes == 4


def test_the_sample_written_as_npz_reads_back_identical(tmp_path):
    sample = load_dataset("sample")
    copy = load_dataset(str(write_npz_dataset(sample, tmp_path / "sample.npz")))
    assert copy.classes == sample.classes
    for key in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(copy, key), getattr(sample, key))


# ----------------------------------------------------------------------------- image folders: the accepted forms


def test_image_folder_of_gray_pngs_has_one_channel_and_sorted_folder_classes(tmp_path):
    root = make_image_folder(tmp_path / "pets", classes=("dog", "cat", "bird"), per_class=2, size=(6, 5))
    dataset = load_dataset(str(root))
    assert dataset.classes == ("bird", "cat", "dog")
    assert dataset.x_train.shape == (6, 1, 6, 5) and dataset.x_test.shape == (6, 1, 6, 5)
    np.testing.assert_array_equal(dataset.y_train, [0, 0, 1, 1, 2, 2])


def test_image_folder_of_colour_pngs_has_three_channels(tmp_path):
    dataset = load_dataset(str(make_image_folder(tmp_path / "c", colour=True)))
    assert dataset.image_shape == (3, 6, 5)


def test_one_colour_png_makes_the_whole_folder_rgb_with_gray_images_repeated(tmp_path):
    root = make_image_folder(tmp_path / "mixed")
    colour = images((6, 5, 3))
    write_png(root / "test" / "dog" / "1.png", colour)
    dataset = load_dataset(str(root))
    assert dataset.image_shape == (3, 6, 5)
    np.testing.assert_array_equal(dataset.x_test[-1].transpose(1, 2, 0), colour)
    gray = dataset.x_train[0]
    np.testing.assert_array_equal(gray[0], gray[1])


def test_the_sample_written_as_an_image_folder_reads_back_every_pixel_and_class(tmp_path):
    sample = load_dataset("sample")
    copy = load_dataset(str(write_image_folder(sample, tmp_path / "sample")))
    assert sorted(copy.classes) == sorted(folder_name(name) for name in sample.classes)
    renumber = np.array([copy.classes.index(folder_name(name)) for name in sample.classes])
    for split in ("train", "test"):
        labels = getattr(sample, f"y_{split}")
        order = np.lexsort((np.arange(len(labels)), renumber[labels]))  # class by class, then file order
        np.testing.assert_array_equal(getattr(copy, f"x_{split}"), getattr(sample, f"x_{split}")[order])
        np.testing.assert_array_equal(getattr(copy, f"y_{split}"), renumber[labels][order])


# ----------------------------------------------------------------------------- bad files: one line naming what is wrong


def _float_above_one():
    pixels = np.zeros((6, 5, 4), np.float32)
    pixels[2, 1, 3] = 1.5
    return pixels


def _nan_pixel():
    pixels = np.full((3, 5, 4), 0.5)
    pixels[1, 0, 0] = np.nan
    return pixels


BAD_NPZ = {
    # id: (changes to the good arrays, the message after "PATH: ")
    "int64-images": (
        {"x_train": GOOD["x_train"].astype(np.int64)},
        "x_train must be uint8 pixels (0..255) or floats in [0, 1], got dtype int64",
    ),
    "float-pixel-above-1": (
        {"x_train": _float_above_one()},
        "x_train[2, 1, 3] is 1.5: float pixels must be in [0, 1] (1 outside)",
    ),
    "nan-pixel": ({"x_test": _nan_pixel()}, "x_test[1, 0, 0] is nan: float pixels must be in [0, 1] (1 outside)"),
    "five-channels": (
        {"x_train": np.zeros((6, 5, 4, 5), np.uint8)},
        "x_train must be images (N, H, W), (N, C, H, W) or (N, H, W, C) with C = 1 or 3, got shape (6, 5, 4, 5)",
    ),
    "flat-images": (
        {"x_test": np.zeros((3, 20), np.uint8)},
        "x_test must be images (N, H, W), (N, C, H, W) or (N, H, W, C) with C = 1 or 3, got shape (3, 20)",
    ),
    "no-training-images": (
        {"x_train": np.zeros((0, 5, 4), np.uint8), "y_train": np.zeros(0, np.int64)},
        "x_train holds no images (shape (0, 5, 4))",
    ),
    "test-images-of-another-size": (
        {"x_test": np.zeros((3, 4, 4), np.uint8)},
        "x_test holds 1x4x4 images but x_train 1x5x4; both need the same image shape",
    ),
    "fewer-labels-than-images": ({"y_train": np.arange(5)}, "x_train holds 6 images but y_train 5 labels"),
    "label-beyond-the-class-names": (
        {"class_names": np.array(["a", "b"])},
        "y_train[2] is 2, outside 0..1 (2 classes; 2 bad label(s) in all)",
    ),
    "negative-label": (
        {"y_test": np.array([0, -1, 2])},
        "y_test[1] is -1, outside 0..2 (3 classes; 1 bad label(s) in all)",
    ),
    "float-labels": (
        {"y_train": np.arange(6) / 2},
        "y_train must be integer labels (N,), got dtype float64 shape (6,)",
    ),
    "class-names-as-objects": (
        {"class_names": np.array(["a", "b", "c"], dtype=object)},
        "member 'class_names.npy' is an object array that only pickle could load; refused (it was not unpickled)",
    ),
    "class-names-as-numbers": (
        {"class_names": np.arange(3)},
        "class_names must be a non-empty unicode array (K,) like np.array(['cat', 'dog']), got dtype int64 shape (3,)",
    ),
    "class-names-repeated": (
        {"class_names": np.array(["a", "b", "a"])},
        "class_names repeats ['a']; each class needs its own name",
    ),
    "no-test-labels": (
        {"y_test": None},
        "missing array(s) ['y_test']; an .npz dataset holds ['x_train', 'y_train', 'x_test', 'y_test']",
    ),
}


@pytest.mark.parametrize("case", BAD_NPZ, ids=str)
def test_bad_npz_dataset_is_refused_with_one_line_naming_the_file_and_array(tmp_path, case):
    changes, message = BAD_NPZ[case]
    path = write(tmp_path / f"{case}.npz", **changes)
    with pytest.raises(DatasetError) as error:
        load_dataset(str(path))
    assert str(error.value) == f"{path}: {message}"


def test_npz_that_is_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "text.npz"
    path.write_text("x_train,y_train\n")
    with pytest.raises(DatasetError) as error:
        load_dataset(str(path))
    assert str(error.value) == f"{path}: not a readable zip archive (File is not a zip file)"


def _remove_test_folder(root):
    shutil.rmtree(root / "test")
    layout = "an image-folder dataset holds train/ and test/, each with one folder of .png images per class"
    return root, f"{root}: {layout}; test/ is missing"


def _empty_train_folder(root):
    shutil.rmtree(root / "train")
    (root / "train").mkdir()
    return root, f"{root / 'train'}: holds no class folders (train/CLASS/*.png)"


def _misspelt_test_class(root):
    (root / "test" / "dog").rename(root / "test" / "dgo")
    return (
        root,
        f"{root}: train/ and test/ must have the same class folders (train/ only: ['dog']; test/ only: ['dgo'])",
    )


def _class_without_png(root):
    for path in (root / "train" / "dog").iterdir():
        path.unlink()
    (root / "train" / "dog" / "notes.txt").write_text("not an image")
    return root, f"{root / 'train' / 'dog'}: holds no .png images"


def _image_of_another_size(root):
    path = write_png(root / "test" / "dog" / "1.png", np.zeros((6, 7), np.uint8))
    first = root / "train" / "cat" / "0.png"
    return root, f"{path}: 7x6 pixels, but {first} (the first image) is 5x6; every image must have the same size"


def _not_a_png(root):
    path = root / "train" / "cat" / "1.png"
    path.write_bytes(b"not a png")
    return root, f"{path}: not a readable PNG image (not a PNG file)"


def _truncated_png(root):
    path = root / "train" / "dog" / "0.png"
    path.write_bytes(path.read_bytes()[:60])
    return root, f"{path}: not a readable PNG image (Truncated File Read)"


BAD_FOLDERS = {
    "no-test-folder": _remove_test_folder,
    "no-class-folders": _empty_train_folder,
    "test-classes-differ": _misspelt_test_class,
    "class-folder-without-png": _class_without_png,
    "image-of-another-size": _image_of_another_size,
    "text-named-png": _not_a_png,
    "truncated-png": _truncated_png,
}


@pytest.mark.parametrize("case", BAD_FOLDERS, ids=str)
def test_bad_image_folder_is_refused_with_one_line_naming_the_folder_or_file(tmp_path, case):
    root, message = BAD_FOLDERS[case](make_image_folder(tmp_path / case))
    with pytest.raises(DatasetError) as error:
        load_dataset(str(root))
    assert str(error.value) == message


def test_a_missing_path_is_refused_naming_it(tmp_path):
    path = tmp_path / "nowhere" / "data.npz"
    with pytest.raises(DatasetError) as error:
        load_dataset(str(path))
    assert (
        str(error.value) == f"{path}: no such file or folder (a dataset of your own is an .npz file or an image folder)"
    )
