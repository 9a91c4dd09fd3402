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
# Bootstrap: opened alone (Colab, an Azure VM), this installs the course's helpers
# with what this chapter needs (`demystify[ch04]`); in a checkout it does nothing.
import importlib.util, os
if importlib.util.find_spec("demystify") is None:
    repository = "git+https://github.com/demystify-dl/demystifying-deep-learning"
    source = os.environ.get("DEMYSTIFY_SOURCE", repository)
    # %pip install -q "demystify[ch04] @ {source}"

# %% [markdown]
# The setup cell seeds every random number generator, picks the device (a GPU when there is one)
# and loads this chapter's **profile**: the sizes it runs with on a CPU or on a GPU.

# %%
import math
import platform

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F

from demystify import (claim, count_parameters, evaluate, fit, plot_heatmap, predict,
                       report, start)
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
# "You shall know a word by the company it keeps" {cite}`firth1957synopsis`: words that appear
# in similar contexts tend to mean similar things, the *distributional hypothesis*
# {cite}`harris1954distributional`. **Skip-gram** {cite}`mikolov2013efficient` turns this into a
# learning task: from a word (the *centre*), predict the words around it (its *context*, up to
# `window` positions away). Each word $w$ gets two vectors, $v_w$ as a centre and $u_w$ as a
# context, and the model's guess for the context word $o$ of centre $c$ is a **softmax over the
# whole vocabulary** $V$:
#
# $$p(o \mid c) = \frac{\exp(u_o \cdot v_c)}{\sum_{w \in V} \exp(u_w \cdot v_c)}, \qquad
# \mathcal{L}_\text{softmax} = -\log p(o \mid c)
# = -u_o \cdot v_c + \log \sum_{w \in V} \exp(u_w \cdot v_c).$$
#
# That full-softmax loss is the objective we want, but its sum touches every word of the
# vocabulary for every single pair. The first word2vec paper {cite}`mikolov2013efficient`
# computed it with a *hierarchical softmax* (a binary tree over the vocabulary, about
# $\log_2 |V|$ scores per pair). The second {cite}`mikolov2013distributed` introduced
# **negative sampling**, which changes the objective rather than approximating it: tell the true
# context word $o$ apart from $k$ random "noise" words $n_1 \dots n_k$, drawn in proportion to
# their frequency to the power $3/4$:
#
# $$\mathcal{L} = -\log \sigma(u_o \cdot v_c) - \sum_{i=1}^{k} \log \sigma(-u_{n_i} \cdot v_c).$$
#
# It is a simplification of *noise-contrastive estimation* {cite}`gutmann2010noise`. NCE does
# approximately maximise the softmax's log-probability (it also uses the noise distribution's
# probabilities, and as $k$ grows its solution approaches the softmax's); negative sampling drops
# those terms, so it no longer estimates $p(o \mid c)$. For word vectors that does not matter:
# only the vectors are kept.
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
# Next, the (centre, context) training pairs. Very frequent words ("the", "a") are randomly
# **subsampled**, since they say little about their neighbours, and pairs never cross a sentence
# boundary. Where our code differs from word2vec as published:
#
# - *Subsampling formula.* A word of corpus frequency $f$ is kept with probability
#   $\sqrt{t/f} + t/f$ (capped at 1), the formula of the released C code; the paper
#   {cite}`mikolov2013distributed` writes $\sqrt{t/f}$.
# - *Threshold.* We use $t = 10^{-3}$ (`P.subsample`, the C code's default), where the paper
#   suggests values around $10^{-5}$ for its corpora of billions of words; ours is tiny.
# - *Window.* We use every word up to `window` positions away; word2vec samples a smaller
#   window for each centre word, which weights near words more.
# - *Optimiser.* The course's `fit()` trains with Adam {cite}`kingma2015adam` on mini-batches;
#   word2vec uses plain SGD on one pair at a time, with a learning rate that decays linearly to
#   zero.
# - *Sentences.* Our windows stop at sentence ends; the C code's stop only at line ends of its
#   training file.

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
# What the table shows is which words the documentation uses in the same places as each query
# word: other forms of it, names from the same corner of the library, and words that merely share
# its sentences. The model was given no definitions, only which words occur near which, so a list
# says nothing about *how* its words relate to the query: a word and its opposite keep the same
# company and come out as close as two synonyms would. How close is close? Compare the
# neighbours' similarities with those of words paired at random:

