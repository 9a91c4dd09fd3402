"""Text for the book: its one tokenizer and one vocabulary (chapters 04, 05 and 07; bAbI and
captions use them too), and a real English corpus every install has.

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

# The one tokenizer's two splits (see `tokenize`): words and identifiers; the same with numbers.
WORD = re.compile(r"_*[a-z][a-z0-9_]*(?:'[a-z]+)?")
WORD_OR_NUMBER = re.compile(r"_*[a-z0-9][a-z0-9_]*(?:'[a-z]+)?")
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


def tokenize(text: str, numbers: bool = False) -> list[str]:
    """Lower-cased words and identifiers; punctuation and white space separate them.

    "Return the __init__ file's path." -> return, the, __init__, file's, path. A token starts
    with a letter (after any underscores), so numbers are dropped: in the Python docs (chapter
    04) "3.12" or "0" are noise, not vocabulary. `numbers=True` keeps them as words, as captions
    need ("a dog's 2 balls." -> a, dog's, 2, balls). bAbI's sentences (chapter 05) hold neither
    numbers nor identifiers, so both splits read them alike; the default is used.
    """
    if not isinstance(text, str):
        raise TypeError(f"tokenize reads a string, not {type(text).__name__}; "
                        f"join a list of words with ' '.join(...) first")
    return (WORD_OR_NUMBER if numbers else WORD).findall(text.lower())


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
    """Words <-> ids: the special tokens first (padding is id 0), then the words in a fixed order.

    `words[i]` is the word of id i and `index[word]` the id of a word; `counts` holds how often
    each was seen when built (0 for the specials). The one vocabulary of the book:

    - chapter 04: `Vocabulary.build(tokens, max_size=…, min_count=…)`: <pad>, <unk>, then
      the most frequent words first (ties alphabetical);
    - chapter 05: `Vocabulary.build(qa_tokens(train), order="alphabetical")`: <pad>, <unk>,
      then every word of the training stories in alphabetical order;
    - chapter 07: `specials=("<pad>", "<start>", "<end>", "<unk>")`, words alphabetical.

    Words outside the vocabulary become the `<unk>` id when there is one (see `encode`).
    """

    PAD, UNK = "<pad>", "<unk>"
    SPECIALS = (PAD, UNK)
    ORDERS = ("frequency", "alphabetical")

    def __init__(self, words: Iterable[str], counts: Sequence[int] | None = None,
                 specials: Sequence[str] = SPECIALS):
        """`words` in id order after the `specials` (which are added unless `words` starts
        with them already, as `Vocabulary(vocab.words)` does); `counts` one per word given."""
        words, specials = list(words), list(specials)
        counts = [0] * len(words) if counts is None else list(counts)
        if len(counts) != len(words):
            raise ValueError(f"{len(words)} words but {len(counts)} counts: give one count "
                             f"per word, or none")
        bad = [w for w in specials + words if not isinstance(w, str) or not w]
        if bad:
            raise TypeError(f"a vocabulary holds non-empty strings, got {bad[0]!r}")
        if self.PAD in specials and specials[0] != self.PAD:
            raise ValueError(f"{self.PAD!r} must be the first special token (id 0): padded "
                             f"tensors are filled with zeros; got specials {specials}")
        if words[:len(specials)] != specials:
            words, counts = specials + words, [0] * len(specials) + counts
        repeated = sorted(w for w, n in Counter(words).items() if n > 1)
        if repeated:
            raise ValueError(f"a vocabulary lists each word once; repeated: "
                             f"{', '.join(map(repr, repeated[:10]))} (a special token such as "
                             f"'<unk>' cannot also be a word)")
        self.specials = tuple(specials)
        self.words = words
        self.index = {word: i for i, word in enumerate(words)}
        self.counts = torch.tensor(counts, dtype=torch.float64)

    @classmethod
    def build(cls, texts: Iterable[Sequence[str]], max_size: int | None = None,
              min_count: int = 1, order: str = "frequency",
              specials: Sequence[str] = SPECIALS) -> Vocabulary:
        """The `max_size` most frequent words of `texts` (token lists) seen at least `min_count`
        times, listed after the specials by `order`: 'frequency' (most frequent first, ties
        alphabetical) or 'alphabetical'."""
        if order not in cls.ORDERS:
            raise ValueError(f"order={order!r}: use 'frequency' or 'alphabetical'")
        if min_count < 1 or (max_size is not None and max_size < 1):
            raise ValueError(f"min_count and max_size must be at least 1, got {min_count} "
                             f"and {max_size}")
        if isinstance(texts, str):
            raise TypeError("build reads token lists, not a string: pass [tokenize(text)]")
        counter = Counter(word for tokens in texts for word in tokens)
        clash = sorted(set(counter) & set(specials))
        if clash:
            raise ValueError(f"the texts contain the special token(s) {clash}: rename them in "
                             f"the data or choose other specials")
        ranked = sorted((item for item in counter.items() if item[1] >= min_count),
                        key=lambda item: (-item[1], item[0]))[:max_size]
        if not ranked:
            raise ValueError(f"no word occurs often enough (min_count={min_count}) to build a "
                             f"vocabulary from {sum(counter.values())} tokens")
        if order == "alphabetical":
            ranked.sort()
        return cls([w for w, _ in ranked], [c for _, c in ranked], specials)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        """Whether `word` is a word of the vocabulary (the special tokens are not)."""
        return isinstance(word, str) and word in self.index and word not in self.specials

    def __repr__(self) -> str:
        n = len(self.specials)
        return f"Vocabulary({len(self)} words: {', '.join(self.words[n:n + 6])}, …)"

    def lookup(self, word: str) -> int:
        """The id of `word` (case and surrounding spaces forgiven); a KeyError that says why and
        what to try when it is not a word of the vocabulary."""
        if not isinstance(word, str):
            raise TypeError(f"look up a word as a string, not {type(word).__name__}")
        key = word if word in self else word.strip().lower()
        if key not in self:
            raise KeyError(self._not_known(word))
        return self.index[key]

    def _not_known(self, word: str) -> str:
        if not word.strip() or any(c.isspace() for c in word.strip()) or word in self.specials:
            return (f"{word!r} is not a word (look up one word, without spaces; the special "
                    f"tokens' ids are in .index)")
        n = len(self.specials)
        examples = self.words[n + 38:n + 43] or self.words[n:n + 5]
        return (f"{word!r} is not among the {len(self) - n} words of the vocabulary (too rare "
                f"in the data, or not a word of it); try e.g. {', '.join(examples)}")

    def encode(self, tokens: Iterable[str], unknown: str = "unk") -> list[int]:
        """Ids of `tokens`; words not in the vocabulary (special tokens included) become <unk>
        ("unk"), are dropped ("skip") or raise a KeyError ("error")."""
        if unknown not in ("unk", "skip", "error"):
            raise ValueError(f"unknown={unknown!r}: use 'unk', 'skip' or 'error'")
        if isinstance(tokens, str):
            raise TypeError("encode reads a list of tokens, not a string: use "
                            "encode(tokenize(text))")
        unk = self.index.get(self.UNK)
        ids = []
        for token in tokens:
            if token in self:
                ids.append(self.index[token])
            elif unknown == "error":
                raise KeyError(self._not_known(token))
            elif unknown == "unk":
                if unk is None:
                    raise KeyError(f"{token!r} is not in the vocabulary and it has no "
                                   f"{self.UNK!r} token (specials {list(self.specials)}): "
                                   f"use unknown='skip', or build it with {self.UNK!r} "
                                   f"among the specials")
                ids.append(unk)
        return ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        """The words of a sequence of ids (padding dropped); an id out of range raises."""
        pad = self.index.get(self.PAD)
        words = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.words):
                raise IndexError(f"id {i} is not in the vocabulary (0 to {len(self) - 1})")
            if i != pad:
                words.append(self.words[i])
        return words


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
