"""demystify.babi: the official v1.2 reader, the seeded world simulator, loading and tensors."""
import io
import re
import tarfile

import pytest
import torch

import demystify.babi as babi
from demystify import DataCorrupt, DataNotAvailable, sha256sum
from demystify.babi import (QA, BabiFormatError, Line, count_questions, format_babi, load_babi,
                            parse_babi, qa_tokens, questions, read_babi, simulate, task_filename,
                            vectorize, write_babi, write_simulated)
from demystify.text import Vocabulary, tokenize

OFFICIAL_QA1 = """1 Mary moved to the bathroom.
2 John went to the hallway.
3 Where is Mary?\tbathroom\t1
4 Daniel went back to the hallway.
5 Sandra moved to the garden.
6 Where is Daniel?\thallway\t4
1 Sandra travelled to the office.
2 Where is Sandra?\toffice\t1
"""


@pytest.fixture(autouse=True)
def no_babi_dir(monkeypatch, tmp_path):
    """No test sees the caller's BABI_DIR or data cache; the network is never reached."""
    monkeypatch.delenv("BABI_DIR", raising=False)
    monkeypatch.setenv("DEMYSTIFY_DATA", str(tmp_path / "data"))

    def no_network(*args, **kwargs):
        raise AssertionError("the network was used")
    monkeypatch.setattr("urllib.request.urlopen", no_network)


# --- the reader ---------------------------------------------------------------------------------

def test_reader_parses_the_official_format():
    stories = parse_babi(OFFICIAL_QA1)
    assert len(stories) == 2 and count_questions(stories) == 3
    assert stories[0][0] == Line(1, "Mary moved to the bathroom.")
    assert stories[0][2] == Line(3, "Where is Mary?", "bathroom", (1,))
    assert stories[0][2].is_question and not stories[0][0].is_question
    assert format_babi(stories) == OFFICIAL_QA1


@pytest.mark.parametrize("text, problem", [
    ("x Mary moved to the bathroom.\n", "positive line id"),
    ("1 Mary moved to the bathroom.\n3 John went to the hallway.\n", "does not follow"),
    ("2 Mary moved to the bathroom.\n", "does not follow"),
    ("1 Mary moved.\n2 Where is Mary?\tbathroom\n", "three tab-separated fields"),
    ("1 Mary moved.\n2 Where is Mary?\tbathroom\tone\n", "must be integers"),
    ("1 Mary moved.\n2 Where is Mary?\tbathroom\t2\n", "earlier statements"),
    ("1 Mary moved.\n2 Where is Mary?\tbathroom\t\n", "earlier statements"),
    ("1\n", "positive line id"),
])
def test_reader_errors_name_file_and_line(tmp_path, text, problem):
    path = tmp_path / "qa1_single-supporting-fact_train.txt"
    path.write_text(text)
    with pytest.raises(BabiFormatError, match=problem) as error:
        read_babi(path)
    line = len(text.rstrip("\n").split("\n"))
    assert f"{path}, line {line}:" in str(error.value)
    assert isinstance(error.value, DataCorrupt)


def test_reader_rejects_missing_binary_and_empty_files(tmp_path):
    with pytest.raises(DataNotAvailable, match="no bAbI file"):
        read_babi(tmp_path / "absent.txt")
    archive = tmp_path / "archive.txt"
    archive.write_bytes(b"\x1f\x8b\x08\x00\xff\xfe")
    with pytest.raises(BabiFormatError, match="not UTF-8"):
        read_babi(archive)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    with pytest.raises(BabiFormatError, match="no stories"):
        read_babi(empty)


# --- the simulator ------------------------------------------------------------------------------

@pytest.mark.parametrize("task", [1, 2, 3, 19])
def test_simulate_write_read_round_trip(tmp_path, task):
    stories = simulate(task, n_questions=200, seed=3)
    path = write_babi(stories, tmp_path / task_filename(task, "train"))
    assert read_babi(path) == stories
    assert count_questions(stories) == 200
    assert path.read_text() == format_babi(stories)


@pytest.mark.parametrize("task", [1, 2, 3, 19])
def test_simulator_is_seeded(task):
    assert format_babi(simulate(task, 50, seed=1)) == format_babi(simulate(task, 50, seed=1))
    assert format_babi(simulate(task, 50, seed=1)) != format_babi(simulate(task, 50, seed=2))