# %%
pair_generator = torch.Generator().manual_seed(0)
first, second = torch.randint(2, len(vocab), (2, 20_000), generator=pair_generator)
random_pairs = (unit[first] * unit[second]).sum(1)[first != second].mean().item()
neighbour_mean = np.mean([s for w in probe_words for _, s in nearest_words(w, 6)])
claim("neighbours_minus_random_cosine", neighbour_mean - random_pairs, "> 0.3",
      tol=0.03, parts={"neighbours": neighbour_mean, "random": random_pairs},
      says="the listed neighbours are far more similar than words paired at random")

# %% [markdown]
# The listed neighbours have a mean cosine of
# {glue:text}`neighbours_minus_random_cosine__neighbours:.2f`, two random words
# {glue:text}`neighbours_minus_random_cosine__random:.2f`. Lists picked by chance would sit
# around the second number; these sit far above it.
#
# Now the talk's comparison, for words this corpus does contain: pairs that belong
# together, against the one-hot table above where every pair scored 0.

# %% mystnb={"figure": {"caption": "Cosine similarity of ten words: one-hot vectors (left) make every pair 0; learned skip-gram vectors (right) give related pairs (on the diagonal blocks) high similarity.", "name": "fig-04-cosine"}, "image": {"alt": "Two heatmaps over the same words, each cell labelled with its value, related words next to each other. The left is white except for its diagonal. The right shows bright square blocks along the diagonal, one for each related pair (read and write, thread and lock, encode and decode, month and day, client and server), and paler cells elsewhere."}}
related_pairs = [("read", "write"), ("thread", "lock"), ("encode", "decode"),
                 ("month", "day"), ("client", "server")]
words = [w for pair in related_pairs for w in pair]
pair_index = torch.tensor([vocab.lookup(w) for w in words])
learned_cosine = unit[pair_index] @ unit[pair_index].T
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
# are fixed in advance (we do not pick the ones that work): four ask for another *form* of a
# word (plural, *-ing*), three for an *opposite* (write, decode, max). A question counts as
# answered only when the expected word comes **first** (top-1); the top 5 are listed to show
# the misses.

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


analogies = [("form", "key", "keys", "value", "values"),
             ("form", "read", "reading", "write", "writing"),
             ("form", "file", "files", "directory", "directories"),
             ("form", "integer", "integers", "string", "strings"),
             ("opposite", "read", "write", "reader", "writer"),
             ("opposite", "encode", "decode", "encoder", "decoder"),
             ("opposite", "minimum", "maximum", "min", "max")]
analogy_rows = []
for kind, a, b, c, expected in analogies:
    top = analogy(a, b, c)
    analogy_rows.append({"asks for": kind, "question": f"{a} : {b} :: {c} : ?",
                         "expected": expected, "top 5": ", ".join(top),
                         "top-1 correct": top[0] == expected})
analogy_table = pd.DataFrame(analogy_rows)
analogy_table

# %%
solved = analogy_table.groupby("asks for")["top-1 correct"].sum()
claim("analogies_top1", solved.sum(), ">= 2", tol=1,
      parts={"forms": solved["form"], "opposites": solved["opposite"]},
      says="at least two of the seven fixed analogies come out right at top-1")
claim("analogies_opposites_top1", solved["opposite"], "<= 1", tol=1,
      says="at most one of the three fixed 'opposite' analogies comes out right")
listed = pd.Series([w for top in analogy_table["top 5"] for w in top.split(", ")])
hubs = listed.value_counts()
hubs = hubs[hubs >= 2]
print("words in the top 5 of two or more questions:",
      ", ".join(f"{word} ({n} lists)" for word, n in hubs.items()) or "none")

