"""bAbI question answering (Weston et al. 2015): the official v1.2 text format, a seeded world
simulator that writes it, and the tensors the chapter-05 models read.

The official format, one line per sentence, numbered from 1 within each story::

    1 Mary moved to the bathroom.
    2 John went to the hallway.
    3 Where is Mary?<TAB>bathroom<TAB>1

A question line carries its answer and the ids of the supporting facts. `read_babi` parses
that format (official files and the simulator's alike); `simulate` writes stories for tasks 1,
2, 3 and 19 in exactly that format; `load_babi` picks the official files when they are on this
machine (`BABI_DIR`, `$DEMYSTIFY_DATA/babi`, or an opted-in download) and the simulator
otherwise; `vectorize` turns questions into padded tensors.
"""
from __future__ import annotations

import os
import tarfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .data import DataCorrupt, DataNotAvailable, data_dir, download_allowed, fetch
from .files import write_text_atomic
from .text import Vocabulary, tokenize

# ---------------------------------------------------------------------------------------------
# The official format
# ---------------------------------------------------------------------------------------------

TASK_NAMES: dict[int, str] = {1: "single-supporting-fact", 2: "two-supporting-facts",
                              3: "three-supporting-facts", 19: "path-finding"}
"""The tasks this module simulates, with the names the official files use."""

ARCHIVE_URL = "https://dl.fbaipublicfiles.com/babi/tasks_1-20_v1-2.tar.gz"
# SHA-256 of tasks_1-20_v1-2.tar.gz (15,719,851 bytes) as recorded by Hugging Face `datasets`
# (datasets/babi_qa/dataset_infos.json) for the original thespermwhale.com copy of the same
# archive. It could not be re-established offline against the fbaipublicfiles.com mirror, so the
# loader also checks the unpacked structure (every file it reads must exist and parse).
ARCHIVE_SHA256 = "0364ebde659f14d11bc21744516c5ec49d3d06cb692733f66680771244998898"
ARCHIVE_ROOT = "tasks_1-20_v1-2"
SIZES = {"1k": "en", "10k": "en-10k"}


class BabiFormatError(DataCorrupt):
    """A line that is not in the bAbI v1.2 format; the message names the file and line."""


@dataclass(frozen=True)
class Line:
    """One numbered line of a story: a statement, or a question with its answer and support."""
    id: int
    text: str
    answer: str | None = None
    supporting: tuple[int, ...] = ()

    @property
    def is_question(self) -> bool:
        return self.answer is not None

    def __str__(self) -> str:
        if not self.is_question:
            return f"{self.id} {self.text}"
        return f"{self.id} {self.text}\t{self.answer}\t{' '.join(map(str, self.supporting))}"


Story = list[Line]

_FORMAT = "expected 'ID sentence.' or 'ID question?<TAB>answer<TAB>supporting fact ids'"


def parse_babi(text: str, source: str = "<string>") -> list[Story]:
    """The stories in bAbI v1.2 text; a malformed line raises BabiFormatError naming source:line."""
    stories: list[Story] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue

        def fail(problem: str) -> BabiFormatError:
            return BabiFormatError(f"{source}, line {number}: {problem} ({_FORMAT}); got {raw!r}")

        head, _, rest = raw.partition(" ")
        if not head.isdigit() or not rest.strip():
            raise fail("a line must start with a positive line id and a space")
        line_id = int(head)
        if line_id == 1:
            stories.append([])
        elif not stories or line_id != stories[-1][-1].id + 1:
            expected = stories[-1][-1].id + 1 if stories else 1
            raise fail(f"line id {line_id} does not follow the story (expected {expected} or 1)")
        fields = rest.split("\t")
        if len(fields) == 1:
            stories[-1].append(Line(line_id, fields[0].strip()))
            continue
        if len(fields) != 3 or not fields[0].strip() or not fields[1].strip():
            raise fail("a question needs exactly three tab-separated fields")
        try:
            support = tuple(int(s) for s in fields[2].split())
        except ValueError:
            raise fail("supporting fact ids must be integers") from None
        statements = {line.id for line in stories[-1] if not line.is_question}
        if not support or not set(support) <= statements:
            raise fail(f"supporting fact ids {list(support)} must name earlier statements")
        stories[-1].append(Line(line_id, fields[0].strip(), fields[1].strip(), support))
    return stories