def test_simulator_counts_questions_like_the_official_set():
    stories = simulate(1, n_questions=7)
    assert [count_questions([s]) for s in stories] == [5, 2]
    assert all(len(story) == 6 for story in simulate(19, n_questions=10))
    with pytest.raises(ValueError, match="unknown bAbI task 4"):
        simulate(4)
    with pytest.raises(ValueError, match="at least 1"):
        simulate(1, n_questions=0)


def _statements(story):
    return {line.id: line.text for line in story if not line.is_question}


def test_simulated_answers_follow_from_their_supporting_facts():
    for story in simulate(1, 100):
        facts = _statements(story)
        for q in (line for line in story if line.is_question):
            actor = q.text.split()[-1].rstrip("?")
            (fact,) = (facts[i] for i in q.supporting)
            assert fact.startswith(actor) and fact.endswith(f"the {q.answer}.")
            later = [t for i, t in facts.items() if q.supporting[0] < i < q.id and t.startswith(actor)]
            assert not any(" to the " in t for t in later), "the supporting move is the latest"
    for task in (2, 3):
        for story in simulate(task, 100):
            facts = _statements(story)
            for q in (line for line in story if line.is_question):
                assert len(q.supporting) == task or task == 3 and len(q.supporting) == 2
                assert any(facts[i].endswith(f"the {q.answer}.") for i in q.supporting)


def test_simulated_routes_are_right():
    step = {"north": (0, 1), "south": (0, -1), "east": (1, 0), "west": (-1, 0)}
    for story in simulate(19, 200):
        *facts, q = story
        at = {}
        relations = [re.match(r"The (\w+) is (\w+) of the (\w+)\.", f.text).groups() for f in facts]
        at[relations[0][2]] = (0, 0)
        while len(at) < 6:                       # place every room from the relations
            for a, direction, b in relations:
                dx, dy = step[direction]
                if b in at and a not in at:
                    at[a] = (at[b][0] + dx, at[b][1] + dy)
                elif a in at and b not in at:
                    at[b] = (at[a][0] - dx, at[a][1] - dy)
        start, end = re.match(r"How do you go from the (\w+) to the (\w+)\?", q.text).groups()
        moves = [step[{"n": "north", "s": "south", "e": "east", "w": "west"}[d]]
                 for d in q.answer.split(",")]
        x, y = at[start]
        for dx, dy in moves:
            x, y = x + dx, y + dy
        assert (x, y) == at[end] and len(moves) == 2 and len(q.supporting) == 2


def test_write_simulated_uses_the_official_layout(tmp_path):
    folder = write_simulated(tmp_path, tasks=(1,), n_questions=10)
    assert folder == tmp_path / "tasks_1-20_v1-2" / "en"
    assert sorted(p.name for p in folder.iterdir()) == [
        "qa1_single-supporting-fact_test.txt", "qa1_single-supporting-fact_train.txt"]


# --- official files when present, the simulator otherwise ---------------------------------------

def _official_folder(root, tasks=(1, 19), size="en"):
    folder = root / "tasks_1-20_v1-2" / size
    folder.mkdir(parents=True)
    for task in tasks:
        for split in ("train", "test"):
            text = OFFICIAL_QA1 if task == 1 else (
                "1 The office is east of the hallway.\n2 The kitchen is north of the office.\n"
                "3 How do you go from the kitchen to the hallway?\ts,w\t1 2\n")
            (folder / task_filename(task, split)).write_text(text)
    return folder


def test_without_official_files_the_simulator_is_used(capsys):
    data = load_babi(tasks=(1,), seed=0)
    assert not data.official and "simulated" in data.source
    assert count_questions(data.train[1]) == count_questions(data.test[1]) == 1000
    assert "task 1: 1000+1000" in capsys.readouterr().out
    assert format_babi(data.train[1]) == format_babi(simulate(1, 1000, seed=0))
    assert format_babi(data.test[1]) != format_babi(data.train[1])


def test_official_files_from_babi_dir(tmp_path, monkeypatch):
    _official_folder(tmp_path / "babi")
    for root in (tmp_path / "babi", tmp_path / "babi" / "tasks_1-20_v1-2"):
        monkeypatch.setenv("BABI_DIR", str(root))
        data = load_babi(tasks=(1, 19), verbose=False)
        assert data.official and count_questions(data.train[1]) == 3
        assert data.test[19][0][-1].answer == "s,w"