# %% [markdown]
# {glue:text}`analogies_top1:.0f` of the seven come out right at top-1
# ({glue:text}`analogies_top1__forms:.0f` of the four *form* questions,
# {glue:text}`analogies_opposites_top1:.0f` of the three *opposites*), on a corpus thousands of
# times smaller than the billions of words word2vec was first trained on. On each of the five
# seeds we ran, at least two of the seven work, and at most one opposite; which ones work
# changes from seed to seed. Opposites fail: a word keeps the same company as its opposite, so
# the difference of their two vectors carries little that the search could add to a third
# word. Read the wrong answers
# with one more effect in mind: a word that turns up in the lists of several questions,
# whatever they ask, is a **hub** (the printout above counts them). Hubs sit close to many
# query vectors at once, a known weakness of nearest-neighbour search in many dimensions, and
# they crowd the right answers out of the top places; how many there are, and which words,
# changes from seed to seed.
#
# **A picture of the space.** The vectors have 64 dimensions (128 on a GPU). A principal-component
# projection squeezes them to two so we can look at groups of words from different areas.

# %% mystnb={"figure": {"caption": "Learned word vectors of five groups of words, projected to 2-D with PCA (stored run). Some groups occupy their own region; others overlap.", "name": "fig-04-pca"}, "image": {"alt": "A scatter plot of labelled words coloured by group: time words, networking words, concurrency words, file words and number words. The file, time and number words each gather in their own region, while the networking and concurrency words are mixed together in one corner."}}
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

# %% mystnb={"figure": {"caption": "Static version of the widget: the six nearest neighbours of six words and their cosine similarities.", "name": "fig-04-neighbours"}, "image": {"alt": "A grid of small horizontal bar charts, one per query word (thread, socket, month, encode, directory, exception), each listing the nearest words with bars for their cosine similarity."}}
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
# in the training set. We split **by package** instead: within each area, whole packages, drawn
# at random with the run's seed (so the seeds we check the claims on also vary the split), go to
# the test set, others to a validation set (for choosing the learning rate and training time),
# the rest to training; a held-out sentence whose first eight words also start a training
# sentence is dropped. The test set then asks the fair question: does the model recognise the area of
# sentences from packages it has never read?

# %%
# NBVAL_CHECK_OUTPUT
for topic, modules in TOPICS.items():
    print(f"{topic:<12} {', '.join(modules)}")

# %%
def split_by_package(labelled, share=0.2, seed=0):
    """'train', 'val', 'test' or 'dropped' for each (sentence, topic, module) row:
    whole packages, each held-out part at most `share` of an area's sentences."""
    package = [module.split(".")[0] for _, _, module in labelled]
    split_of, generator = {}, torch.Generator().manual_seed(seed)
    for topic in TOPICS:
        in_topic = [p for p, row in zip(package, labelled) if row[1] == topic]
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
    start8 = [tuple(tokenize(sentence)[:8]) for sentence, _, _ in labelled]
    seen = {first for first, part in zip(start8, split) if part == "train"}
    return [part if part == "train" or first not in seen else "dropped"
            for first, part in zip(start8, split)]


labelled = topic_sentences(documents)
topic_names = list(TOPICS)
x_all, lengths = pad_sequences([vocab.encode(tokenize(s)) for s, _, _ in labelled],
                               P.max_len)
y_all = torch.tensor([topic_names.index(t) for _, t, _ in labelled])
split = split_by_package(labelled, seed=P.seed)
split_index = {k: torch.tensor([i for i, part in enumerate(split) if part == k])
               for k in ("train", "val", "test")}
train_index, test_index = split_index["train"], split_index["test"]
x_train, y_train = x_all[train_index], y_all[train_index]
x_val, y_val = x_all[split_index["val"]], y_all[split_index["val"]]
x_test, y_test = x_all[test_index], y_all[test_index]
most_common = torch.bincount(y_train).argmax()
majority = (y_test == most_common).float().mean().item()
print(f"{len(labelled):,} sentences: {len(y_train):,} train, {len(y_val):,} val, "
      f"{len(y_test):,} test, {split.count('dropped')} near-copies dropped; "
      f"{lengths.float().mean():.1f} words on average (cut at {P.max_len})")
print("test sentences per area:",
      dict(zip(topic_names, torch.bincount(y_test).tolist())))
print(f"majority class of training ('{topic_names[most_common]}') on test: "
      f"{majority:.1%}")

