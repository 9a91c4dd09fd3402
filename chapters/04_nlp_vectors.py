# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: all,-execution,-ExecuteTime,-autoscroll,-collapsed,-scrolled,-trusted
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-all
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. Words and sentences as vectors
#
# To a program, a word is a symbol: "thread" and "lock" are as different as "thread" and "month".
# Deep learning replaces the symbols by *vectors* that it learns from text, so that words used in
# similar ways end up close together, and then folds the vectors of a sentence's words into one
# vector for the whole sentence. In this chapter you write both steps yourself in PyTorch, train
# them on a real English corpus that every Python installation carries (Python's own
# documentation), and measure what they learned: nearest words, analogies, a topic classifier and
# a nearest-sentence search.
#
# **Learning goals**
# - Explain why one-hot symbols cannot express similarity, and measure it with cosine similarities.
# - Write skip-gram with negative sampling (word2vec) and train it on ~240,000 words of real text.
# - Probe learned word vectors: nearest neighbours, analogies, a 2-D projection.
# - Implement the talk's three-step sentence algorithm as a hand-written RNN cell, then with `nn.GRU`.
# - Train both on a real supervised task, against order-blind baselines of the same size, and
#   test whether word order is what they use.
#
# **Run time:** about 1 minute on a 2-core laptop (CPU profile); well under a minute on a GPU,
# where the GPU profile trains larger vectors for longer.

# %% [markdown]
# ## From the talk
#
# | The slide says | What this chapter does with it |
# |---|---|
# | "Deep learning enables sub-symbolic processing" | We replace word symbols (one-hot vectors) by learned, dense word vectors. |
# | "You have to remember to represent 'purchased' and 'automobile.' What about 'truck'?" | One-hot vectors for exactly these words: every pair has cosine similarity 0. Our corpus never uses these words, so we show learned similarity with related words it does use, and say so. |
# | "How do you encode the meaning of the entire sentence?" / "But what about a sentence?" | We turn whole sentences into vectors, train them to tell which part of the standard library a sentence documents, and search for nearest sentences. |
# | "Algorithm for generating vectors for sentences" (steps 1–3) | We write the three steps literally, as a recurrent cell in ten lines of PyTorch. |
# | "Can be implemented using a recurrent neural network (RNN)" | We swap our cell for PyTorch's `nn.GRU` and compare both with an order-blind average of word vectors. |

# %% tags=["hide-input"]
# Bootstrap: makes this notebook work alone in Colab or on an Azure VM.
import importlib.util, os
if importlib.util.find_spec("demystify") is None:   # Colab / Azure: fetch the helpers
    repository = "git+https://github.com/demystify-dl/demystifying-deep-learning"
    source = os.environ.get("DEMYSTIFY_SOURCE", repository)
    # %pip install -q "demystify @ {source}"

# %% [markdown]
# The setup cell seeds every random number generator, picks the device (a GPU when there is one)
# and loads this chapter's **profile**: the sizes it runs with on a CPU or on a GPU.

# %%
import platform

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F

from demystify import (claim, count_parameters, evaluate, fit, glue, plot_heatmap,
                       plot_history, predict, report, start)
from demystify.text import (TOPICS, Vocabulary, pad_sequences, python_docs_corpus,
                            split_sentences, tokenize, topic_sentences)

device, P = start("04_nlp_vectors")

# %% [markdown]
# ## The corpus: Python's own documentation
#
# Word vectors are learned from text, and a lot of it. We need real, human-written English that is
# on every learner's machine without a download. Python ships one: the **docstrings** of its
# standard library (read from the `.py` source files, without importing anything) and the
# **Language Reference** pages that `help("if")` prints. `demystify.text` extracts them, keeps
# the prose paragraphs (code examples and tables are dropped) and splits them into sentences.
#
# The corpus is read from *your* Python installation, so its exact size, and the neighbours and
# accuracies below, depend on your Python version (the stored outputs print the version they
# come from). The claims this chapter makes hold with tolerances, never on exact neighbours.

# %%
documents = python_docs_corpus()
sentences = [s for doc in documents for s in split_sentences(doc.text)]
tokens = [tokenize(s) for s in sentences]
print(f"Python {platform.python_version()}: {len(documents):,} documents, "
      f"{len(sentences):,} prose sentences, {sum(map(len, tokens)):,} words")
examples = [s for s in sentences if 10 <= len(tokenize(s)) <= 25]
pick = torch.Generator().manual_seed(0)
for i in torch.randperm(len(examples), generator=pick)[:4].tolist():
    print(f"  • {examples[i]}")

# %% [markdown]
# ## Symbols: one-hot vectors
#
# The classic way to hand words to a program is as symbols. As vectors, a symbol is a **one-hot
# vector**: as long as the vocabulary, all zeros except a single 1 at the word's own position.
# Here are the talk's words, plus two of their synonyms, as one-hot vectors, and the cosine
# similarity $\cos(a, b) = \frac{a \cdot b}{\lVert a\rVert \lVert b\rVert}$ of every pair.

# %%
# NBVAL_CHECK_OUTPUT
talk_words = ["purchased", "bought", "automobile", "car", "truck"]
one_hot = torch.eye(len(talk_words))               # row i: the one-hot vector of word i
one_hot_cosine = F.normalize(one_hot, dim=1) @ F.normalize(one_hot, dim=1).T
table = pd.DataFrame(one_hot.int().numpy(), index=talk_words, columns=talk_words)
print(table.to_string(), "\n")
print("cosine similarity of one-hot vectors:")
cosines = pd.DataFrame(one_hot_cosine.numpy(), index=talk_words, columns=talk_words)
print(cosines.round(2).to_string())

# %% [markdown]
# Every word is exactly as unrelated to every other word: "purchased" is no closer to "bought"
# than to "truck". A program that learned something about automobiles learns nothing about
# cars or trucks. That is what the talk means by *symbolic*: you "have to remember to represent"
# each word, and each one on its own. A *sub-symbolic* representation spreads a word's meaning
# over many numbers, so that similar words can share them. Such vectors are not designed by hand;
# they are learned from how words are used.

