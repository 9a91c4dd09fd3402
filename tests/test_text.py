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


def test_vocabulary_encode_decode_and_unknown_words():
    vocab = Vocabulary(["the", "file"], [5, 3])
    assert vocab.encode(["the", "disk", "file"]) == [2, 1, 3]
    assert vocab.encode(["the", "disk", "file"], unknown="skip") == [2, 3]
    assert vocab.decode([2, 1, 3, 0, 0]) == ["the", "<unk>", "file"]
    assert vocab.lookup("  File ") == 3
    with pytest.raises(KeyError, match="not among the 2 words"):
        vocab.encode(["disk"], unknown="error")
    with pytest.raises(KeyError, match="not a word"):
        vocab.lookup("two words")
    with pytest.raises(KeyError, match="not a word"):
        vocab.lookup("")
    with pytest.raises(TypeError, match="string"):
        vocab.lookup(3)
    with pytest.raises(ValueError, match="unk"):
        vocab.encode(["the"], unknown="ignore")


@pytest.mark.parametrize("words, counts", [(["a", "a"], None), (["a", "b"], [1])])
def test_vocabulary_rejects_bad_tables(words, counts):
    with pytest.raises(ValueError):
        Vocabulary(words, counts)


def test_vocabulary_needs_words():
    with pytest.raises(ValueError, match="no word"):
        Vocabulary.build([["a"]], min_count=2)


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