# %% [markdown]
# The word vectors come from skip-gram and stay **frozen**: only the way of combining them is
# trained. Here are the three steps, literally. "Combine" is the classic recurrent cell: a
# learned linear map of the new word, plus a learned linear map of the sentence so far, squashed
# by $\tanh$. This is Elman's simple recurrent network {cite}`elman1990finding`, except that
# Elman squashed with the logistic sigmoid; $\tanh$, centred on zero, is today's usual choice
# (`nn.RNN`'s default). Sentences in a batch have different lengths (padding is
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
# Every sentence model below is trained the same way. For each of three learning rates around
# `P.rnn_lr` (one third of it, itself, three times it) a fresh copy of the model, with the same
# initial weights, trains and is scored on the *validation* packages four times per epoch; it
# keeps its best checkpoint and stops when a whole epoch brings no improvement (or after
# `P.rnn_epochs` epochs). The learning rate and checkpoint with the best validation accuracy
# win, and only the winner is scored on the test set, once. To waste less time on padding, each
# batch holds sentences of similar length.

# %%
class QuarterEpochs:
    """Training batches of sentences of similar length, in random order, served a
    quarter epoch at a time: each fit(..., epochs=1) then trains a quarter epoch."""
    def __init__(self, x, y, batch_size, seed):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.lengths = (x != 0).sum(dim=1)
        self.generator = torch.Generator().manual_seed(seed)
        self.size, self.queue = math.ceil(len(x) / batch_size / 4), []

    def __iter__(self):
        for _ in range(self.size):
            if not self.queue:                    # a new epoch: regroup and reshuffle
                jitter = torch.rand(len(self.x), generator=self.generator)
                groups = torch.argsort(self.lengths + jitter).split(self.batch_size)
                order = torch.randperm(len(groups), generator=self.generator)
                self.queue = [groups[i] for i in order.tolist()]
            batch = self.queue.pop()
            yield self.x[batch], self.y[batch]

# %% [markdown]
# The tuning loop calls the course's `fit()` for one quarter epoch at a time, with the same Adam
# optimiser throughout, and keeps a copy of the weights whenever validation accuracy improves:

# %%
def train_tuned(make_model, name, factors=(1 / 3, 1, 3), patience=4):
    """Choose the learning rate and the checkpoint on validation data (see above)."""
    best = {"val_accuracy": -1.0}
    for lr in [P.rnn_lr * factor for factor in factors]:
        torch.manual_seed(P.seed)            # the same initial weights for every lr
        model = make_model()
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.Adam(trainable, lr=lr)
        data = QuarterEpochs(x_train, y_train, P.rnn_batch, P.seed)
        curve, best_check, weights = [], 0, None
        for check in range(1, 4 * P.rnn_epochs + 1):
            quarter = fit(model, data, (x_val, y_val), epochs=1, optimizer=optimizer,
                          device=device, progress=False)
            curve.append(quarter.last("val_accuracy"))
            if check == 1 or curve[-1] > max(curve[:-1]):
                best_check = check
                weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if check - best_check >= patience:
                break
        if max(curve) > best["val_accuracy"]:
            best = {"model": model, "weights": weights, "lr": lr, "curve": curve,
                    "best_epoch": best_check / 4, "val_accuracy": max(curve)}
    best["model"].load_state_dict(best["weights"])
    best["test_accuracy"] = evaluate(best["model"], (x_test, y_test))["accuracy"]
    print(f"{name:<24} lr {best['lr']:.1e}, best validation accuracy "
          f"{best['val_accuracy']:.3f} after {best['best_epoch']:.2f} epochs "
          f"(of {len(best['curve']) / 4:.2f} run)")
    return best["model"], best


talk_rnn, talk_run = train_tuned(lambda: TalkRNN(frozen_vectors, len(topic_names)),
                                 "talk RNN")
talk_accuracy = talk_run["test_accuracy"]
print(f"talk RNN test accuracy {talk_accuracy:.1%} (majority class {majority:.1%})")

# %% [markdown]
# **Watching the fold.** Because the sentence vector exists after every word, we can ask the
# classifier what it thinks *so far*. Each row below is the topic distribution after reading the
# sentence up to that word: the vector changes as evidence arrives (and the final guess can be
# wrong: compare it with the true area in the title).