# %% [markdown]
# ## Learning word vectors: skip-gram with negative sampling
#
# "You shall know a word by the company it keeps": words that appear in similar contexts tend to
# mean similar things {cite}`harris1954distributional`. **Skip-gram** {cite}`mikolov2013efficient`
# turns this into a learning task: from a word (the *centre*), predict the words around it (its
# *context*, up to `window` positions away). Each word $w$ gets two vectors, $v_w$ as a centre and
# $u_w$ as a context, and the model's guess for the context word $o$ of centre $c$ is a
# **softmax over the whole vocabulary** $V$:
#
# $$p(o \mid c) = \frac{\exp(u_o \cdot v_c)}{\sum_{w \in V} \exp(u_w \cdot v_c)}.$$
#
# Training on $-\log p(o \mid c)$ is the objective we want, but its denominator touches every
# word of the vocabulary for every single pair. **Negative sampling**
# {cite}`mikolov2013distributed` approximates it cheaply: instead of scoring all words, tell the
# true context word $o$ apart from $k$ random "noise" words $n_1 \dots n_k$, drawn in proportion
# to their frequency to the power $3/4$:
#
# $$\mathcal{L} = -\log \sigma(u_o \cdot v_c) - \sum_{i=1}^{k} \log \sigma(-u_{n_i} \cdot v_c).$$
#
# First the vocabulary: the most frequent words, each with an index; rarer words are dropped.

# %%
# NBVAL_CHECK_OUTPUT
vocab = Vocabulary.build(tokens, max_size=P.vocab_size, min_count=P.min_count)
ids, sentence_of = [], []                   # the corpus as one stream of word indices
for i, sentence in enumerate(tokens):
    encoded = vocab.encode(sentence, unknown="skip")
    ids += encoded
    sentence_of += [i] * len(encoded)
ids, sentence_of = torch.tensor(ids), torch.tensor(sentence_of)
print(f"vocabulary: {len(vocab)} entries (<pad>, <unk> and the {len(vocab) - 2} "
      "most frequent words)")
print("most frequent:", ", ".join(vocab.words[2:14]))

# %% [markdown]
# Next, the (centre, context) training pairs. Two tricks from the word2vec paper: very frequent
# words ("the", "a") are randomly **subsampled**, since they say little about their neighbours,
# and pairs never cross a sentence boundary.

# %%
def skipgram_pairs(ids, sentence_of, counts, window, subsample, generator):
    """All (centre, context) index pairs at most `window` words apart in a sentence."""
    frequency = counts[ids] / counts.sum()
    ratio = subsample / frequency
    keep_probability = (torch.sqrt(ratio) + ratio).clamp(max=1)
    keep = torch.rand(len(ids), generator=generator) < keep_probability
    ids, sentence_of = ids[keep], sentence_of[keep]
    pairs = []
    for offset in range(1, window + 1):
        same = sentence_of[:-offset] == sentence_of[offset:]   # do not cross sentences
        left, right = ids[:-offset][same], ids[offset:][same]
        pairs += [torch.stack([left, right], 1), torch.stack([right, left], 1)]
    return torch.cat(pairs)


generator = torch.Generator().manual_seed(P.seed)
pairs = skipgram_pairs(ids, sentence_of, vocab.counts.float(), P.window, P.subsample,
                       generator)
print(f"{len(pairs):,} training pairs, e.g.",
      ", ".join(f"({vocab.words[c]} → {vocab.words[o]})"
                for c, o in pairs[:4].tolist()))

# %% [markdown]
# The model is two embedding tables and a dot product. For each pair it draws $k$ noise words and
# returns $k + 1$ scores: the true context first, then the noise. Framed like this, training is a
# classification with the answer always "position 0", so the course's `fit()` trains it, and its
# accuracy tells how often the true context outscores all $k$ noise words (chance: $1/(k+1)$).

# %%
class SkipGram(nn.Module):
    """word2vec's skip-gram with negative sampling (Mikolov et al. 2013)."""
    def __init__(self, vocab_size: int, dim: int, noise: torch.Tensor, negatives: int):
        super().__init__()
        self.center = nn.Embedding(vocab_size, dim)    # v_w: the vectors we keep
        self.context = nn.Embedding(vocab_size, dim)   # u_w: used only for training
        nn.init.uniform_(self.center.weight, -0.5 / dim, 0.5 / dim)
        nn.init.zeros_(self.context.weight)
        self.register_buffer("noise", noise)           # P(word) ∝ count^0.75
        self.negatives = negatives

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        center, context = pairs[:, 0], pairs[:, 1:2]
        noise = torch.multinomial(self.noise, len(pairs) * self.negatives,
                                  replacement=True)
        candidates = torch.cat([context, noise.view(len(pairs), self.negatives)], dim=1)
        return torch.einsum("bd,bkd->bk", self.center(center), self.context(candidates))


def negative_sampling_loss(scores, target, reduction="mean"):
    """−log σ(true context) − Σ log σ(−noise); `target` is always 0 and unused."""
    loss = -F.logsigmoid(scores[:, 0]) - F.logsigmoid(-scores[:, 1:]).sum(dim=1)
    return loss.mean() if reduction == "mean" else loss.sum()


noise = vocab.counts.float() ** 0.75
noise[:2] = 0                                          # never draw <pad> or <unk>
skipgram = SkipGram(len(vocab), P.embed_dim, noise, P.negatives)

# %%
# NBVAL_CHECK_OUTPUT
print(f"skip-gram: {count_parameters(skipgram):,} parameters "
      f"= 2 tables × {len(vocab)} words × {P.embed_dim} dimensions")