def read_babi(path: str | Path) -> list[Story]:
    """The stories of one bAbI file (official v1.2 or simulated); errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        raise DataNotAvailable(f"no bAbI file at {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise BabiFormatError(f"{path} is not UTF-8 text ({err}); is it the .tar.gz archive "
                              f"instead of one of the files inside it?") from None
    stories = parse_babi(text, source=str(path))
    if not stories:
        raise BabiFormatError(f"{path} holds no stories")
    return stories


def format_babi(stories: Iterable[Story]) -> str:
    """Stories as bAbI v1.2 text (the inverse of parse_babi)."""
    return "".join(f"{line}\n" for story in stories for line in story)


def write_babi(stories: Iterable[Story], path: str | Path) -> Path:
    """Write stories to `path` in the official format, atomically (temp file + rename)."""
    return write_text_atomic(path, format_babi(stories))


def task_filename(task: int, split: str) -> str:
    """The official file name, e.g. qa1_single-supporting-fact_train.txt."""
    _check_task(task)
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return f"qa{task}_{TASK_NAMES[task]}_{split}.txt"


def _check_task(task: int) -> None:
    if task not in TASK_NAMES:
        raise ValueError(f"unknown bAbI task {task!r}: this module handles tasks "
                         f"{', '.join(map(str, TASK_NAMES))}")


def count_questions(stories: Iterable[Story]) -> int:
    return sum(line.is_question for story in stories for line in story)


# ---------------------------------------------------------------------------------------------
# The seeded world simulator
# ---------------------------------------------------------------------------------------------

# The world's vocabulary is the size of the official one (4 people, 6 places, 3 things for
# tasks 1–3; 6 of 7 rooms for task 19) and holds the talk's Bob, Tim, jar, junkyard, town and
# yard. Story lengths are set by `questions_per_story` (see `simulate`), not matched to the
# official files.
ACTORS = ("Mary", "John", "Bob", "Tim")
PLACES = ("bathroom", "hallway", "garden", "kitchen", "junkyard", "town")
OBJECTS = ("football", "apple", "jar")
ROOMS = ("kitchen", "garden", "hallway", "bedroom", "office", "bathroom", "yard")
MOVES = ("moved to", "went to", "journeyed to", "travelled to", "went back to")
GRABS = ("picked up", "got", "grabbed", "took")
DROPS = ("dropped", "put down", "discarded", "left")
DIRECTIONS = {"north": (0, 1), "south": (0, -1), "east": (1, 0), "west": (-1, 0)}
OPPOSITE = {"north": "south", "south": "north", "east": "west", "west": "east"}


class _World:
    """Who is where and who holds what, with the line ids that say so."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.where: dict[str, tuple[str, int]] = {}        # actor -> (place, id of the move)
        self.holder: dict[str, tuple[str, int]] = {}       # object -> (actor, id of the grab)
        self.dropped: dict[str, tuple[str, int, int]] = {}  # object -> (place, drop id, move id)
        self.trail: dict[str, list[tuple[str, int]]] = {}   # object -> [(place, id that put it)]

    def pick(self, options: Sequence[str]) -> str:
        return options[int(self.rng.integers(len(options)))]

    def move(self, line_id: int) -> str:
        actor = self.pick(ACTORS)
        here = self.where.get(actor, (None, 0))[0]
        place = self.pick([p for p in PLACES if p != here])
        self.where[actor] = (place, line_id)
        for obj, (holder, _) in self.holder.items():
            if holder == actor and self.trail[obj][-1][0] != place:
                self.trail[obj].append((place, line_id))
        return f"{actor} {self.pick(MOVES)} the {place}."

    def grab(self, line_id: int) -> str | None:
        free = [o for o in OBJECTS if o not in self.holder]
        actors = [a for a in ACTORS if a in self.where]
        if not free or not actors:
            return None
        obj = self.pick(free)
        placed = [a for a in actors if obj not in self.dropped or
                  self.dropped[obj][0] == self.where[a][0]]
        if not placed:
            return None
        actor = self.pick(placed)
        place, move_id = self.where[actor]
        self.holder[obj] = (actor, line_id)
        self.dropped.pop(obj, None)
        trail = self.trail.setdefault(obj, [])
        if not trail or trail[-1][0] != place:
            trail.append((place, move_id))
        return f"{actor} {self.pick(GRABS)} the {obj} there."

    def drop(self, line_id: int) -> str | None:
        if not self.holder:
            return None
        obj = self.pick(sorted(self.holder))
        actor, _ = self.holder.pop(obj)
        place, move_id = self.where[actor]
        self.dropped[obj] = (place, line_id, move_id)
        return f"{actor} {self.pick(DROPS)} the {obj}."

    def where_is_object(self, obj: str) -> tuple[str, tuple[int, ...]]:
        if obj in self.holder:
            actor, grab_id = self.holder[obj]
            place, move_id = self.where[actor]
            return place, tuple(sorted({grab_id, move_id}))
        place, drop_id, move_id = self.dropped[obj]
        return place, tuple(sorted({drop_id, move_id}))