# %% mystnb={"figure": {"caption": "The hand-written RNN reading one test sentence word by word: each row is the predicted probability of each area after folding in that word.", "name": "fig-04-fold"}, "image": {"alt": "A heatmap with the words of one sentence as rows and the library areas as columns; the probability mass shifts between columns as words are read."}}
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
# The plain recurrent cell struggles to carry information over many steps. The main cause: the
# gradient that reaches the first word has been multiplied by the recurrent matrix $W_h$ (our
# `combine_sentence`, transposed) once per later word. If $W_h$'s largest singular value is below
# 1, the gradient shrinks exponentially with the distance (it *vanishes*); only when it is above
# 1 can it grow, and then it may *explode* {cite}`bengio1994learning,pascanu2013difficulty`. The
# $\tanh$ adds to the shrinking: its slope is at most 1, and near 0 where the cell saturates.
# Hochreiter's 1991 diploma thesis had analysed the problem first. Gated cells learn *how much*
# of the old sentence vector to keep at each step, which gives the gradient a path around these
# repeated multiplications: the LSTM {cite}`hochreiter1997long`, whose *forget* gate came
# later {cite}`gers2000learning`, and its slimmer cousin the GRU {cite}`cho2014learning`.
# PyTorch implements them in optimised kernels; the three steps are the same, only "combine" is
# smarter.
#
# A model that reads words in order should be compared with models that do not. The simplest
# order-blind sentence vector is the **average** of its word vectors, followed by a linear
# classifier. That is unfair to it in one way: it has far fewer trainable parameters than the
# GRU. So we also give the average a hidden layer of 360 units (an MLP), which makes its
# trainable parameter count about the GRU's. And every model so far reads frozen skip-gram
# vectors; a third baseline averages word vectors that it **trains** on the topic task itself
# (starting from the skip-gram ones), to test whether the frozen vectors hold the models back.

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
    then a linear classifier, or an MLP with `hidden` units; `train_vectors=True`
    trains the word vectors too."""
    def __init__(self, word_vectors: torch.Tensor, n_topics: int, hidden: int = 0,
                 train_vectors: bool = False):
        super().__init__()
        dim = word_vectors.shape[1]
        self.embed = nn.Embedding.from_pretrained(
            word_vectors, freeze=not train_vectors, padding_idx=0)
        self.classify = (nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(),
                                       nn.Linear(hidden, n_topics))
                         if hidden else nn.Linear(dim, n_topics))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        present = (ids != 0).unsqueeze(2).float()
        return self.classify((self.embed(ids) * present).sum(1) / present.sum(1))


n_topics = len(topic_names)
builders = {"GRU": lambda: GRUSentences(frozen_vectors, n_topics),
            "average + linear": lambda: AverageOfWords(frozen_vectors, n_topics),
            "average + MLP": lambda: AverageOfWords(frozen_vectors, n_topics, 360),
            "average, vectors trained": lambda: AverageOfWords(frozen_vectors, n_topics,
                                                               train_vectors=True)}

# %%
# NBVAL_CHECK_OUTPUT
sizes = {"talk RNN": count_parameters(talk_rnn, trainable_only=True)}
sizes |= {name: count_parameters(build(), trainable_only=True)
          for name, build in builders.items()}
for name, size in sizes.items():
    print(f"{name:<24} {size:>7,} trainable parameters")
claim("mlp_over_gru_parameters", sizes["average + MLP"] / sizes["GRU"], "<= 1.02",
      rel_tol=0.001, parts={"mlp": sizes["average + MLP"], "gru": sizes["GRU"]},
      says="the MLP baseline has about as many trainable parameters as the GRU")

# %%
models, runs = {"talk RNN": talk_rnn}, {"talk RNN": talk_run}
for name, build in builders.items():
    models[name], runs[name] = train_tuned(build, name)
results = {"majority class": majority} | {name: run["test_accuracy"]
                                          for name, run in runs.items()}
pd.DataFrame({"test accuracy": {name: f"{v:.1%}" for name, v in results.items()},
              "learning rate": {name: f"{run['lr']:.1e}" for name, run in runs.items()},
              "best epoch": {name: f"{run['best_epoch']:g}"
                             for name, run in runs.items()}}
             ).fillna("")

# %% mystnb={"figure": {"caption": "Validation accuracy of each sentence encoder at its chosen learning rate, checked four times per epoch; a dot marks the kept checkpoint.", "name": "fig-04-curves"}, "image": {"alt": "A line chart of validation accuracy against training epochs, one line per sentence encoder, each with a dot at its best point, and the majority-class accuracy as a dotted horizontal line."}}
fig, ax = plt.subplots(figsize=(7.5, 4))
for i, (name, run) in enumerate(runs.items()):
    epochs = np.arange(1, len(run["curve"]) + 1) / 4
    ax.plot(epochs, run["curve"], color=f"C{i}", label=name)
    ax.plot(run["best_epoch"], run["val_accuracy"], "o", color=f"C{i}")
ax.axhline(majority, color="gray", linestyle=":", label="majority class (test)")
ax.set_xlabel("epoch"); ax.set_ylabel("validation accuracy")
ax.legend(fontsize=8); ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# Every encoder beats the majority class on sentences from packages it never saw, by a margin in
# accuracy of {glue:text}`average_minus_majority:.3f` for the average,
# {glue:text}`mlp_minus_majority:.3f` with the MLP on top,
# {glue:text}`trained_average_minus_majority:.3f` for the average of trained vectors,
# {glue:text}`talk_rnn_minus_majority:.3f` for the talk RNN and
# {glue:text}`gru_minus_majority:.3f` for the GRU, over a majority class that scores
# {glue:text}`gru_minus_majority__majority:.3f`. The word vectors never saw a topic label, yet
# averaging them already tells areas apart.
#
# **Do the recurrent models use word order?** A lead over the average would not show it: the
# GRU also has more parameters. The direct test is to **shuffle the words** of every test
# sentence and score the trained models again. The averages cannot notice by construction; a
# model that relies on order should lose accuracy, and change many of its answers.

# %%
def shuffle_words(x: torch.Tensor, seed: int) -> torch.Tensor:
    """Each sentence's words in a random order (the padding stays at the end)."""
    x, generator = x.clone(), torch.Generator().manual_seed(seed)
    for i, n in enumerate((x != 0).sum(dim=1).tolist()):
        x[i, :n] = x[i, torch.randperm(n, generator=generator)]
    return x


