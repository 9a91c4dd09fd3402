"""Text for the NLP chapters: a tokenizer, a vocabulary, and a real English corpus every install has.

The corpus is the documentation that ships with Python itself (PSF licence): the docstrings of the
pure-Python standard library, read from its source files with `ast` (nothing is imported, so no
module's side effects run), and the Language Reference topics of `pydoc_data` (what `help("if")`
shows). It is human-written English about programming, identical on every machine with the same
Python version, and needs no network.

    docs = python_docs_corpus()                        # list[Document]
    sentences = [s for d in docs for s in split_sentences(d.text)]
    vocab = Vocabulary.build(tokenize(s) for s in sentences)
"""
from __future__ import annotations

import ast
import re
import sys
import sysconfig
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

TOKEN = re.compile(r"_*[a-z][a-z0-9_]*(?:'[a-z]+)?")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'`])")

# Standard-library parts that are not prose documentation, may be missing from a split install
# (Debian's python3-tk, python3-lib2to3, python3-distutils), or are jokes and demos.
STDLIB_EXCLUDE = frozenset({
    "test", "idlelib", "tkinter", "turtle", "turtledemo", "lib2to3", "distutils", "ensurepip",
    "antigravity", "this", "__hello__", "__phello__", "pydoc_data", "site-packages",
})
SKIP_DIRS = frozenset({"test", "tests", "idle_test", "__pycache__"})

# A supervised task over the corpus: which area of the standard library a docstring sentence is
# from. Each topic is a handful of modules (packages include their submodules).
TOPICS: dict[str, tuple[str, ...]] = {
    "files": ("os", "pathlib", "shutil", "glob", "fnmatch", "tempfile", "tarfile", "zipfile",
              "gzip", "bz2", "lzma", "filecmp", "fileinput", "posixpath", "ntpath", "genericpath",
              "stat", "_pyio"),
    "internet": ("socket", "ssl", "http", "urllib", "email", "smtplib", "imaplib", "poplib",
                 "ftplib", "mailbox", "ipaddress", "socketserver", "xmlrpc", "wsgiref",
                 "mimetypes", "nntplib", "telnetlib"),
    "concurrency": ("threading", "multiprocessing", "asyncio", "concurrent", "queue",
                    "subprocess", "sched", "selectors", "_threading_local"),
    "numbers": ("_pydecimal", "fractions", "statistics", "random", "numbers", "datetime",
                "calendar", "colorsys"),
    "text": ("re", "string", "textwrap", "difflib", "codecs", "locale", "gettext", "html",
             "stringprep", "shlex", "_strptime", "sre_parse", "sre_compile", "tokenize"),
    "debugging": ("unittest", "doctest", "pdb", "bdb", "trace", "inspect", "dis", "logging",
                  "profile", "cProfile", "pstats", "timeit", "traceback", "warnings", "tracemalloc"),
}


def tokenize(text: str) -> list[str]:
    """Lower-cased words and identifiers: "Return the __init__ file's path." -> return, the, __init__, file's, path."""
    return TOKEN.findall(text.lower())


@dataclass(frozen=True)
class Document:
    """One piece of documentation: where it is from (`module` or reference topic) and its text."""
    source: str     # "docstring" or "reference"
    name: str       # the module ("os.path" lives in "posixpath") or the pydoc topic ("if")
    text: str


def stdlib_dir() -> Path:
    """Where this Python's standard library source lives."""
    return Path(sysconfig.get_paths()["stdlib"])


def _module_files(name: str, root: Path) -> list[Path]:
    single = root / f"{name}.py"
    if single.is_file():
        return [single]
    package = root / name
    if not package.is_dir():
        return []
    return sorted(p for p in package.rglob("*.py")
                  if not SKIP_DIRS.intersection(p.relative_to(package).parts[:-1]))