def _objects_story(rng: np.random.Generator, task: int, n_questions: int) -> Story:
    """Tasks 1–3: people move around, pick things up and put them down; questions in between."""
    world, story = _World(rng), []
    gap = {1: (2, 2), 2: (2, 5), 3: (3, 8)}[task]
    for _ in range(n_questions):
        for _ in range(int(rng.integers(gap[0], gap[1] + 1))):
            line_id = len(story) + 1
            roll = rng.random()
            text = None
            if task >= 2 and roll < 0.35:
                text = world.grab(line_id)
            elif task >= 2 and roll < 0.5:
                text = world.drop(line_id)
            story.append(Line(line_id, text or world.move(line_id)))
        line_id = len(story) + 1
        question = _ask(world, task, line_id)
        while question is None:                 # not enough has happened yet: one more event
            text = world.grab(line_id) if task >= 2 and rng.random() < 0.5 else None
            story.append(Line(line_id, text or world.move(line_id)))
            line_id += 1
            question = _ask(world, task, line_id)
        story.append(question)
    return story


def _ask(world: _World, task: int, line_id: int) -> Line | None:
    if task == 1:
        actor = world.pick(sorted(world.where)) if world.where else None
        if actor is None:
            return None
        place, move_id = world.where[actor]
        return Line(line_id, f"Where is {actor}?", place, (move_id,))
    known = sorted(o for o in world.trail if o in world.holder or o in world.dropped)
    if task == 2:
        if not known:
            return None
        obj = world.pick(known)
        place, support = world.where_is_object(obj)
        return Line(line_id, f"Where is the {obj}?", place, support)
    travelled = [o for o in known if len(world.trail[o]) >= 2]
    if not travelled:
        return None
    obj = world.pick(travelled)
    (before, before_id), (now, now_id) = world.trail[obj][-2:]
    carrier_ids = ({world.holder[obj][1]} if obj in world.holder else
                   {world.dropped[obj][1]})
    support = tuple(sorted({before_id, now_id} | carrier_ids))
    return Line(line_id, f"Where was the {obj} before the {now}?", before, support)


