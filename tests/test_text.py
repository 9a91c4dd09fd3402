"""demystify.text: tokenizer, sentences, vocabulary, padding, and the Python-docs corpus."""
import sys

import pytest
import torch

from demystify.text import (TOPICS, Document, Vocabulary, pad_sequences, python_docs_corpus,
                            python_docstrings, python_reference_topics, split_sentences,
                            stdlib_modules, tokenize, topic_of, topic_sentences)


def test_tokenize_keeps_words_and_identifiers():
    assert tokenize("Return the __init__ file's path, or None (see os.path).") == [
        "return", "the", "__init__", "file's", "path", "or", "none", "see", "os", "path"]
    assert tokenize("42 -- !!") == []
    assert tokenize("Python 3.12 or 2x") == ["python", "or", "x"]


def test_tokenize_with_numbers_keeps_them_as_words():
    # captions: digits are words ("a 3 to the left of a 7"); punctuation still goes
    assert tokenize("A dog's ball, in 2 parks.", numbers=True) == [
        "a", "dog's", "ball", "in", "2", "parks"]
    assert tokenize("Python 3.12 or 2x", numbers=True) == ["python", "3", "12", "or", "2x"]
    assert tokenize("Where is Mary?", numbers=True) == tokenize("Where is Mary?")


def test_tokenize_explains_a_list():
    with pytest.raises(TypeError, match="join"):
        tokenize(["where", "is"])


def test_split_sentences_keeps_prose_and_drops_code():
    text = """Return the sum of a list. It may be empty.

    >>> add([1, 2])
    3

    x = {'a': [1, 2, 3]}; y = x['a'][0] ** 2

    See also:: the Language Reference."""
    assert split_sentences(text) == ["Return the sum of a list.", "It may be empty.",
                                     "See also:: the Language Reference."]
    assert split_sentences("") == []


def test_vocabulary_orders_by_frequency_then_alphabet():
    vocab = Vocabulary.build([["b", "a", "c", "a"], ["b", "d"]], min_count=1)
    assert vocab.words == ["<pad>", "<unk>", "a", "b", "c", "d"]
    assert vocab.counts.tolist() == [0, 0, 2, 2, 1, 1]
    assert len(Vocabulary.build([["b", "a", "c", "a"], ["b"]], min_count=2)) == 4
    assert Vocabulary.build([["b", "a", "c", "a"]], max_size=1).words == ["<pad>", "<unk>", "a"]
    assert "a" in vocab and "<unk>" not in vocab and 3 not in vocab


def test_chapter_04_ids_by_frequency_with_max_size_min_count_and_unk():
    # chapter 04: <pad>, <unk>, then the most frequent words (ties alphabetical), cut by
    # min_count and max_size (queue, waits: 2 each, cut by max_size); rare words encode
    # as <unk> (1) or are skipped
    texts = [tokenize("The thread waits. The lock is held by the thread."),
             tokenize("A lock, a thread and the queue."),
             tokenize("Rare words vanish; the queue waits.")]
    vocab = Vocabulary.build(texts, max_size=4, min_count=2)
    assert vocab.words == ["<pad>", "<unk>", "the", "thread", "a", "lock"]
    assert vocab.counts.tolist() == [0, 0, 5, 3, 2, 2]
    assert vocab.encode(tokenize("The queue and the lock")) == [2, 1, 1, 2, 5]
    assert vocab.encode(tokenize("The queue and the lock"), unknown="skip") == [2, 2, 5]
    assert vocab.lookup("Thread") == 3 and vocab.decode([3, 0, 5]) == ["thread", "lock"]


def test_chapter_07_ids_specials_then_alphabetical():
    # chapter 07: four specials take ids 0-3, then every training token alphabetically
    specials = ("<pad>", "<start>", "<end>", "<unk>")
    captions = ["a 3 to the left of a 7", "two digits : a 3 , and a 7"]
    vocab = Vocabulary.build((c.split() for c in captions), order="alphabetical",
                             specials=specials)
    assert vocab.words == [*specials, ",", "3", "7", ":", "a", "and", "digits", "left", "of",
                           "the", "to", "two"]
    assert [vocab.index[s] for s in specials] == [0, 1, 2, 3]
    assert vocab.encode("a 9 to the left".split()) == [8, 3, 14, 13, 11]
    assert "<start>" not in vocab and vocab.encode(["<start>"]) == [3]


def test_vocabulary_encode_decode_and_unknown_words():
    vocab = Vocabulary(["the", "file"], [5, 3])
    assert vocab.encode(["the", "disk", "file"]) == [2, 1, 3]
    assert vocab.encode(["the", "disk", "file"], unknown="skip") == [2, 3]
    assert vocab.decode([2, 1, 3, 0, 0]) == ["the", "<unk>", "file"]
    assert vocab.lookup("  File ") == 3
    assert Vocabulary(vocab.words).words == vocab.words       # a saved word list reads back
    with pytest.raises(KeyError, match="not among the 2 words"):
        vocab.encode(["disk"], unknown="error")
    with pytest.raises(KeyError, match="not a word"):
        vocab.lookup("two words")
    with pytest.raises(KeyError, match="not a word"):
        vocab.lookup("")
    with pytest.raises(KeyError, match="not a word"):
        vocab.lookup("<pad>")
    with pytest.raises(TypeError, match="string"):
        vocab.lookup(3)
    with pytest.raises(ValueError, match="unk"):
        vocab.encode(["the"], unknown="ignore")
    with pytest.raises(TypeError, match="tokenize"):
        vocab.encode("the file")
    with pytest.raises(IndexError, match="0 to 3"):
        vocab.decode([4])