def _docstrings(node: ast.AST) -> Iterable[str]:
    doc = ast.get_docstring(node, clean=True)
    if doc:
        yield doc
    for child in getattr(node, "body", []):
        if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from _docstrings(child)


def stdlib_modules() -> list[str]:
    """The standard library's top-level modules (`sys.stdlib_module_names`) that the corpus reads."""
    return sorted(m for m in sys.stdlib_module_names if m not in STDLIB_EXCLUDE)


def python_docstrings(modules: Iterable[str] | None = None, root: Path | None = None) -> list[Document]:
    """Every module, class and function docstring in the pure-Python source of `modules`.

    Modules written in C (math, itertools…) have no source and are skipped. Raises
    FileNotFoundError, saying what to install, when none of the source is on this machine.
    """
    root = Path(root) if root is not None else stdlib_dir()
    modules = list(modules) if modules is not None else stdlib_modules()
    unknown = [m for m in modules if m not in sys.stdlib_module_names]
    if unknown:
        raise ValueError(f"not standard-library modules: {', '.join(map(repr, unknown))} "
                         f"(see sys.stdlib_module_names)")
    documents = []
    for module in modules:
        for path in _module_files(module, root):
            try:
                tree = ast.parse(path.read_bytes(), filename=str(path))
            except (SyntaxError, ValueError, OSError):
                continue        # a damaged or non-Python file is not documentation
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            name = name.removesuffix(".__init__")
            documents.extend(Document("docstring", name, doc) for doc in _docstrings(tree))
    if not documents and modules:
        raise FileNotFoundError(
            f"no Python source found for {len(modules)} standard-library module(s) under {root}: "
            f"this Python ships without its .py files; install the full standard library "
            f"(e.g. Debian's libpython3-stdlib) or use a regular CPython/conda/Colab install")
    return documents


def python_reference_topics() -> list[Document]:
    """The Language Reference topics that `help("if")`, `help("with")`… print (module pydoc_data)."""
    try:
        from pydoc_data.topics import topics
    except ImportError:
        raise FileNotFoundError("this Python has no pydoc_data (its help() topics); install the full "
                                "standard library or use a regular CPython/conda/Colab install") from None
    return [Document("reference", key, topics[key]) for key in sorted(topics)]


def python_docs_corpus() -> list[Document]:
    """The whole corpus: the Language Reference topics, then the standard library's docstrings."""
    return python_reference_topics() + python_docstrings()


def _is_prose(paragraph: str) -> bool:
    lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
    if not lines or any(line.startswith((">>>", "...", ".. ", "$ ", "%")) for line in lines):
        return False
    if paragraph.rstrip().endswith("::") and len(lines) == 1:
        return False
    text = " ".join(lines)
    letters = sum(c.isalpha() or c == " " for c in text)
    return letters >= 0.85 * len(text) and len(tokenize(text)) >= 3


def split_sentences(text: str) -> list[str]:
    """The prose sentences of a docstring or help text; code examples and tables are dropped."""
    sentences = []
    for paragraph in re.split(r"\n\s*\n", text):
        if not _is_prose(paragraph):
            continue
        joined = " ".join(line.strip() for line in paragraph.splitlines() if line.strip())
        sentences.extend(s.strip() for s in SENTENCE_END.split(joined) if s.strip())
    return sentences


def topic_of(module: str) -> str | None:
    """The TOPICS area a (dotted) module name belongs to, or None."""
    top = module.split(".")[0]
    for topic, modules in TOPICS.items():
        if top in modules:
            return topic
    return None


def topic_sentences(documents: Sequence[Document], min_words: int = 5,
                    max_words: int = 40) -> list[tuple[str, str, str]]:
    """(sentence, topic, module) for every docstring sentence of a TOPICS module, deduplicated.

    Sentences of `min_words`…`max_words` tokens only: shorter ones ("Return x.") say too little.
    """
    seen, rows = set(), []
    for doc in documents:
        topic = topic_of(doc.name) if doc.source == "docstring" else None
        if topic is None:
            continue
        for sentence in split_sentences(doc.text):
            n = len(tokenize(sentence))
            if min_words <= n <= max_words and sentence not in seen:
                seen.add(sentence)
                rows.append((sentence, topic, doc.name))
    return rows