def test_official_files_from_the_data_folder(tmp_path):
    _official_folder(tmp_path / "data" / "babi", tasks=(1,))
    assert load_babi(tasks=(1,), verbose=False).official
    with pytest.raises(DataCorrupt, match="lacks qa2_two-supporting-facts_train.txt"):
        load_babi(tasks=(2,), verbose=False)
    assert not load_babi(tasks=(1,), source="simulated", verbose=False).official


def test_bad_babi_dir_and_missing_official_files_say_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(DataNotAvailable, match="DEMYSTIFY_DOWNLOAD=1"):
        load_babi(tasks=(1,), source="official")
    monkeypatch.setenv("BABI_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataNotAvailable, match="BABI_DIR=.* has no en/ folder"):
        load_babi(tasks=(1,))


@pytest.mark.parametrize("kwargs, message", [
    ({"tasks": (4,)}, "unknown bAbI task 4"), ({"size": "100k"}, "size must be"),
    ({"source": "web"}, "source must be")])
def test_load_babi_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_babi(verbose=False, **kwargs)


def _archive(path, members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path


def test_archive_in_the_data_folder_is_verified_and_unpacked(tmp_path, monkeypatch):
    archive = _archive(tmp_path / "data" / "babi" / "tasks_1-20_v1-2.tar.gz", {
        f"tasks_1-20_v1-2/en/{task_filename(1, split)}": OFFICIAL_QA1 for split in ("train", "test")})
    monkeypatch.setattr(babi, "ARCHIVE_SHA256", sha256sum(archive))
    data = load_babi(tasks=(1,), verbose=False)
    assert data.official and count_questions(data.test[1]) == 3


def test_corrupt_or_foreign_archives_are_refused(tmp_path, monkeypatch):
    archive = _archive(tmp_path / "data" / "babi" / "tasks_1-20_v1-2.tar.gz",
                       {"tasks_1-20_v1-2/en/qa1.txt": "1 x.\n"})
    with pytest.raises(DataCorrupt, match="is corrupt"):          # wrong checksum
        load_babi(tasks=(1,), verbose=False)
    _archive(archive, {"../evil.txt": "1 x.\n"})
    monkeypatch.setattr(babi, "ARCHIVE_SHA256", sha256sum(archive))
    with pytest.raises(DataCorrupt, match="unexpected member"):
        load_babi(tasks=(1,), verbose=False)
    archive.write_bytes(b"not a tar file")
    monkeypatch.setattr(babi, "ARCHIVE_SHA256", sha256sum(archive))
    with pytest.raises(DataCorrupt, match="not a readable .tar.gz"):
        load_babi(tasks=(1,), verbose=False)


def test_download_only_on_opt_in(tmp_path, monkeypatch):
    payload = _archive(tmp_path / "served.tar.gz", {
        f"tasks_1-20_v1-2/en/{task_filename(1, split)}": OFFICIAL_QA1 for split in ("train", "test")})
    monkeypatch.setattr(babi, "ARCHIVE_SHA256", sha256sum(payload))
    assert not load_babi(tasks=(1,), verbose=False).official        # no opt-in: no network
    urls = []

    def serve(url, timeout):
        urls.append(url)
        return io.BytesIO(payload.read_bytes())
    monkeypatch.setattr("urllib.request.urlopen", serve)
    monkeypatch.setenv("DEMYSTIFY_DOWNLOAD", "1")
    assert load_babi(tasks=(1,), verbose=False).official
    assert urls == [babi.ARCHIVE_URL]


def test_a_download_that_fails_its_checksum_says_the_checksum_is_borrowed(tmp_path, monkeypatch):
    """The recorded SHA-256 comes from another copy's record: say so, and how to proceed."""
    payload = _archive(tmp_path / "served.tar.gz", {
        f"tasks_1-20_v1-2/en/{task_filename(1, split)}": OFFICIAL_QA1 for split in ("train", "test")})
    monkeypatch.setattr("urllib.request.urlopen",
                        lambda url, timeout: io.BytesIO(payload.read_bytes()))
    monkeypatch.setenv("DEMYSTIFY_DOWNLOAD", "1")
    with pytest.raises(DataCorrupt) as error:                  # the real, borrowed checksum
        load_babi(tasks=(1,), verbose=False)
    message = str(error.value)
    assert "does not match its SHA-256" in message
    assert "another copy's record" in message and babi.ARCHIVE_URL in message
    assert "set BABI_DIR to the unpacked tasks_1-20_v1-2 folder" in message
    unpacked = tmp_path / "unpacked"                          # doing what it says works
    with tarfile.open(payload) as tar:
        tar.extractall(unpacked, filter="data")
    monkeypatch.setenv("BABI_DIR", str(unpacked / "tasks_1-20_v1-2"))
    assert load_babi(tasks=(1,), verbose=False).official


def test_longer_simulated_stories():
    stories = simulate(3, n_questions=40, seed=0, questions_per_story=20)
    assert [count_questions([s]) for s in stories] == [20, 20]
    assert max(len(s) for s in stories) > max(len(s) for s in simulate(3, 40, seed=0))
    with pytest.raises(ValueError, match="questions_per_story"):
        simulate(3, 10, questions_per_story=0)
    data = load_babi(tasks=(2,), verbose=False, questions_per_story={2: 10})
    assert len(data.train[2]) == 100 and count_questions(data.train[2]) == 1000


# --- from stories to tensors ---------------------------------------------------------------------

def test_questions_keep_the_last_statements_as_memory():
    stories = parse_babi(OFFICIAL_QA1)
    qas = questions(stories, memory_size=2)
    assert qas[1] == QA(("Daniel went back to the hallway.", "Sandra moved to the garden."),
                        "Where is Daniel?", "hallway", (0,))
    assert qas[0].supporting == (0,) and qas[2].facts == ("Sandra travelled to the office.",)
    with pytest.raises(ValueError, match="memory_size"):
        questions(stories, memory_size=0)


def test_chapter_05_vocabulary_ids_are_alphabetical_with_answers_as_words():
    # chapter 05: <pad> 0, <unk> 1, then every word of the training stories, questions and
    # answers in alphabetical order; a path-finding answer such as 's,e' is one word
    assert tokenize("Where is Mary?") == ["where", "is", "mary"]
    qas = questions(parse_babi(OFFICIAL_QA1))
    path = QA(("The garden is south of the office.",), "How do you go from the office to "
              "the garden?", "s,e", (0,))
    assert list(qa_tokens([path])) == [["the", "garden", "is", "south", "of", "the", "office"],
                                       ["how", "do", "you", "go", "from", "the", "office", "to",
                                        "the", "garden"], ["s,e"]]
    vocab = Vocabulary.build(qa_tokens(qas), order="alphabetical")
    assert vocab.words == ["<pad>", "<unk>", "back", "bathroom", "daniel", "garden", "hallway",
                           "is", "john", "mary", "moved", "office", "sandra", "the", "to",
                           "travelled", "went", "where"]
    assert vocab.encode(["where", "is", "the", "unicorn"]) == [17, 7, 13, 1]


def test_vectorize_right_aligns_memory_and_puts_the_question_last():
    qas = questions(parse_babi(OFFICIAL_QA1))
    vocab = Vocabulary.build(qa_tokens(qas), order="alphabetical")
    x, y = vectorize(qas, vocab, memory_size=4, sentence_length=6)
    assert x.shape == (3, 5, 6) and x.dtype == torch.int64
    assert y.tolist() == [3, 6, 11]                                # bathroom, hallway, office
    assert (x[0, :2] == 0).all() and (x[0, 2:4] != 0).any(-1).all()    # 2 facts, newest last
    assert x[0, 3].tolist() == [8, 16, 14, 13, 6, 0]                    # john went to the hallway
    assert x[0, 4].tolist() == [17, 7, 9, 0, 0, 0]                      # where is mary
    unseen = QA(("Bill went to the moon.",), "Where is Bill?", "moon", (0,))
    x, y = vectorize([unseen], vocab, memory_size=1, sentence_length=5)
    assert x[0].tolist() == [[1, 16, 14, 13, 1], [17, 7, 1, 0, 0]] and y.tolist() == [1]
    with pytest.raises(ValueError, match="sentence_length"):
        vectorize(qas, vocab, memory_size=4, sentence_length=3)
    with pytest.raises(ValueError, match="at least one"):
        vectorize([], vocab, memory_size=4)