x_shuffled = shuffle_words(x_test, P.seed)
order_test = {}
for name in ("talk RNN", "GRU"):
    in_order = predict(models[name], x_test).argmax(dim=1)
    shuffled = predict(models[name], x_shuffled).argmax(dim=1)
    order_test[name] = {"in order": (in_order == y_test).float().mean().item(),
                        "words shuffled": (shuffled == y_test).float().mean().item(),
                        "same answer": (shuffled == in_order).float().mean().item()}
pd.DataFrame(order_test).T.round(3)

# %%
accuracy = {name: run["test_accuracy"] for name, run in runs.items()}
short = {"average + linear": "average", "average + MLP": "mlp",
         "average, vectors trained": "trained_average", "talk RNN": "talk_rnn",
         "GRU": "gru"}
for name, key in short.items():
    claim(f"{key}_minus_majority", accuracy[name] - majority, "> 0.06", tol=0.05,
          parts={key: accuracy[name], "majority": majority},
          says=f"the {name} encoder beats the majority class on unseen packages")
gru_test, talk_test = order_test["GRU"], order_test["talk RNN"]
claim("gru_shuffle_change", abs(gru_test["in order"] - gru_test["words shuffled"]),
      "< 0.04", tol=0.02, parts={k.replace(" ", "_"): v for k, v in gru_test.items()},
      says="shuffling the words of the test sentences barely moves the GRU's accuracy")
talk_loss = talk_test["in order"] - talk_test["words shuffled"]
claim("talk_rnn_shuffle_loss", talk_loss, "> 0", tol=0.011,
      parts={k.replace(" ", "_"): v for k, v in talk_test.items()},
      says="shuffling the words lowers the talk RNN's accuracy")
claim("talk_rnn_shuffle_loss_bound", talk_loss, "< 0.06", tol=0.011,
      says="shuffling costs the talk RNN a few points at most")
for name, key in (("GRU", "gru"), ("talk RNN", "talk_rnn")):
    claim(f"{key}_shuffle_same_answer", order_test[name]["same answer"], "> 0.5",
          tol=0.03, says=f"{name} gives most shuffled sentences the same answer")
