"""demystify.captions: the Flickr8k token-file and COCO captions-JSON readers, and discovery."""
import json

import pytest

from demystify import DataCorrupt, DataNotAvailable
from demystify.captions import (CaptionSet, CaptionsFormatError, find_captions, load_captions,
                                read_coco, read_flickr8k)

FLICKR = ("1000268201_693b08cb0e.jpg#1\tA girl going into a wooden building .\n"
          "1000268201_693b08cb0e.jpg#0\tA child in a pink dress is climbing up stairs .\n"
          "\n"
          "1001773457_577c3a7d70.jpg#0\tA black dog and a spotted dog are fighting\n")
COCO = {"images": [{"id": 9, "file_name": "COCO_val2014_000000000009.jpg"},
                   {"id": 25, "file_name": "COCO_val2014_000000000025.jpg"}],
        "annotations": [{"id": 1, "image_id": 9, "caption": "A plate of food. "},
                        {"id": 2, "image_id": 25, "caption": "A giraffe eating leaves."},
                        {"id": 3, "image_id": 9, "caption": "Dishes with broccoli."}]}


@pytest.fixture(autouse=True)
def no_captions_dir(monkeypatch, tmp_path):
    """No test sees the caller's CAPTIONS_DIR or data cache."""
    monkeypatch.delenv("CAPTIONS_DIR", raising=False)
    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path / "data"))


def test_flickr8k_reader_groups_captions_in_number_order(tmp_path):
    path = tmp_path / "Flickr8k.token.txt"
    path.write_text(FLICKR)
    captions = read_flickr8k(path)
    assert len(captions) == 2
    assert captions.captions["1000268201_693b08cb0e.jpg"] == [
        "A child in a pink dress is climbing up stairs .", "A girl going into a wooden building ."]
    assert captions.references() == [[
        ["a", "child", "in", "a", "pink", "dress", "is", "climbing", "up", "stairs"],
        ["a", "girl", "going", "into", "a", "wooden", "building"]]]


@pytest.mark.parametrize("line", ["no_tab.jpg#0 a caption", "no_number.jpg\ta caption",
                                  "empty.jpg#0\t   "])
def test_flickr8k_bad_line_names_file_and_line(tmp_path, line):
    path = tmp_path / "Flickr8k.token.txt"
    path.write_text(FLICKR + line + "\n")
    with pytest.raises(CaptionsFormatError, match=r"Flickr8k.token.txt:5: expected") as err:
        read_flickr8k(path)
    assert isinstance(err.value, DataCorrupt)


def test_coco_reader_keys_by_file_name(tmp_path):
    path = tmp_path / "captions_val2014.json"
    path.write_text(json.dumps(COCO))
    captions = read_coco(path)
    assert captions.captions["COCO_val2014_000000000009.jpg"] == ["A plate of food.",
                                                                  "Dishes with broccoli."]
    assert "2 images with 3 captions" in repr(captions)


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    (json.dumps({"annotations": []}), "not a COCO captions file"),
    (json.dumps({"images": [{"id": 1}], "annotations": []}), r"images\[0\] needs"),
    (json.dumps({"images": [], "annotations": [{"image_id": 3, "caption": "x"}]}),
     "refers to image_id 3")])
def test_coco_bad_input_says_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "captions_val2014.json"
    path.write_text(content)
    with pytest.raises(CaptionsFormatError, match=message):
        read_coco(path)


def test_offline_default_finds_nothing():
    assert find_captions() is None
    assert load_captions() is None


def test_data_dir_and_captions_dir(monkeypatch, tmp_path):
    folder = tmp_path / "data" / "captions"
    folder.mkdir(parents=True)
    (folder / "captions_val2014.json").write_text(json.dumps(COCO))
    assert len(load_captions()) == 2                      # found under $DEMYSTIFY_DATA/captions
    (folder / "Flickr8k.token.txt").write_text(FLICKR)
    assert load_captions().source.startswith("Flickr8k")  # the token file is preferred
    monkeypatch.setenv("CAPTIONS_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(DataNotAvailable, match="unset CAPTIONS_DIR"):
        load_captions()


def test_references_lowercase_keep_numbers_and_drop_punctuation():
    captions = CaptionSet({"b.jpg": ["A dog's ball, in 2 parks.", "Two dogs!"],
                           "a.jpg": ["Only one caption."]}, "test")
    assert captions.references() == [[["a", "dog's", "ball", "in", "2", "parks"],
                                       ["two", "dogs"]]]
    assert len(captions.references(min_captions=1)) == 2