# %% [markdown]
# An `nn.Embedding` is the one-hot vectors of the first section put to work: looking up row $i$
# of the table is the same as multiplying word $i$'s one-hot vector by the table, only without
# the multiplications by zero. Both give the same numbers:

# %%
# NBVAL_CHECK_OUTPUT
word = vocab.lookup("thread")
one_hot_thread = F.one_hot(torch.tensor(word), len(vocab)).float()
looked_up = skipgram.center(torch.tensor(word))
same = torch.allclose(one_hot_thread @ skipgram.center.weight, looked_up)
print(f"one-hot × table == embedding lookup: {same}")

# %% [markdown]
# Now the training, with the course's `fit()`:

# %%
always_zero = torch.zeros(len(pairs), dtype=torch.long)
w2v_history = fit(skipgram, (pairs, always_zero), epochs=P.w2v_epochs, lr=P.w2v_lr,
                  batch_size=P.w2v_batch, loss_fn=negative_sampling_loss, device=device,
                  desc="skip-gram")
chance = 1 / (P.negatives + 1)
w2v_accuracy = w2v_history.last("train_accuracy")
claim("skipgram_minus_chance", w2v_accuracy - chance, "> 0.2", tol=0.01,
      parts={"skipgram": w2v_accuracy, "chance": chance},
      says="the true context outscores all noise words far more often than chance")

# %% [markdown]
# The true context word outscores all the noise words in a fraction
# {glue:text}`skipgram_minus_chance__skipgram:.3f` of the training pairs, against
# {glue:text}`skipgram_minus_chance__chance:.3f` by chance.
#
# ## What the vectors learned
#
# We keep the centre vectors and normalise them to length 1, so that a dot product *is* the
# cosine similarity. A word's **nearest neighbours** are the words with the most similar vectors.

# %%
word_vectors = skipgram.center.weight.detach().float().cpu()
unit = F.normalize(word_vectors, dim=1)


def nearest_words(word: str, k: int = 8) -> list[tuple[str, float]]:
    """The k words whose vectors are most similar to `word`'s (KeyError if unknown)."""
    similarity = unit @ unit[vocab.lookup(word)]
    similarity[:2] = -1                                # skip <pad> and <unk>
    similarity[vocab.lookup(word)] = -1                # and the word itself
    top = similarity.topk(k)
    return [(vocab.words[i], float(s)) for s, i in zip(top.values, top.indices)]


probe_words = ["thread", "socket", "month", "encode", "directory", "exception"]
pd.DataFrame({word: [f"{w} {s:.2f}" for w, s in nearest_words(word, 6)]
              for word in probe_words})

# %% [markdown]
# Nobody told the model that a thread holds locks, that months contain days, or that encoding
# and decoding are opposites; it inferred all of it from which words keep company in the
# documentation. Now the talk's comparison, for words this corpus does contain: pairs that belong
# together, against the one-hot table above where every pair scored 0.

# %% mystnb={"figure": {"caption": "Cosine similarity of ten words: one-hot vectors (left) make every pair 0; learned skip-gram vectors (right) give related pairs (on the diagonal blocks) high similarity.", "name": "fig-04-cosine"}, "image": {"alt": "Two heatmaps over the same ten words. The left is white except for the diagonal. The right shows bright 2-by-2 blocks along the diagonal for read/write, thread/lock, encode/decode, month/day and client/server, and paler cells elsewhere."}}
related_pairs = [("read", "write"), ("thread", "lock"), ("encode", "decode"),
                 ("month", "day"), ("client", "server")]
words = [w for pair in related_pairs for w in pair]
index = torch.tensor([vocab.lookup(w) for w in words])
learned_cosine = unit[index] @ unit[index].T
fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
for ax, matrix, title in ((axes[0], torch.eye(len(words)), "one-hot (symbols)"),
                          (axes[1], learned_cosine, "learned (skip-gram)")):
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(words)), words, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(words)), words, fontsize=8)
    ax.set_title(title)
    for (r, c), value in np.ndenumerate(matrix.numpy()):
        ax.text(c, r, f"{value:.1f}", ha="center", va="center", fontsize=6)
fig.colorbar(image, ax=axes, shrink=0.8, label="cosine similarity")
plt.show()

# %%
block = torch.zeros(len(words), len(words), dtype=torch.bool)
for i in range(0, len(words), 2):
    block[i:i + 2, i:i + 2] = True
off_diagonal = ~torch.eye(len(words), dtype=torch.bool)
related_mean = learned_cosine[block & off_diagonal].mean().item()
unrelated_mean = learned_cosine[~block].mean().item()
claim("related_minus_unrelated_cosine", related_mean - unrelated_mean, ">= 0.25",
      tol=0.04,
      parts={"related": related_mean, "unrelated": unrelated_mean},
      says="the five related pairs are clearly more similar than the unrelated pairs")

# %% [markdown]
# The related pairs have a mean cosine of
# {glue:text}`related_minus_unrelated_cosine__related:.2f`, the unrelated ones
# {glue:text}`related_minus_unrelated_cosine__unrelated:.2f`; as one-hot vectors both would be 0.
#
# **And the talk's own words?** The slide's point is that learned vectors put "purchased" near
# "bought" and "truck" near "automobile" and "car". That needs a corpus that talks about buying
# and driving; ours documents a programming language. Here is how often the talk's words occur
# in it, and whether they made it into the vocabulary:

# %%
# NBVAL_CHECK_OUTPUT
corpus_counts = pd.Series([w for sentence in tokens for w in sentence]).value_counts()
for word in talk_words:
    print(f"{word:<11} {corpus_counts.get(word, 0):>3} times in the corpus, "
          f"{'in' if word in vocab else 'not in'} the vocabulary")
talk_words_known = sum(word in vocab for word in talk_words)
claim("talk_words_in_vocabulary", talk_words_known, "== 0", tol=0,
      says="none of the talk's five words is in the vocabulary of this corpus")