claim("gru_minus_talk_rnn_same_answer",
      gru_test["same answer"] - talk_test["same answer"], "> 0.05", tol=0.03,
      says="the talk RNN changes its answer for more shuffled sentences than the GRU")
best_blind = max(accuracy[name] for name in short if name.startswith("average"))
mlp_change = accuracy["average + MLP"] - accuracy["average + linear"]
claim("mlp_minus_average", abs(mlp_change), "< 0.03", tol=0.02,
      parts={"mlp": accuracy["average + MLP"], "average": accuracy["average + linear"]},
      says="a hidden layer on top of the average changes its accuracy by little")
claim("trained_minus_frozen_average",
      accuracy["average, vectors trained"] - accuracy["average + linear"], "< 0",
      tol=0.01, parts={"trained": accuracy["average, vectors trained"],
                       "frozen": accuracy["average + linear"]},
      says="training the word vectors on the task makes the average worse, not better")
claim("gru_minus_best_order_blind", accuracy["GRU"] - best_blind, "< 0.06", tol=0.03,
      parts={"gru": accuracy["GRU"], "order_blind": best_blind},
      says="the GRU does no better than the best order-blind baseline, within a few "
           "points")
claim("talk_rnn_minus_best_order_blind", accuracy["talk RNN"] - best_blind, "< 0.03",
      tol=0.02, parts={"talk_rnn": accuracy["talk RNN"], "order_blind": best_blind},
      says="the talk RNN does no better than the best order-blind baseline")

# %% [markdown]
# What to notice:
# - Shuffling the words moves the GRU's test accuracy from
#   {glue:text}`gru_shuffle_change__in_order:.3f` to
#   {glue:text}`gru_shuffle_change__words_shuffled:.3f`; on all five seeds we ran, the change
#   stays within a few points either way, and the GRU keeps its answer for most shuffled
#   sentences (a fraction {glue:text}`gru_shuffle_same_answer:.3f` here). For the GRU, what
#   decides the area is *which* words occur, not their order.
# - The talk RNN does depend on the order: shuffling lowers its accuracy on every seed, here
#   from {glue:text}`talk_rnn_shuffle_loss__in_order:.3f` to
#   {glue:text}`talk_rnn_shuffle_loss__words_shuffled:.3f` (a few points at most), and it keeps
#   its answer for a smaller fraction of the sentences than the GRU (on every seed),
#   {glue:text}`talk_rnn_shuffle_same_answer:.3f`. Depending on the order is not the same as
#   gaining from it, though, as the next point shows.
# - The GRU scores {glue:text}`gru_minus_best_order_blind__gru:.3f` and the talk RNN
#   {glue:text}`talk_rnn_minus_best_order_blind__talk_rnn:.3f`, against
#   {glue:text}`gru_minus_best_order_blind__order_blind:.3f` for the best of the order-blind
#   baselines. On no seed does either lead them by more than a few points, so we do not credit
#   gates or word order for anything on this task. The hidden layer
#   does not reliably help the average either ({glue:text}`mlp_minus_average__mlp:.3f` with
#   it, {glue:text}`mlp_minus_average__average:.3f` without), and training the word vectors on
#   the task makes it worse ({glue:text}`trained_minus_frozen_average__trained:.3f` against
#   {glue:text}`trained_minus_frozen_average__frozen:.3f` frozen, lower on every seed): with a
#   few thousand training sentences, the word vectors' many trainable numbers (see the table
#   of parameter counts) adapt to the training packages, not to unseen ones. So the frozen
#   vectors are not what holds these models back.
# - The learning rates and checkpoints were chosen on validation data, and the table lists
#   them. A model that picks the largest rate of the grid, or its last checkpoint, might gain a
#   little from a wider grid or longer training.
# - Word order does matter for questions like those of the next chapter, where "the milk is in
#   the kitchen" and "the kitchen is in the milk" must differ. A topic task is simply not the
#   place to see it.
#
# ## Nearest sentences
#
# The GRU's sentence vectors can also be searched: encode every training sentence and, for a
# test sentence from each of three areas (files, internet, concurrency), list the training
# sentences with the most similar vectors. Sentence vectors meant for search are trained for it;
# today they come from transformer models that read the whole sentence at once, with every
# word's vector depending on its context (the attention of the next chapters), trained so that
# sentences that mean the same are close {cite}`reimers2019sentence`. Ours were trained only to
# tell six areas apart.