def _path_story(rng: np.random.Generator) -> Story:
    """Task 19: five 'The A is north of the B.' facts (a tree of six rooms), one route question."""
    rooms = [ROOMS[i] for i in rng.permutation(len(ROOMS))[:6]]
    at, edges = {rooms[0]: (0, 0)}, []
    for room in rooms[1:]:
        while True:
            anchor = rooms[int(rng.integers(len(at)))]
            direction = list(DIRECTIONS)[int(rng.integers(4))]
            dx, dy = DIRECTIONS[direction]
            cell = (at[anchor][0] + dx, at[anchor][1] + dy)
            if cell not in at.values():
                break
        at[room] = cell
        edges.append((room, direction, anchor))          # room is <direction> of anchor
    order = rng.permutation(len(edges))
    story, step = [], {}
    for i, k in enumerate(order, start=1):
        room, direction, anchor = edges[k]
        if rng.random() < 0.5:
            story.append(Line(i, f"The {room} is {direction} of the {anchor}."))
        else:
            story.append(Line(i, f"The {anchor} is {OPPOSITE[direction]} of the {room}."))
        step[(anchor, room)] = (direction, i)            # from anchor, go <direction> to room
        step[(room, anchor)] = (OPPOSITE[direction], i)
    routes = [(a, c, b) for (a, c) in step for (c2, b) in step if c2 == c and b != a]
    a, c, b = routes[int(rng.integers(len(routes)))]
    (d1, i1), (d2, i2) = step[(a, c)], step[(c, b)]
    story.append(Line(len(story) + 1, f"How do you go from the {a} to the {b}?",
                      f"{d1[0]},{d2[0]}", (i1, i2)))
    return story


def simulate(task: int, n_questions: int = 1000, seed: int = 0,
             questions_per_story: int = 5) -> list[Story]:
    """Stories for bAbI task 1, 2, 3 or 19 from the project's seeded world, with exactly
    `n_questions` questions in all (like the official 1k set: 1,000 per split).

    Tasks 1–3 follow the official layout (`questions_per_story` questions a story, default
    five, statements between them: more questions a story make longer stories); task 19 has
    five direction facts and one question a story. The same seed gives the same text.
    """
    _check_task(task)
    if n_questions < 1:
        raise ValueError(f"n_questions must be at least 1, got {n_questions}")
    if questions_per_story < 1:
        raise ValueError(f"questions_per_story must be at least 1, got {questions_per_story}")
    rng = np.random.default_rng([seed, task])
    stories: list[Story] = []
    remaining = n_questions
    while remaining:
        if task == 19:
            stories.append(_path_story(rng))
            remaining -= 1
        else:
            k = min(questions_per_story, remaining)
            stories.append(_objects_story(rng, task, k))
            remaining -= k
    return stories


def write_simulated(root: str | Path, tasks: Iterable[int] = tuple(TASK_NAMES),
                    n_questions: int = 1000, seed: int = 0, size: str = "1k") -> Path:
    """Write simulated train/test files in the official layout root/tasks_1-20_v1-2/en/…"""
    folder = Path(root) / ARCHIVE_ROOT / SIZES[size]
    for task in tasks:
        for split, split_seed in (("train", seed), ("test", seed + 1)):
            write_babi(simulate(task, n_questions, split_seed), folder / task_filename(task, split))
    return folder


# ---------------------------------------------------------------------------------------------
# Official files when present, the simulator otherwise
# ---------------------------------------------------------------------------------------------

@dataclass
class BabiTasks:
    """Train and test stories of several tasks, and where they came from."""
    source: str
    train: dict[int, list[Story]] = field(default_factory=dict)
    test: dict[int, list[Story]] = field(default_factory=dict)

    @property
    def official(self) -> bool:
        return self.source.startswith("official")

    def __repr__(self) -> str:
        counts = ", ".join(f"task {t}: {count_questions(self.train[t])}+"
                           f"{count_questions(self.test[t])}" for t in self.train)
        return f"{self.source} — questions (train+test) {counts}"


def _language_dir(root: Path, size: str) -> Path | None:
    """root/en, root/tasks_1-20_v1-2/en, or None."""
    for candidate in (root / SIZES[size], root / ARCHIVE_ROOT / SIZES[size]):
        if candidate.is_dir():
            return candidate
    return None