class Vocabulary:
    """Words <-> indices. Index 0 is padding, 1 the unknown word; then words by frequency."""

    PAD, UNK = "<pad>", "<unk>"

    def __init__(self, words: Sequence[str], counts: Sequence[int] | None = None):
        words, counts = list(words), list(counts) if counts is not None else [0] * len(words)
        if len(counts) != len(words):
            raise ValueError(f"{len(words)} words but {len(counts)} counts")
        if words[:2] != [self.PAD, self.UNK]:
            words, counts = [self.PAD, self.UNK] + words, [0, 0] + counts
        if len(set(words)) != len(words):
            raise ValueError("a vocabulary cannot list the same word twice (or a special token)")
        self.words = words
        self.index = {word: i for i, word in enumerate(words)}
        self.counts = torch.tensor(counts, dtype=torch.float64)

    @classmethod
    def build(cls, texts: Iterable[Sequence[str]], max_size: int | None = None,
              min_count: int = 1) -> Vocabulary:
        """The `max_size` most frequent words seen at least `min_count` times (ties: alphabetical)."""
        counter = Counter(word for tokens in texts for word in tokens)
        ranked = sorted((item for item in counter.items() if item[1] >= min_count),
                        key=lambda item: (-item[1], item[0]))
        if max_size is not None:
            ranked = ranked[:max_size]
        if not ranked:
            raise ValueError("no word occurs often enough to build a vocabulary")
        return cls([w for w, _ in ranked], [c for _, c in ranked])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self.index and self.index[word] > 1

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} words: {', '.join(self.words[2:8])}, …)"

    def lookup(self, word: str) -> int:
        """The index of `word`; a KeyError that says why and what to try when it is not known."""
        if not isinstance(word, str):
            raise TypeError(f"look up a word as a string, not {type(word).__name__}")
        key = word.strip().lower()
        if key not in self:
            if not TOKEN.fullmatch(key):
                raise KeyError(f"{word!r} is not a word (use letters, digits and underscores, "
                               f"starting with a letter)")
            raise KeyError(f"{word!r} is not among the {len(self) - 2} words of the vocabulary "
                           f"(too rare in the corpus); try e.g. {', '.join(self.words[40:45])}")
        return self.index[key]

    def encode(self, tokens: Iterable[str], unknown: str = "unk") -> list[int]:
        """Indices of `tokens`; unknown words become <unk> ("unk"), are dropped ("skip") or raise ("error")."""
        if unknown not in ("unk", "skip", "error"):
            raise ValueError(f"unknown={unknown!r}: use 'unk', 'skip' or 'error'")
        ids = []
        for token in tokens:
            i = self.index.get(token, 1)
            if i < 2:                       # not a word of the vocabulary
                if unknown == "error":
                    self.lookup(token)      # raises, saying why
                if unknown == "skip":
                    continue
                i = 1
            ids.append(i)
        return ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        """The words of a sequence of indices (padding dropped)."""
        return [self.words[int(i)] for i in ids if int(i) != 0]


def pad_sequences(sequences: Sequence[Sequence[int]], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Index sequences as one (N, max_len) LongTensor padded with 0, and their lengths (≥ 1).

    Longer sequences are cut at `max_len`; an empty sequence raises ValueError.
    """
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1, got {max_len}")
    ids = torch.zeros(len(sequences), max_len, dtype=torch.long)
    lengths = torch.zeros(len(sequences), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        if len(sequence) == 0:
            raise ValueError(f"sequence {row} is empty: drop it before padding")
        cut = list(sequence)[:max_len]
        ids[row, :len(cut)] = torch.tensor(cut)
        lengths[row] = len(cut)
    return ids, lengths