# %%
gru_model = models["GRU"]


def sentence_vectors(ids: torch.Tensor) -> torch.Tensor:
    """Unit-length GRU sentence vectors, computed in batches on the model's device."""
    gru_model.eval()
    with torch.no_grad():
        parts = [gru_model.sentence_vector(ids[i:i + 512].to(device)).float().cpu()
                 for i in range(0, len(ids), 512)]
    return F.normalize(torch.cat(parts), dim=1)


train_vectors = sentence_vectors(x_train)
train_text = [labelled[i][0] for i in train_index.tolist()]
train_module = [labelled[i][2] for i in train_index.tolist()]


def nearest_sentences(ids: torch.Tensor, k: int = 3) -> list[tuple[float, str, str]]:
    """(similarity, module, text) of the k training sentences nearest to a sentence."""
    similarity = train_vectors @ sentence_vectors(ids.unsqueeze(0))[0]
    top = similarity.topk(k)
    return [(float(s), train_module[i], train_text[i])
            for s, i in zip(top.values, top.indices)]


test_length = (x_test != 0).sum(dim=1)
for area in ("files", "internet", "concurrency"):
    query = next(i for i in range(len(y_test)) if topic_names[y_test[i]] == area
                 and 10 <= test_length[i] <= 20)
    sentence, _, module = labelled[test_index[query]]
    print(f"QUERY ({area}) [{module}] {sentence}")
    for similarity, module, text in nearest_sentences(x_test[query]):
        print(f"   {similarity:.2f} [{module}] {text[:110]}")
    print()

# %% [markdown]
# Read the neighbours before trusting the similarities next to them. In the stored run most are
# off-topic: they come from other modules and say different things, however high the cosine
# next to them. What a neighbour tends to share with its query is some of its *words*, not its
# meaning. We can count that over the whole test set: how often does the nearest training
# sentence share at least one word with the query, leaving out the 50 most frequent words ("the",
# "is", …), compared with a training sentence drawn at random?

# %%
def content_words(ids: torch.Tensor) -> set[int]:
    """The sentence's word indices, without padding, <unk> and the 50 most frequent."""
    return {i for i in ids.tolist() if i >= 52}


test_vectors = sentence_vectors(x_test)
nearest = (test_vectors @ train_vectors.T).argmax(dim=1)
drawn = torch.randint(len(x_train), (len(x_test),),
                      generator=torch.Generator().manual_seed(P.seed))
share = {name: np.mean([bool(content_words(x_test[i]) & content_words(x_train[j]))
                        for i, j in enumerate(picked.tolist())])
         for name, picked in (("nearest", nearest), ("random", drawn))}
claim("nearest_minus_random_shared_word", share["nearest"] - share["random"], "> 0.1",
      tol=0.04, parts=share,
      says="a nearest sentence shares a content word with its query more often than a "
           "random one")

# %% [markdown]
# The nearest sentence shares a word with its query for a fraction
# {glue:text}`nearest_minus_random_shared_word__nearest:.2f` of the test sentences, a random
# training sentence for {glue:text}`nearest_minus_random_shared_word__random:.2f`. So the GRU's
# sentence vectors do encode which words a sentence contains; whether two sentences *mean* the
# same thing is not something this model was trained on, and its neighbours show it.

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
#    (The "average, vectors trained" baseline above does the same for the average.)
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
# The slogan "you shall know a word by the company it keeps" is from {cite}`firth1957synopsis`,
# the distributional hypothesis from {cite}`harris1954distributional`; skip-gram and hierarchical
# softmax are from {cite}`mikolov2013efficient`, negative sampling from
# {cite}`mikolov2013distributed`, noise-contrastive estimation from {cite}`gutmann2010noise`;
# the simple recurrent network from {cite}`elman1990finding`, the LSTM from
# {cite}`hochreiter1997long` (its forget gate from {cite}`gers2000learning`) and the GRU from
# {cite}`cho2014learning`; the analysis of vanishing and exploding gradients from
# {cite}`bengio1994learning` and {cite}`pascanu2013difficulty`; Sentence-BERT from
# {cite}`reimers2019sentence`.
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