# %% [markdown]
# None of them is: this corpus cannot show the talk's punchline, and we do not pretend it does.
# Word vectors trained on general text (news, Wikipedia) do show it; what ours can show are
# neighbours of the words Python's documentation *is* about, such as those in the table above.

# %% [markdown]
# **Analogies.** word2vec became famous for vector arithmetic: $v_\text{king} - v_\text{man} +
# v_\text{woman} \approx v_\text{queen}$. Kings and queens are rare in Python's documentation, but
# its own regularities are there: *read* is to *write* as *reader* is to …? We search for the word
# nearest to $v_b - v_a + v_c$, leaving out the three question words. The seven questions below
# are fixed in advance (we do not pick the ones that work), and a question counts as answered
# only when the expected word comes **first** (top-1); the top 5 are listed to show the misses.

# %%
def analogy(a: str, b: str, c: str, k: int = 5) -> list[str]:
    """Words nearest to b − a + c: 'a is to b as c is to …'."""
    a_, b_, c_ = (unit[vocab.lookup(w)] for w in (a, b, c))
    query = F.normalize(b_ - a_ + c_, dim=0)
    similarity = unit @ query
    similarity[:2] = -1
    for word in (a, b, c):
        similarity[vocab.lookup(word)] = -1
    return [vocab.words[i] for i in similarity.topk(k).indices]


analogies = [("read", "write", "reader", "writer"),
             ("encode", "decode", "encoder", "decoder"),
             ("key", "keys", "value", "values"),
             ("read", "reading", "write", "writing"),
             ("file", "files", "directory", "directories"),
             ("integer", "integers", "string", "strings"),
             ("minimum", "maximum", "min", "max")]
rows = []
for a, b, c, expected in analogies:
    top = analogy(a, b, c)
    rows.append({"question": f"{a} : {b} :: {c} : ?", "expected": expected,
                 "top 5": ", ".join(top), "top-1 correct": top[0] == expected})
analogy_table = pd.DataFrame(rows)
top1 = int(analogy_table["top-1 correct"].sum())
claim("analogies_top1", top1, ">= 2", tol=1,
      says="at least two of the seven fixed analogies come out right at top-1")
analogy_table

# %% [markdown]
# {glue:text}`analogies_top1:.0f` of the seven come out right at top-1, on a corpus thousands of
# times smaller than the billions of words word2vec was first trained on. The ones that work
# are *grammatical* (plural, *-er*, *-ing*) or *opposites* that appear in the same sentences.
# Read the wrong answers with one more effect in mind: a word that turns up in the lists of
# several questions, whatever they ask, is a **hub**. Hubs sit close to many query vectors at
# once, a known weakness of nearest-neighbour search in many dimensions, and they crowd the
# right answers out of the top places; how many there are, and which words, changes from seed
# to seed.
#
# **A picture of the space.** The vectors have 64 dimensions (128 on a GPU). A principal-component
# projection squeezes them to two so we can look at groups of words from different areas.

# %% mystnb={"figure": {"caption": "Learned word vectors of five groups of words, projected to 2-D with PCA (stored run). Some groups occupy their own region; others overlap.", "name": "fig-04-pca"}, "image": {"alt": "A scatter plot of about thirty labelled words in five colours: time words, networking words, concurrency words, file words and number words. The file, time and number words each gather in their own region, while the networking and concurrency words are mixed together in one corner."}}
groups = {"time": ["day", "month", "year", "week", "seconds", "hour", "date"],
          "network": ["socket", "server", "client", "connection", "host", "port",
                      "address"],
          "concurrency": ["thread", "lock", "process", "queue", "task", "wait",
                          "threads"],
          "files": ["file", "directory", "path", "filename", "archive", "files",
                    "directories"],
          "numbers": ["integer", "float", "decimal", "fraction", "complex", "rational",
                      "precision"]}
groups = {g: [w for w in ws if w in vocab] for g, ws in groups.items()}
points = torch.stack([unit[vocab.lookup(w)] for ws in groups.values() for w in ws])
centred = points - points.mean(0)
_, _, components = torch.linalg.svd(centred, full_matrices=False)
xy = (centred @ components[:2].T).numpy()
fig, ax = plt.subplots(figsize=(7.5, 5.5))
start_row = 0
for i, (group, ws) in enumerate(groups.items()):
    part = xy[start_row:start_row + len(ws)]
    ax.scatter(part[:, 0], part[:, 1], color=f"C{i}", label=group)
    for (x, y), word in zip(part, ws):
        ax.annotate(word, (x, y), fontsize=8, xytext=(3, 3), textcoords="offset points")
    start_row += len(ws)
ax.set_xlabel("first principal component"); ax.set_ylabel("second principal component")
ax.legend(fontsize=8); ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ## Try it yourself: nearest words
#
# Type a word and see its nearest neighbours. With a running kernel the box is live; on the
# website the figure below it shows the same search for six words. The talk's own words are not
# in this corpus; try "purchased" to see what happens then.

# %%
import ipywidgets as widgets


def show_nearest_words(word: str = "thread") -> None:
    word = word.strip()
    if not word:
        print("Type a word, e.g. thread, socket or month.")
        return
    try:
        neighbours = nearest_words(word)
    except KeyError as error:
        print(error.args[0])
        return
    print(f"nearest to {word.lower()!r}:")
    for neighbour, similarity in neighbours:
        bar = "█" * round(20 * max(similarity, 0))
        print(f"  {neighbour:<16} {similarity:5.2f} {bar}")


widgets.interact(show_nearest_words,
                 word=widgets.Text("thread", description="word",
                                   continuous_update=False));