def _unpack(archive: Path, target: Path) -> None:
    """Unpack the official archive's text files safely (no absolute paths, no links)."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith(".txt")]
            for member in members:
                parts = Path(member.name).parts
                if member.name.startswith("/") or ".." in parts or parts[0] != ARCHIVE_ROOT:
                    raise DataCorrupt(f"{archive} has an unexpected member {member.name!r}; "
                                      f"it is not the bAbI v1.2 archive")
            if not members:
                raise DataCorrupt(f"{archive} holds no bAbI text files")
            for member in members:
                destination = target / member.name
                destination.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                destination.write_bytes(source.read())
    except (tarfile.TarError, EOFError, OSError) as err:
        raise DataCorrupt(f"{archive} is not a readable .tar.gz ({err}); delete it and fetch it "
                          f"again") from None


def official_babi_dir(size: str = "1k") -> Path | None:
    """The folder with the official qa*_train/test.txt files, or None when there is none.

    Looks in $BABI_DIR, then $DEMYSTIFY_DATA/babi (default data/cache/babi); when the archive
    tasks_1-20_v1-2.tar.gz is there (or DEMYSTIFY_DOWNLOAD=1 fetches it, checksum-verified),
    it is unpacked there first. Never touches the network without the opt-in.
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    if os.environ.get("BABI_DIR"):
        root = Path(os.environ["BABI_DIR"]).expanduser()
        found = _language_dir(root, size)
        if found is None:
            raise DataNotAvailable(f"BABI_DIR={root} has no {SIZES[size]}/ folder: point it at "
                                   f"the unpacked {ARCHIVE_ROOT} folder of the official archive")
        return found
    root = data_dir() / "babi"
    found = _language_dir(root, size)
    if found is not None:
        return found
    archive = root / f"{ARCHIVE_ROOT}.tar.gz"
    if archive.exists() or download_allowed():
        try:
            path = fetch(ARCHIVE_URL, f"babi/{ARCHIVE_ROOT}.tar.gz", ARCHIVE_SHA256,
                         what="the bAbI v1.2 archive")
        except DataCorrupt as err:
            raise DataCorrupt(
                f"{err}. Note: the expected SHA-256 ({ARCHIVE_SHA256[:12]}…) is borrowed from "
                f"another copy's record (Hugging Face `datasets`, for the thespermwhale.com "
                f"copy); it was never checked against {ARCHIVE_URL}, so a good download may "
                f"fail it. To proceed, unpack the archive yourself (tar xzf "
                f"{ARCHIVE_ROOT}.tar.gz) and set BABI_DIR to the unpacked {ARCHIVE_ROOT} "
                f"folder: files under BABI_DIR are read without a checksum (every file read "
                f"must still parse)") from None
        _unpack(path, root)
        found = _language_dir(root, size)
        if found is None:
            raise DataCorrupt(f"{archive} unpacked without a {SIZES[size]}/ folder; it is not the "
                              f"bAbI v1.2 archive")
    return found


