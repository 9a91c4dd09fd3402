"""Official image-caption files: Flickr8k's token file and COCO's captions JSON.

Chapter 07 trains on generated scenes (offline, seconds); these readers let it look at real
human captions when the files are on this machine. Two formats are read:

- Flickr8k (Hodosh et al. 2013), `Flickr8k.token.txt`, one caption a line::

      1000268201_693b08cb0e.jpg#0<TAB>A child in a pink dress is climbing up a set of stairs .

  the image's file name, `#` and the caption's number (0–4), a tab, the caption.
- COCO captions (`captions_train2014.json`, `captions_val2014.json`, …): a JSON object with
  `"images"` (`{"id", "file_name"}`) and `"annotations"` (`{"image_id", "caption"}`).

`find_captions` looks in `$CAPTIONS_DIR`, then `$DEMYSTIFY_DATA/captions` (default
data/cache/captions); `load_captions` reads what it finds, or returns None so the chapter runs
on its scenes. Nothing is downloaded. A malformed file raises `CaptionsFormatError` naming the
file and line (or entry) and what the format should be.
"""
from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .data import DataCorrupt, DataNotAvailable, data_dir
from .text import tokenize

FLICKR8K_FILE = "Flickr8k.token.txt"
COCO_PATTERN = "captions_*.json"
_FLICKR_LINE = re.compile(r"^(?P<image>[^\t#]+)#(?P<number>\d+)\t(?P<caption>.*\S.*)$")
_FLICKR_FORMAT = "expected 'IMAGE.jpg#N<TAB>caption' (Flickr8k.token.txt)"


class CaptionsFormatError(DataCorrupt):
    """A caption file not in the Flickr8k or COCO format; the message names file and line."""


@dataclass
class CaptionSet:
    """Reference captions per image, as read from official files.

    captions: image file name -> its captions in file order; source: which format and file(s).
    """
    captions: dict[str, list[str]]
    source: str

    def __len__(self) -> int:
        return len(self.captions)

    def references(self, min_captions: int = 2) -> list[list[list[str]]]:
        """Tokenized captions of every image with at least `min_captions` (sorted by name):
        lower-case words and numbers, punctuation dropped (as in Karpathy's COCO splits)."""
        return [[tokenize(c, numbers=True) for c in self.captions[name]]
                for name in sorted(self.captions)
                if len(self.captions[name]) >= min_captions]

    def __repr__(self) -> str:
        n = sum(len(c) for c in self.captions.values())
        return f"{len(self)} images with {n} captions ({self.source})"


def read_flickr8k(path: str | Path) -> CaptionSet:
    """Captions of a Flickr8k token file; a bad line raises CaptionsFormatError (file:line)."""
    path = Path(path)
    captions: dict[str, list[tuple[int, str]]] = defaultdict(list)
    text = path.read_text(encoding="utf-8")
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        match = _FLICKR_LINE.match(raw.rstrip("\r"))
        if not match:
            raise CaptionsFormatError(
                f"{path}:{number}: {_FLICKR_FORMAT}, got {raw[:80]!r}; check that the file is "
                f"Flickr8k.token.txt (tab-separated), not the lemma or split files")
        captions[match["image"].strip()].append((int(match["number"]), match["caption"].strip()))
    if not captions:
        raise CaptionsFormatError(f"{path} holds no captions; {_FLICKR_FORMAT}")
    return CaptionSet({image: [c for _, c in sorted(pairs)] for image, pairs in captions.items()},
                      f"Flickr8k token file {path.name}")


def read_coco(path: str | Path) -> CaptionSet:
    """Captions of a COCO captions JSON file, keyed by image file name."""
    path = Path(path)
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CaptionsFormatError(f"{path} is not valid JSON ({err}); download the COCO "
                                  f"annotations again (captions_*.json)") from None
    if not isinstance(content, dict) or not {"images", "annotations"} <= content.keys():
        raise CaptionsFormatError(f"{path} has no 'images' and 'annotations' lists: it is not a "
                                  f"COCO captions file (captions_train2014.json, …)")
    names = {}
    for k, image in enumerate(content["images"]):
        if not isinstance(image, dict) or "id" not in image or "file_name" not in image:
            raise CaptionsFormatError(f"{path}: images[{k}] needs 'id' and 'file_name', "
                                      f"got {str(image)[:80]}")
        names[image["id"]] = image["file_name"]
    captions: dict[str, list[str]] = defaultdict(list)
    for k, note in enumerate(content["annotations"]):
        if not isinstance(note, dict) or not isinstance(note.get("caption"), str):
            raise CaptionsFormatError(f"{path}: annotations[{k}] needs 'image_id' and a "
                                      f"'caption' string, got {str(note)[:80]}")
        if note.get("image_id") not in names:
            raise CaptionsFormatError(f"{path}: annotations[{k}] refers to image_id "
                                      f"{note.get('image_id')!r}, which 'images' does not list")
        captions[names[note["image_id"]]].append(note["caption"].strip())
    if not captions:
        raise CaptionsFormatError(f"{path} holds no captions")
    return CaptionSet(dict(captions), f"COCO captions {path.name}")


def captions_dir() -> Path:
    """$CAPTIONS_DIR when set, else $DEMYSTIFY_DATA/captions (default data/cache/captions)."""
    if os.environ.get("CAPTIONS_DIR"):
        return Path(os.environ["CAPTIONS_DIR"]).expanduser()
    return data_dir() / "captions"


def find_captions(root: str | Path | None = None) -> Path | None:
    """The caption file to read in `root` (default `captions_dir()`), or None when none is there.

    Flickr8k.token.txt is preferred; else the first captions_*.json in name order.
    A `CAPTIONS_DIR` that does not exist, or holds neither, raises DataNotAvailable: the
    learner asked for official captions there.
    """
    explicit = root is not None or bool(os.environ.get("CAPTIONS_DIR"))
    folder = Path(root).expanduser() if root is not None else captions_dir()
    found = None
    if folder.is_dir():
        flickr = folder / FLICKR8K_FILE
        coco = sorted(folder.glob(COCO_PATTERN))
        found = flickr if flickr.is_file() else (coco[0] if coco else None)
    if found is None and explicit:
        raise DataNotAvailable(f"no {FLICKR8K_FILE} and no {COCO_PATTERN} in {folder}: put "
                               f"Flickr8k's token file or COCO's captions JSON there, or unset "
                               f"CAPTIONS_DIR to run on the generated scenes")
    return found


def read_captions(path: str | Path) -> CaptionSet:
    """Read a Flickr8k token file or a COCO captions JSON, chosen by the file's suffix."""
    path = Path(path)
    if not path.is_file():
        raise DataNotAvailable(f"no caption file at {path}")
    return read_coco(path) if path.suffix.lower() == ".json" else read_flickr8k(path)


def load_captions(root: str | Path | None = None) -> CaptionSet | None:
    """The official captions found by `find_captions`, or None (offline default: no files)."""
    path = find_captions(root)
    return read_captions(path) if path is not None else None