# %% mystnb={"figure": {"caption": "Static version of the widget: the six nearest neighbours of six words and their cosine similarities.", "name": "fig-04-neighbours"}, "image": {"alt": "Six small horizontal bar charts, one per query word (thread, socket, month, encode, directory, exception), each listing six neighbouring words with bars for their cosine similarity."}}
fig, axes = plt.subplots(2, 3, figsize=(11, 5.2))
for ax, word in zip(axes.flat, probe_words):
    neighbours = nearest_words(word, 6)
    ax.barh([w for w, _ in neighbours][::-1], [s for _, s in neighbours][::-1],
            color="C0")
    ax.set_xlim(0, 1); ax.set_title(word, fontsize=10); ax.tick_params(labelsize=8)
fig.supxlabel("cosine similarity")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## From words to a sentence: the talk's algorithm
#
# Words are vectors now; what about a sentence? The talk gives an algorithm:
#
# 1. Make the sentence vector be the vector for the first word.
# 2. For each subsequent word, combine its vector with the sentence vector.
# 3. The resulting vector after the last word is the sentence vector.
#
# "Combine" is the part that is learned. To learn it we need a task whose answer depends on what
# a sentence says. Our corpus has one built in: every docstring sentence comes from a module, and
# modules belong to areas of the standard library. The task: **from a sentence alone, tell which
# of six areas it documents.**
#
# How we split the sentences matters. Modules copy text from each other (`threading` and
# `asyncio` share whole docstrings), so a random split would put near-copies of test sentences
# in the training set. We split **by package** instead: within each area, whole packages go to
# the test set, others to a validation set (for choosing the training epoch), the rest to
# training; a held-out sentence whose first eight words also start a training sentence is
# dropped. The test set then asks the fair question: does the model recognise the area of
# sentences from packages it has never read?

# %%
# NBVAL_CHECK_OUTPUT
for topic, modules in TOPICS.items():
    print(f"{topic:<12} {', '.join(modules)}")

# %%
def split_by_package(rows, share=0.2, seed=0):
    """'train', 'val', 'test' or 'dropped' for each (sentence, topic, module) row:
    whole packages, each held-out part at most `share` of an area's sentences."""
    package = [module.split(".")[0] for _, _, module in rows]
    split_of, generator = {}, torch.Generator().manual_seed(seed)
    for topic in TOPICS:
        in_topic = [p for p, row in zip(package, rows) if row[1] == topic]
        sizes = pd.Series(in_topic).value_counts()
        names = sorted(sizes.index)
        taken = {"test": 0, "val": 0}
        for i in torch.randperm(len(names), generator=generator).tolist():
            n = sizes[names[i]]
            fits = [k for k in ("test", "val") if taken[k] + n <= share * sizes.sum()]
            part = fits[0] if fits else "train"
            taken[part] = taken.get(part, 0) + n
            split_of[names[i]] = part
    split = [split_of[p] for p in package]
    start8 = [tuple(tokenize(sentence)[:8]) for sentence, _, _ in rows]
    seen = {first for first, part in zip(start8, split) if part == "train"}
    return [part if part == "train" or first not in seen else "dropped"
            for first, part in zip(start8, split)]


rows = topic_sentences(documents)
topic_names = list(TOPICS)
x_all, lengths = pad_sequences([vocab.encode(tokenize(s)) for s, _, _ in rows],
                               P.max_len)
y_all = torch.tensor([topic_names.index(t) for _, t, _ in rows])
split = split_by_package(rows)
index = {k: torch.tensor([i for i, part in enumerate(split) if part == k])
         for k in ("train", "val", "test")}
train_index, test_index = index["train"], index["test"]
x_train, y_train = x_all[train_index], y_all[train_index]
x_val, y_val = x_all[index["val"]], y_all[index["val"]]
x_test, y_test = x_all[test_index], y_all[test_index]
most_common = torch.bincount(y_train).argmax()
majority = (y_test == most_common).float().mean().item()
print(f"{len(rows):,} sentences: {len(y_train):,} train, {len(y_val):,} validation, "
      f"{len(y_test):,} test, {split.count('dropped')} near-copies dropped; "
      f"{lengths.float().mean():.1f} words on average (cut at {P.max_len})")
print("test sentences per area:",
      dict(zip(topic_names, torch.bincount(y_test).tolist())))
print(f"majority class of training ('{topic_names[most_common]}') on test: "
      f"{majority:.1%}")

# %% [markdown]
# The word vectors come from skip-gram and stay **frozen**: only the way of combining them is
# trained. Here are the three steps, literally. "Combine" is the classic recurrent cell
# {cite}`elman1990finding`: a learned linear map of the new word, plus a learned linear map of the
# sentence so far, squashed by $\tanh$. Sentences in a batch have different lengths (padding is
# index 0), so a sentence that has ended keeps its vector while longer ones go on.

# %%
class TalkRNN(nn.Module):
    """The talk's sentence algorithm as a hand-written recurrent cell + a classifier."""
    def __init__(self, word_vectors: torch.Tensor, n_topics: int):
        super().__init__()
        dim = word_vectors.shape[1]
        self.embed = nn.Embedding.from_pretrained(word_vectors, freeze=True,
                                                  padding_idx=0)
        self.combine_word = nn.Linear(dim, dim)               # W_x x_t + b
        self.combine_sentence = nn.Linear(dim, dim, bias=False)  # W_h h
        self.classify = nn.Linear(dim, n_topics)

    def sentence_vector(self, ids: torch.Tensor) -> torch.Tensor:
        lengths = (ids != 0).sum(dim=1)
        words = self.embed(ids)
        sentence = words[:, 0]                     # 1. the first word's vector
        for t in range(1, int(lengths.max())):     # 2. each subsequent word…
            combined = torch.tanh(self.combine_word(words[:, t])
                                  + self.combine_sentence(sentence))
            still_reading = (t < lengths).unsqueeze(1)
            sentence = torch.where(still_reading, combined, sentence)
        return sentence                                        # 3. after the last word

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.classify(self.sentence_vector(ids))


frozen_vectors = word_vectors.clone()
frozen_vectors[0] = 0                                          # padding has no meaning
talk_rnn = TalkRNN(frozen_vectors, len(topic_names))