def load_babi(tasks: Iterable[int] = tuple(TASK_NAMES), size: str = "1k", seed: int = 0,
              source: str = "auto", verbose: bool = True,
              questions_per_story: dict[int, int] | None = None) -> BabiTasks:
    """Train/test stories of `tasks`: the official v1.2 files when present, else the simulator.

    `questions_per_story` (simulator only): {task: questions a story} for longer stories
    (default five, see `simulate`); the official files keep their own layout.

    `source`: 'auto' (official when present), 'official' (error if absent) or 'simulated'.
    Both go through the same reader: the simulator's stories are written in the official
    format and parsed back. `size` '1k' has 1,000 questions per split, '10k' 10,000 in train.
    """
    tasks = list(tasks)
    for task in tasks:
        _check_task(task)
    if source not in ("auto", "official", "simulated"):
        raise ValueError(f"source must be 'auto', 'official' or 'simulated', got {source!r}")
    folder = official_babi_dir(size) if source != "simulated" else None
    if source == "official" and folder is None:
        raise DataNotAvailable(f"the official bAbI v1.2 files are not on this machine: set "
                               f"BABI_DIR to the unpacked {ARCHIVE_ROOT} folder, put "
                               f"{ARCHIVE_ROOT}.tar.gz in {data_dir() / 'babi'}, or set "
                               f"DEMYSTIFY_DOWNLOAD=1 to download it from {ARCHIVE_URL}")
    if folder is not None:
        result = BabiTasks(f"official bAbI v1.2 ({SIZES[size]}, {folder})")
        for task in tasks:
            for split in ("train", "test"):
                path = folder / task_filename(task, split)
                if not path.is_file():
                    raise DataCorrupt(f"{folder} lacks {path.name}: the official folder is "
                                      f"incomplete; unpack the whole archive again")
                getattr(result, split)[task] = read_babi(path)
    else:
        n_train = {"1k": 1000, "10k": 10000}[size]
        result = BabiTasks(f"simulated bAbI (the project's seeded world, seed {seed})")
        for task in tasks:
            for split, n, split_seed in (("train", n_train, seed), ("test", 1000, seed + 1)):
                per_story = (questions_per_story or {}).get(task, 5)
                text = format_babi(simulate(task, n, split_seed, per_story))
                getattr(result, split)[task] = parse_babi(
                    text, source=f"simulate(task={task}, seed={split_seed})")
    if verbose:
        print(result)
    return result


# ---------------------------------------------------------------------------------------------
# From stories to tensors
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QA:
    """One question with the statements before it (at most `memory_size`, oldest first)."""
    facts: tuple[str, ...]
    question: str
    answer: str
    supporting: tuple[int, ...]      # indices into facts; those dropped from memory are omitted


def questions(stories: Iterable[Story], memory_size: int = 50) -> list[QA]:
    """Every question of the stories with its memory: the last `memory_size` statements."""
    if memory_size < 1:
        raise ValueError(f"memory_size must be at least 1, got {memory_size}")
    result = []
    for story in stories:
        statements: list[Line] = []
        for line in story:
            if not line.is_question:
                statements.append(line)
                continue
            memory = statements[-memory_size:]
            position = {fact.id: i for i, fact in enumerate(memory)}
            support = tuple(position[s] for s in line.supporting if s in position)
            result.append(QA(tuple(f.text for f in memory), line.text, line.answer, support))
    return result


def qa_tokens(data: Iterable[QA]) -> Iterator[list[str]]:
    """The words of every fact and question, and each answer as one word ('s,e' on task 19),
    for `Vocabulary.build(qa_tokens(train), order="alphabetical")`."""
    for qa in data:
        for sentence in (*qa.facts, qa.question):
            yield tokenize(sentence)
        yield [qa.answer]


def vectorize(data: Sequence[QA], vocab: Vocabulary, memory_size: int,
              sentence_length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Questions as one int64 tensor x of shape (N, memory_size + 1, sentence_length) and
    answer ids y (N,).

    x[:, :memory_size] is the memory, oldest first and right-aligned (the most recent fact is
    row memory_size - 1; empty rows are all padding); x[:, memory_size] is the question.
    """
    if not data:
        raise ValueError("vectorize needs at least one question")
    tokens = [[tokenize(f) for f in qa.facts[-memory_size:]] + [tokenize(qa.question)]
              for qa in data]
    longest = max(len(t) for sentences in tokens for t in sentences)
    length = sentence_length or longest
    if longest > length:
        raise ValueError(f"a sentence has {longest} words but sentence_length is {length}")
    x = np.zeros((len(data), memory_size + 1, length), dtype=np.int64)
    for n, sentences in enumerate(tokens):
        *facts, question = sentences
        offset = memory_size - len(facts)
        for i, words in enumerate(facts):
            x[n, offset + i, :len(words)] = vocab.encode(words)
        x[n, memory_size, :len(question)] = vocab.encode(question)
    x = torch.from_numpy(x)
    y = torch.tensor(vocab.encode([qa.answer for qa in data]), dtype=torch.int64)
    return x, y