def test_vocabulary_without_unk_says_what_to_do_with_unknown_words():
    vocab = Vocabulary(["a", "b"], specials=("<pad>", "<start>"))
    assert vocab.encode(["b", "c", "a"], unknown="skip") == [3, 2]
    with pytest.raises(KeyError, match="has no '<unk>' token.*unknown='skip'"):
        vocab.encode(["b", "c"])


@pytest.mark.parametrize("words, counts, specials, match", [
    (["a", "a"], None, Vocabulary.SPECIALS, "repeated: 'a'"),
    (["a", "<unk>"], None, Vocabulary.SPECIALS, "repeated: '<unk>'"),
    (["a", "b"], [1], Vocabulary.SPECIALS, "2 words but 1 counts"),
    (["a"], None, ("<unk>", "<pad>"), "first special token"),
])
def test_vocabulary_rejects_bad_tables(words, counts, specials, match):
    with pytest.raises(ValueError, match=match):
        Vocabulary(words, counts, specials)


def test_vocabulary_rejects_non_words():
    with pytest.raises(TypeError, match="non-empty strings"):
        Vocabulary(["a", ""])
    with pytest.raises(TypeError, match="non-empty strings"):
        Vocabulary(["a", 3])


def test_vocabulary_build_explains_bad_input():
    with pytest.raises(ValueError, match="no word occurs often enough"):
        Vocabulary.build([["a"]], min_count=2)
    with pytest.raises(ValueError, match="'frequency' or 'alphabetical'"):
        Vocabulary.build([["a"]], order="sorted")
    with pytest.raises(ValueError, match="at least 1"):
        Vocabulary.build([["a"]], max_size=0)
    with pytest.raises(ValueError, match=r"special token\(s\) \['<unk>'\]"):
        Vocabulary.build([["a", "<unk>"]])
    with pytest.raises(TypeError, match="token lists"):
        Vocabulary.build("a text")


def test_pad_sequences_pads_cuts_and_checks():
    ids, lengths = pad_sequences([[5, 6, 7], [8]], max_len=2)
    assert ids.tolist() == [[5, 6], [8, 0]] and lengths.tolist() == [2, 1]
    assert ids.dtype == torch.long
    with pytest.raises(ValueError, match="empty"):
        pad_sequences([[1], []], max_len=3)
    with pytest.raises(ValueError, match="max_len"):
        pad_sequences([[1]], max_len=0)


def _fake_stdlib(root):
    (root / "alpha.py").write_text('"""Alpha module. It has two sentences."""\n'
                                   'class A:\n    """A class."""\n'
                                   '    def f(self):\n        """Method doc."""\n'
                                   'def g():\n    pass\n')
    package = root / "email"
    (package / "tests").mkdir(parents=True)
    (package / "__init__.py").write_text('"""The package."""\n')
    (package / "parser.py").write_text('"""Parse messages."""\n')
    (package / "tests" / "test_x.py").write_text('"""Not documentation."""\n')
    (package / "broken.py").write_text("def (:\n")
    return root


def test_docstrings_are_read_from_source_without_importing(tmp_path):
    root = _fake_stdlib(tmp_path)
    # "alpha" is not a real standard-library module, so read the fake one as "json"
    (root / "alpha.py").rename(root / "json.py")
    docs = python_docstrings(["json", "email"], root=root)
    assert [(d.name, d.text) for d in docs] == [
        ("json", "Alpha module. It has two sentences."), ("json", "A class."), ("json", "Method doc."),
        ("email", "The package."), ("email.parser", "Parse messages.")]
    assert all(d.source == "docstring" for d in docs)


def test_docstrings_explain_bad_input(tmp_path):
    with pytest.raises(ValueError, match="not standard-library"):
        python_docstrings(["no_such_module"], root=tmp_path)
    with pytest.raises(FileNotFoundError, match="no Python source"):
        python_docstrings(["json"], root=tmp_path)


def test_topics_and_topic_sentences():
    assert topic_of("email.parser") == "internet" and topic_of("json") is None
    assert set(TOPICS) == {"files", "internet", "concurrency", "numbers", "text", "debugging"}
    docs = [Document("docstring", "threading", "Start the thread's activity. Wait."),
            Document("docstring", "json", "Serialize an object to a JSON formatted string."),
            Document("reference", "socket", "Not a docstring of the socket module at all."),
            Document("docstring", "asyncio.locks", "Start the thread's activity. Wait.")]
    assert topic_sentences(docs, min_words=3) == [
        ("Start the thread's activity.", "concurrency", "threading")]


def test_reference_topics_are_pythons_help_pages():
    topics = python_reference_topics()
    names = [d.name for d in topics]
    assert "if" in names and "with" in names and names == sorted(names)
    assert all(d.source == "reference" and d.text for d in topics)


def test_stdlib_modules_leave_out_tests_and_split_packages():
    modules = stdlib_modules()
    assert "os" in modules and "asyncio" in modules
    assert not {"test", "idlelib", "tkinter", "lib2to3", "antigravity"} & set(modules)
    assert set(modules) <= set(sys.stdlib_module_names)


def test_python_docs_corpus_is_real_deterministic_and_covers_every_topic():
    docs = python_docs_corpus()
    assert docs == python_docs_corpus()
    sentences = [s for d in docs for s in split_sentences(d.text)]
    assert sum(len(tokenize(s)) for s in sentences) > 100_000
    rows = topic_sentences(docs)
    counts = {topic: sum(1 for _, t, _ in rows if t == topic) for topic in TOPICS}
    assert min(counts.values()) >= 200, counts