# %%
# NBVAL_CHECK_OUTPUT
talk_size = count_parameters(talk_rnn, trainable_only=True)
print(f"TalkRNN: {talk_size:,} trainable parameters "
      f"(+ {len(vocab) * P.embed_dim:,} frozen word-vector numbers)")

# %% [markdown]
# Every classifier below trains for up to `P.rnn_epochs` epochs and keeps the epoch with the best
# *validation* accuracy (`keep_best=True`); the test set is scored once, at the end.

# %%
def train_and_test(model, lr, desc):
    """Fit on the training packages, keep the best validation epoch, score on test."""
    history = fit(model, (x_train, y_train), (x_val, y_val), epochs=P.rnn_epochs, lr=lr,
                  batch_size=P.rnn_batch, device=device, desc=desc, keep_best=True)
    return history, evaluate(model, (x_test, y_test))["accuracy"]


talk_history, talk_accuracy = train_and_test(talk_rnn, P.rnn_lr, "talk RNN")
print(f"talk RNN test accuracy {talk_accuracy:.1%} (majority class {majority:.1%})")

# %% [markdown]
# **Watching the fold.** Because the sentence vector exists after every word, we can ask the
# classifier what it thinks *so far*. Each row below is the topic distribution after reading the
# sentence up to that word: the vector changes as evidence arrives (and the final guess can be
# wrong: compare it with the true area in the title).

# %% mystnb={"figure": {"caption": "The hand-written RNN reading one test sentence word by word: each row is the predicted probability of each area after folding in that word.", "name": "fig-04-fold"}, "image": {"alt": "A heatmap with the words of one sentence as rows and six library areas as columns; the probability mass shifts between columns as words are read."}}
example = next(i for i in range(len(y_test)) if 10 <= (x_test[i] != 0).sum() <= 16)
example_ids = x_test[example][x_test[example] != 0]
prefixes = [example_ids[:t + 1].tolist() for t in range(len(example_ids))]
probabilities = predict(talk_rnn, pad_sequences(prefixes, P.max_len)[0]).softmax(dim=1)
fig = plot_heatmap(probabilities, vocab.decode(example_ids), topic_names,
                   title=f"true area: {topic_names[y_test[example]]}")
plt.show()

# %% [markdown]
# ## The same with `nn.GRU`, and order-blind baselines
#
# The plain recurrent cell struggles to carry information over many steps. The gradient that
# reaches the first word has been multiplied by the recurrent matrix $W_h$ (our
# `combine_sentence`) once per later word, so it shrinks or grows exponentially with the
# distance, depending on the size of $W_h$'s largest singular values {cite}`bengio1994learning`;
# the $\tanh$, whose slope is at most 1, can only shrink it further. Gated cells learn *how much*
# of the old sentence vector to keep at each step, which gives the gradient a path around these
# repeated multiplications: the LSTM {cite}`hochreiter1997long` and its slimmer cousin the GRU
# {cite}`cho2014learning`. PyTorch implements them in optimised kernels; the three steps are the
# same, only "combine" is smarter.
#
# A model that reads words in order should be compared with models that do not. The simplest
# order-blind sentence vector is the **average** of its word vectors, followed by a linear
# classifier. That is unfair to it in one way: it has far fewer trainable parameters than the
# GRU. So we also give the average a hidden layer of 360 units (an MLP), which makes its
# trainable parameter count about the GRU's.

# %%
class GRUSentences(nn.Module):
    """The same three steps with PyTorch's gated recurrent unit doing the combining."""
    def __init__(self, word_vectors: torch.Tensor, n_topics: int):
        super().__init__()
        dim = word_vectors.shape[1]
        self.embed = nn.Embedding.from_pretrained(word_vectors, freeze=True,
                                                  padding_idx=0)
        self.gru = nn.GRU(dim, dim, batch_first=True)
        self.classify = nn.Linear(dim, n_topics)

    def sentence_vector(self, ids: torch.Tensor) -> torch.Tensor:
        lengths = (ids != 0).sum(dim=1)
        states, _ = self.gru(self.embed(ids[:, :int(lengths.max())]))  # one per word
        return states[torch.arange(len(ids)), lengths - 1]  # the last word's state

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.classify(self.sentence_vector(ids))


class AverageOfWords(nn.Module):
    """Baseline: the sentence vector is the mean of its word vectors (order is lost),
    then a linear classifier, or an MLP with `hidden` units."""
    def __init__(self, word_vectors: torch.Tensor, n_topics: int, hidden: int = 0):
        super().__init__()
        dim = word_vectors.shape[1]
        self.embed = nn.Embedding.from_pretrained(word_vectors, freeze=True,
                                                  padding_idx=0)
        self.classify = (nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(),
                                       nn.Linear(hidden, n_topics))
                         if hidden else nn.Linear(dim, n_topics))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        present = (ids != 0).unsqueeze(2).float()
        return self.classify((self.embed(ids) * present).sum(1) / present.sum(1))


gru_model = GRUSentences(frozen_vectors, len(topic_names))
average_model = AverageOfWords(frozen_vectors, len(topic_names))
mlp_model = AverageOfWords(frozen_vectors, len(topic_names), hidden=360)

# %%
# NBVAL_CHECK_OUTPUT
models = {"talk RNN": talk_rnn, "GRU": gru_model, "average + linear": average_model,
          "average + MLP": mlp_model}
sizes = {name: count_parameters(m, trainable_only=True) for name, m in models.items()}
for name, size in sizes.items():
    print(f"{name:<17} {size:>6,} trainable parameters")
claim("mlp_over_gru_parameters", sizes["average + MLP"] / sizes["GRU"], "<= 1.02",
      rel_tol=0.001, parts={"mlp": sizes["average + MLP"], "gru": sizes["GRU"]},
      says="the MLP baseline has about as many trainable parameters as the GRU")

# %%
gru_history, gru_accuracy = train_and_test(gru_model, P.rnn_lr, "GRU")
average_history, average_accuracy = train_and_test(average_model, 10 * P.rnn_lr,
                                                    "average")
mlp_history, mlp_accuracy = train_and_test(mlp_model, P.rnn_lr, "average + MLP")
results = {"majority class": majority, "average + linear": average_accuracy,
           "average + MLP": mlp_accuracy, "talk RNN (hand-written cell)": talk_accuracy,
           "nn.GRU": gru_accuracy}
pd.DataFrame({"test accuracy": {name: f"{value:.1%}"
                                for name, value in results.items()}})

# %% mystnb={"figure": {"caption": "Learning curves of the four sentence encoders on the topic task (solid: training, dashed: validation).", "name": "fig-04-curves"}, "image": {"alt": "Two line charts over training epochs, loss on the left and accuracy on the right, for the two average-of-words baselines, the hand-written RNN and the GRU, with the majority-class accuracy as a dotted line."}}
fig = plot_history({"average": average_history, "average + MLP": mlp_history,
                    "talk RNN": talk_history, "GRU": gru_history})
fig.axes[1].axhline(majority, color="gray", linestyle=":", label="majority class")
fig.axes[1].legend(fontsize=8)
plt.show()

# %% [markdown]
# All four encoders beat the majority class on sentences from packages they never saw: the
# average by {glue:text}`average_minus_majority:.3f` (with the MLP on top,
# {glue:text}`mlp_minus_majority:.3f`), the talk RNN by
# {glue:text}`talk_rnn_minus_majority:.3f`, the GRU by {glue:text}`gru_minus_majority:.3f`
# in accuracy, against a majority class that scores {glue:text}`gru_minus_majority__majority:.3f`.
# The word vectors never saw a topic label, yet averaging them already tells
# areas apart.
#
# **Do the recurrent models use word order?** A lead over the average would not show it: the
# GRU also has more parameters. The direct test is to **shuffle the words** of every test
# sentence and score the trained models again. The averages cannot notice by construction; a
# model that relies on order should lose accuracy.

# %%
def shuffle_words(x: torch.Tensor, seed: int) -> torch.Tensor:
    """Each sentence's words in a random order (the padding stays at the end)."""
    x, generator = x.clone(), torch.Generator().manual_seed(seed)
    for i, n in enumerate((x != 0).sum(dim=1).tolist()):
        x[i, :n] = x[i, torch.randperm(n, generator=generator)]
    return x


x_shuffled = shuffle_words(x_test, P.seed)
shuffled = {name: evaluate(models[name], (x_shuffled, y_test))["accuracy"]
            for name in ("talk RNN", "GRU")}
pd.DataFrame({"in order": {"talk RNN": talk_accuracy, "GRU": gru_accuracy},
              "words shuffled": shuffled}).round(3)

# %%
best_blind = max(average_accuracy, mlp_accuracy)
for name, value in (("average", average_accuracy), ("mlp", mlp_accuracy),
                    ("talk_rnn", talk_accuracy), ("gru", gru_accuracy)):
    claim(f"{name}_minus_majority", value - majority, "> 0.08", tol=0.03,
          parts={name: value, "majority": majority},
          says=f"the {name} encoder beats the majority class on unseen packages")
claim("gru_shuffle_change", abs(gru_accuracy - shuffled["GRU"]), "< 0.04", tol=0.02,
      parts={"in_order": gru_accuracy, "shuffled": shuffled["GRU"]},
      says="shuffling the words of the test sentences barely changes GRU accuracy")
claim("talk_rnn_shuffle_change", abs(talk_accuracy - shuffled["talk RNN"]), "< 0.04",
      tol=0.02, parts={"in_order": talk_accuracy, "shuffled": shuffled["talk RNN"]},
      says="shuffling the words barely changes the talk RNN's accuracy")
claim("mlp_minus_average", abs(mlp_accuracy - average_accuracy), "< 0.03", tol=0.02,
      parts={"mlp": mlp_accuracy, "average": average_accuracy},
      says="a hidden layer on top of the average changes its accuracy by little")
claim("gru_minus_best_order_blind", gru_accuracy - best_blind, "< 0.06", tol=0.03,
      parts={"gru": gru_accuracy, "order_blind": best_blind},
      says="the GRU's lead over the best order-blind baseline is at most a few points")

# %% [markdown]
# What to notice:
# - Shuffling the words moves the GRU's test accuracy from
#   {glue:text}`gru_shuffle_change__in_order:.3f` to
#   {glue:text}`gru_shuffle_change__shuffled:.3f`, and the talk RNN's from
#   {glue:text}`talk_rnn_shuffle_change__in_order:.3f` to
#   {glue:text}`talk_rnn_shuffle_change__shuffled:.3f`: on all five seeds we ran, the change
#   stays within a few points either way. On this task they behave like bag-of-words models:
#   what decides the area is *which* words occur ("socket", "thread"), not their order.
# - The GRU scores {glue:text}`gru_minus_best_order_blind__gru:.3f` against
#   {glue:text}`gru_minus_best_order_blind__order_blind:.3f` for the better of the two
#   order-blind baselines. Across seeds that lead is small and not reliably positive, so we
#   do not credit the GRU's gates or word order for it. The hidden layer does not reliably
#   help the average either ({glue:text}`mlp_minus_average__mlp:.3f` with it,
#   {glue:text}`mlp_minus_average__average:.3f` without): the task seems limited by what the
#   frozen word vectors say, not by the classifier's size.
# - Word order does matter for questions like those of the next chapter, where "the milk is in
#   the kitchen" and "the kitchen is in the milk" must differ. A topic task is simply not the
#   place to see it.
#
# ## Nearest sentences
#
# The GRU's sentence vectors can also be searched: encode every training sentence and, for a
# few test sentences, list the training sentences with the most similar vectors. Treat the
# result as an illustration, not as evidence that the vectors capture meaning in general: they
# were trained to separate areas, so scoring the neighbours by area would only measure the
# classifier again. Judge by reading whether the neighbours say similar things. Sentence
# vectors meant for search are trained for it; today they come from transformer models that
# read the whole sentence at once, with every word's vector depending on its context (the
# attention of the next chapters).

# %%
def sentence_vectors(ids: torch.Tensor) -> torch.Tensor:
    """Unit-length GRU sentence vectors, computed in batches on the model's device."""
    gru_model.eval()
    with torch.no_grad():
        parts = [gru_model.sentence_vector(ids[i:i + 512].to(device)).float().cpu()
                 for i in range(0, len(ids), 512)]
    return F.normalize(torch.cat(parts), dim=1)


train_vectors = sentence_vectors(x_train)
train_text = [rows[i][0] for i in train_index.tolist()]
train_module = [rows[i][2] for i in train_index.tolist()]


def nearest_sentences(ids: torch.Tensor, k: int = 3) -> list[tuple[float, str, str]]:
    """(similarity, module, text) of the k training sentences nearest to a sentence."""
    similarity = train_vectors @ sentence_vectors(ids.unsqueeze(0))[0]
    top = similarity.topk(k)
    return [(float(s), train_module[i], train_text[i])
            for s, i in zip(top.values, top.indices)]


for query in (3, 10, 25):
    print(f"QUERY [{rows[test_index[query]][2]}] {rows[test_index[query]][0]}")
    for similarity, module, text in nearest_sentences(x_test[query]):
        print(f"   {similarity:.2f} [{module}] {text[:110]}")
    print()

# %% [markdown]
# ### Try it yourself: nearest sentences
#
# Write a sentence about Python (any words; unknown ones become `<unk>`) and see the closest
# documentation sentences and the area the GRU assigns it. The printed searches above are the
# static version.

# %%
def show_nearest_sentences(
        sentence: str = "Wait until the lock is released by another thread.") -> None:
    words = tokenize(sentence)
    known = [w for w in words if w in vocab]
    if not known:
        print("None of these words is in the vocabulary; write a sentence about "
              "Python, "
              "e.g. 'Open the file and read its lines.'")
        return
    ids = pad_sequences([vocab.encode(words)], P.max_len)[0]
    area = topic_names[predict(gru_model, ids).argmax().item()]
    unknown = sorted(set(words) - set(known))
    note = f"   (unknown words: {', '.join(unknown)})" if unknown else ""
    print(f"area: {area}{note}")
    for similarity, module, text in nearest_sentences(ids[0], k=5):
        print(f"  {similarity:.2f} [{module}] {text[:110]}")


widgets.interact(show_nearest_sentences,
                 sentence=widgets.Text("Wait until the lock is released by another "
                                       "thread.",
                                       description="sentence", continuous_update=False,
                                       layout=widgets.Layout(width="90%")));

# %% [markdown]
# ## Exercises
#
# 1. **Context size.** Retrain skip-gram with `window=1` and with `window=8`. How do the nearest
#    neighbours of "thread" and "read" change? Which setting gives more *grammatical* neighbours,
#    and which more *topical* ones?
# 2. **Fine-tune the word vectors.** Build `TalkRNN` with `freeze=False` in its embedding. Does test
#    accuracy go up? Compare training and test accuracy: what happens to the gap, and why?
# 3. **LSTM.** Replace `nn.GRU` by `nn.LSTM` in `GRUSentences` (mind that an LSTM returns
#    `(h, c)` as its state). Is it better or worse here, and how many parameters does it add?
# 4. **Make order matter.** Build a task where word order decides the answer: from each training
#    sentence make a shuffled copy, and train the GRU to tell the original from the copy.
#    Can the order-blind average learn this task at all?
#
# ```{dropdown} Hints and solutions
# 1. Change `P.window` (or pass `window=1` to `skipgram_pairs`) and rerun from there. Small windows
#    see mostly a word's grammatical role, so neighbours tend to be words of the same kind
#    (verbs near verbs); large windows see the sentence's subject, so neighbours tend to be
#    topical ("thread" near "lock", "acquire", "daemon").
# 2. `nn.Embedding.from_pretrained(word_vectors, freeze=False, padding_idx=0)`. Accuracy usually
#    changes, but training accuracy rises much faster: 256,000 more parameters learn the few
#    thousand training sentences by heart. This is the overfitting–pretraining trade-off
#    that the transfer-learning chapter is about.
# 3. `states, _ = self.lstm(...)` works unchanged, since the per-word outputs are the first element.
#    An LSTM has three gates (input, forget, output) plus a candidate vector, four blocks of
#    weights; a GRU has two gates (reset, update) plus a candidate, three blocks:
#    4 × (64·64 + 64·64 + 2·64) = 33,280 weights vs 3 × (…) = 24,960. Expect it to land close
#    to the GRU here, since neither uses word order on this task (see the shuffle test).
# 4. Use `shuffle_words` on `x_train` for the copies, label originals 1 and copies 0. The
#    average of word vectors gives a sentence and its shuffled copy the same vector, so it
#    cannot beat chance (one half); a recurrent model can, because now order is the signal.
# ```
#
# ## References
#
# The distributional hypothesis is due to {cite}`harris1954distributional`; skip-gram and negative
# sampling to {cite}`mikolov2013efficient` and {cite}`mikolov2013distributed`; the simple recurrent
# network to {cite}`elman1990finding`, the LSTM to {cite}`hochreiter1997long` and the GRU to
# {cite}`cho2014learning`, and the analysis of vanishing gradients to {cite}`bengio1994learning`.
# The corpus is the documentation of the Python standard library (PSF
# licence), described in `data/README.md`. Full entries are in the
# [bibliography](../book/bibliography.md).

# %% [markdown]
# ## Claims
#
# Every result the prose above reports is a claim, asserted where it is measured; here are the
# claims of this run:

# %%
report()
