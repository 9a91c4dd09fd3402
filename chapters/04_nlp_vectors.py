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
# - Train both on a real supervised task and use the sentence vectors for nearest-sentence search.
#
# **Run time:** about 1 minute on a 2-core laptop (CPU profile); well under a minute on a GPU,
# where the GPU profile trains larger vectors for longer.

# %% [markdown]
# ## From the talk
#
# | The slide says | What this chapter does with it |
# |---|---|
# | "Deep learning enables sub-symbolic processing" | We replace word symbols (one-hot vectors) by learned, dense word vectors. |
# | "You have to remember to represent 'purchased' and 'automobile.' What about 'truck'?" | One-hot vectors for exactly these words: every pair has cosine similarity 0. Learned vectors give related words high similarity; we print both tables. |
# | "How do you encode the meaning of the entire sentence?" / "But what about a sentence?" | We turn whole sentences into vectors, train them to tell which part of the standard library a sentence documents, and search for nearest sentences. |
# | "Algorithm for generating vectors for sentences" (steps 1–3) | We write the three steps literally, as a recurrent cell in ten lines of PyTorch. |
# | "Can be implemented using a recurrent neural network (RNN)" | We swap our cell for PyTorch's `nn.GRU` and compare both with an order-blind average of word vectors. |

# %% tags=["hide-input"]
# Bootstrap: makes this notebook work alone in Colab or on an Azure VM.
import importlib.util, os
if importlib.util.find_spec("demystify") is None:   # Colab / Azure: fetch the course helpers
    source = os.environ.get("DEMYSTIFY_SOURCE", "git+https://github.com/demystify-dl/demystifying-deep-learning")
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

from demystify import fit, plot_attention, plot_history, predict, start
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
# accuracies below, depend on your Python version (these outputs come from Python 3.11). The checks
# at the end assert tolerances, never exact neighbours.

# %%
documents = python_docs_corpus()
sentences = [s for doc in documents for s in split_sentences(doc.text)]
tokens = [tokenize(s) for s in sentences]
print(f"Python {platform.python_version()}: {len(documents):,} documents, {len(sentences):,} "
      f"prose sentences, {sum(map(len, tokens)):,} words")
examples = [s for s in sentences if 10 <= len(tokenize(s)) <= 25]
for i in torch.randperm(len(examples), generator=torch.Generator().manual_seed(0))[:4].tolist():
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
print(pd.DataFrame(one_hot.int().numpy(), index=talk_words, columns=talk_words).to_string(), "\n")
print("cosine similarity of one-hot vectors:")
print(pd.DataFrame(one_hot_cosine.numpy(), index=talk_words, columns=talk_words).round(2).to_string())

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
# $u_w$ as a context. **Negative sampling** {cite}`mikolov2013distributed` makes the task cheap:
# instead of scoring all words, tell the true context word $o$ apart from $k$ random "noise" words
# $n_1 \dots n_k$, drawn in proportion to their frequency to the power $3/4$:
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
print(f"vocabulary: {len(vocab)} entries (<pad>, <unk> and the {len(vocab) - 2} most frequent words)")
print("most frequent:", ", ".join(vocab.words[2:14]))

# %% [markdown]
# Next, the (centre, context) training pairs. Two tricks from the word2vec paper: very frequent
# words ("the", "a") are randomly **subsampled**, since they say little about their neighbours,
# and pairs never cross a sentence boundary.

# %%
def skipgram_pairs(ids, sentence_of, counts, window, subsample, generator):
    """All (centre, context) index pairs at most `window` words apart within a sentence."""
    frequency = counts[ids] / counts.sum()
    keep_probability = (torch.sqrt(subsample / frequency) + subsample / frequency).clamp(max=1)
    keep = torch.rand(len(ids), generator=generator) < keep_probability
    ids, sentence_of = ids[keep], sentence_of[keep]
    pairs = []
    for offset in range(1, window + 1):
        same = sentence_of[:-offset] == sentence_of[offset:]       # do not cross sentences
        left, right = ids[:-offset][same], ids[offset:][same]
        pairs += [torch.stack([left, right], 1), torch.stack([right, left], 1)]
    return torch.cat(pairs)


generator = torch.Generator().manual_seed(0)
pairs = skipgram_pairs(ids, sentence_of, vocab.counts.float(), P.window, P.subsample, generator)
print(f"{len(pairs):,} training pairs, e.g.",
      ", ".join(f"({vocab.words[c]} → {vocab.words[o]})" for c, o in pairs[:4].tolist()))

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
        noise = torch.multinomial(self.noise, len(pairs) * self.negatives, replacement=True)
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
print(f"skip-gram: {sum(p.numel() for p in skipgram.parameters()):,} parameters "
      f"= 2 tables × {len(vocab)} words × {P.embed_dim} dimensions")

# %%
always_zero = torch.zeros(len(pairs), dtype=torch.long)
w2v_history = fit(skipgram, (pairs, always_zero), epochs=P.w2v_epochs, lr=P.w2v_lr,
                  batch_size=P.w2v_batch, loss_fn=negative_sampling_loss, device=device,
                  desc="skip-gram")
chance = 1 / (P.negatives + 1)
print(f"true context beats all {P.negatives} noise words in "
      f"{w2v_history.last('train_accuracy'):.0%} of pairs (chance {chance:.0%})")

# %% [markdown]
# ## What the vectors learned
#
# We keep the centre vectors and normalise them to length 1, so that a dot product *is* the
# cosine similarity. A word's **nearest neighbours** are the words with the most similar vectors.

# %%
word_vectors = skipgram.center.weight.detach().float().cpu()
unit = F.normalize(word_vectors, dim=1)


def nearest_words(word: str, k: int = 8) -> list[tuple[str, float]]:
    """The k words whose vectors are most similar to `word`'s (KeyError for unknown words)."""
    similarity = unit @ unit[vocab.lookup(word)]
    similarity[:2] = -1                                # skip <pad> and <unk>
    similarity[vocab.lookup(word)] = -1                # and the word itself
    top = similarity.topk(k)
    return [(vocab.words[i], float(s)) for s, i in zip(top.values, top.indices)]


probe_words = ["thread", "socket", "month", "encode", "directory", "exception"]
pd.DataFrame({word: [f"{w} {s:.2f}" for w, s in nearest_words(word, 6)] for word in probe_words})

# %% [markdown]
# Nobody told the model that a thread holds locks, that months contain days, or that encoding
# and decoding are opposites; it inferred all of it from which words keep company in the
# documentation. Now the talk's comparison, for words this corpus does contain: pairs that belong
# together, against the one-hot table above where every pair scored 0.

# %% mystnb={"figure": {"caption": "Cosine similarity of ten words: one-hot vectors (left) make every pair 0; learned skip-gram vectors (right) give related pairs (on the diagonal blocks) high similarity.", "name": "fig-04-cosine"}, "image": {"alt": "Two heatmaps over the same ten words. The left is white except for the diagonal. The right shows bright 2-by-2 blocks along the diagonal for read/write, thread/lock, encode/decode, month/day and client/server, and paler cells elsewhere."}}
related_pairs = [("read", "write"), ("thread", "lock"), ("encode", "decode"), ("month", "day"),
                 ("client", "server")]
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
print(f"mean cosine: related pairs {related_mean:.2f}, unrelated pairs {unrelated_mean:.2f} "
      f"(one-hot: 0.00 for both)")

# %% [markdown]
# **Analogies.** word2vec became famous for vector arithmetic: $v_\text{king} - v_\text{man} +
# v_\text{woman} \approx v_\text{queen}$. Kings and queens are rare in Python's documentation, but
# its own regularities are there: *read* is to *write* as *reader* is to …? We search for the word
# nearest to $v_b - v_a + v_c$, leaving out the three question words, and list the top 5.

# %%
def analogy(a: str, b: str, c: str, k: int = 5) -> list[str]:
    """Words nearest to b − a + c: 'a is to b as c is to …'."""
    query = F.normalize(unit[vocab.lookup(b)] - unit[vocab.lookup(a)] + unit[vocab.lookup(c)], dim=0)
    similarity = unit @ query
    similarity[:2] = -1
    for word in (a, b, c):
        similarity[vocab.lookup(word)] = -1
    return [vocab.words[i] for i in similarity.topk(k).indices]


analogies = [("read", "write", "reader", "writer"), ("encode", "decode", "encoder", "decoder"),
             ("key", "keys", "value", "values"), ("read", "reading", "write", "writing"),
             ("file", "files", "directory", "directories"), ("integer", "integers", "string", "strings"),
             ("minimum", "maximum", "min", "max")]
rows = []
for a, b, c, expected in analogies:
    top = analogy(a, b, c)
    rank = top.index(expected) + 1 if expected in top else None
    rows.append({"question": f"{a} : {b} :: {c} : ?", "expected": expected,
                 "top 5": ", ".join(top), "rank": rank or "–"})
analogy_table = pd.DataFrame(rows)
analogy_table

# %% [markdown]
# Most of these hold within the top 5 (the *rank* column), on a corpus thousands of times smaller
# than the billions of words word2vec was first trained on. The ones that work are *grammatical* (plural, *-er*,
# *-ing*) or *opposites* that appear in the same sentences; vectors trained on more, and more
# varied, text capture far more.
#
# **A picture of the space.** The vectors have 64 dimensions (128 on a GPU). A principal-component
# projection squeezes them to two so we can look at groups of words from different areas.

# %% mystnb={"figure": {"caption": "Learned word vectors of five groups of words, projected to 2-D with PCA. Words from the same area of the documentation land near each other.", "name": "fig-04-pca"}, "image": {"alt": "A scatter plot of about thirty labelled words in five colours: time words, networking words, concurrency words, file words and number words, each colour forming its own loose cluster."}}
groups = {"time": ["day", "month", "year", "week", "seconds", "hour", "date"],
          "network": ["socket", "server", "client", "connection", "host", "port", "address"],
          "concurrency": ["thread", "lock", "process", "queue", "task", "wait", "threads"],
          "files": ["file", "directory", "path", "filename", "archive", "files", "directories"],
          "numbers": ["integer", "float", "decimal", "fraction", "complex", "rational", "precision"]}
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
        print(f"  {neighbour:<16} {similarity:5.2f} {'█' * round(20 * max(similarity, 0))}")


widgets.interact(show_nearest_words,
                 word=widgets.Text("thread", description="word", continuous_update=False));

# %% mystnb={"figure": {"caption": "Static version of the widget: the six nearest neighbours of six words and their cosine similarities.", "name": "fig-04-neighbours"}, "image": {"alt": "Six small horizontal bar charts, one per query word (thread, socket, month, encode, directory, exception), each listing six neighbouring words with bars for their cosine similarity."}}
fig, axes = plt.subplots(2, 3, figsize=(11, 5.2))
for ax, word in zip(axes.flat, probe_words):
    neighbours = nearest_words(word, 6)
    ax.barh([w for w, _ in neighbours][::-1], [s for _, s in neighbours][::-1], color="C0")
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

# %%
# NBVAL_CHECK_OUTPUT
for topic, modules in TOPICS.items():
    print(f"{topic:<12} {', '.join(modules)}")

# %%
rows = topic_sentences(documents)
topic_names = list(TOPICS)
x_all, lengths = pad_sequences([vocab.encode(tokenize(s)) for s, _, _ in rows], P.max_len)
y_all = torch.tensor([topic_names.index(t) for _, t, _ in rows])
order = torch.randperm(len(rows), generator=torch.Generator().manual_seed(0))
n_test = len(rows) // 5
test_index, train_index = order[:n_test], order[n_test:]
x_train, y_train, x_test, y_test = x_all[train_index], y_all[train_index], x_all[test_index], y_all[test_index]
majority = torch.bincount(y_test, minlength=len(topic_names)).max().item() / len(y_test)
print(f"{len(rows):,} sentences ({len(y_train):,} train, {len(y_test):,} test), "
      f"{lengths.float().mean():.1f} words on average (cut at {P.max_len})")
print("sentences per area:", dict(zip(topic_names, torch.bincount(y_all).tolist())))
print(f"majority-class baseline (always '{topic_names[torch.bincount(y_train).argmax()]}'): {majority:.1%}")

# %% [markdown]
# The word vectors come from skip-gram and stay **frozen**: only the way of combining them is
# trained. Here are the three steps, literally. "Combine" is the classic recurrent cell
# {cite}`elman1990finding`: a learned linear map of the new word, plus a learned linear map of the
# sentence so far, squashed by $\tanh$. Sentences in a batch have different lengths (padding is
# index 0), so a sentence that has ended keeps its vector while longer ones go on.

# %%
class TalkRNN(nn.Module):
    """The talk's sentence algorithm as a hand-written recurrent cell, plus a topic classifier."""
    def __init__(self, word_vectors: torch.Tensor, n_topics: int):
        super().__init__()
        dim = word_vectors.shape[1]
        self.embed = nn.Embedding.from_pretrained(word_vectors, freeze=True, padding_idx=0)
        self.combine_word = nn.Linear(dim, dim)               # W_x x_t + b
        self.combine_sentence = nn.Linear(dim, dim, bias=False)  # W_h h
        self.classify = nn.Linear(dim, n_topics)

    def sentence_vector(self, ids: torch.Tensor) -> torch.Tensor:
        lengths = (ids != 0).sum(dim=1)
        words = self.embed(ids)
        sentence = words[:, 0]                                 # 1. the first word's vector
        for t in range(1, int(lengths.max())):                 # 2. each subsequent word…
            combined = torch.tanh(self.combine_word(words[:, t]) + self.combine_sentence(sentence))
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
def trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


print(f"TalkRNN: {trainable(talk_rnn):,} trainable parameters "
      f"(+ {len(vocab) * P.embed_dim:,} frozen word-vector numbers)")

# %%
talk_history = fit(talk_rnn, (x_train, y_train), (x_test, y_test), epochs=P.rnn_epochs,
                   lr=P.rnn_lr, batch_size=P.rnn_batch, device=device, desc="talk RNN")
talk_accuracy = talk_history.last("val_accuracy")
print(f"talk RNN test accuracy {talk_accuracy:.1%} (majority baseline {majority:.1%})")

# %% [markdown]
# **Watching the fold.** Because the sentence vector exists after every word, we can ask the
# classifier what it thinks *so far*. Each row below is the topic distribution after reading the
# sentence up to that word: the vector changes as evidence arrives.

# %% mystnb={"figure": {"caption": "The hand-written RNN reading one test sentence word by word: each row is the predicted probability of each area after folding in that word.", "name": "fig-04-fold"}, "image": {"alt": "A heatmap with the words of one sentence as rows and six library areas as columns; the probability mass shifts between columns as words are read and ends concentrated on the correct area."}}
example = next(i for i in range(len(y_test)) if 10 <= (x_test[i] != 0).sum() <= 16)
example_ids = x_test[example][x_test[example] != 0]
prefixes = pad_sequences([example_ids[:t + 1].tolist() for t in range(len(example_ids))], P.max_len)[0]
probabilities = predict(talk_rnn, prefixes).softmax(dim=1)
fig = plot_attention(probabilities, vocab.decode(example_ids), topic_names,
                     title=f"true area: {topic_names[y_test[example]]}")
plt.show()

# %% [markdown]
# ## The same with `nn.GRU`, and an order-blind baseline
#
# The plain recurrent cell struggles to carry information over many steps: its gradient has to
# pass through a $\tanh$ at every word. Gated cells learn *how much* of the old sentence vector to
# keep at each step: the LSTM {cite}`hochreiter1997long` and its slimmer cousin the GRU
# {cite}`cho2014learning`. PyTorch implements them in optimised kernels; the three steps are the
# same, only "combine" is smarter. For contrast we also train the simplest possible sentence
# vector, the **average** of its word vectors, which ignores word order entirely.

# %%
class GRUSentences(nn.Module):
    """The same three steps with PyTorch's gated recurrent unit doing the combining."""
    def __init__(self, word_vectors: torch.Tensor, n_topics: int):
        super().__init__()
        dim = word_vectors.shape[1]
        self.embed = nn.Embedding.from_pretrained(word_vectors, freeze=True, padding_idx=0)
        self.gru = nn.GRU(dim, dim, batch_first=True)
        self.classify = nn.Linear(dim, n_topics)

    def sentence_vector(self, ids: torch.Tensor) -> torch.Tensor:
        lengths = (ids != 0).sum(dim=1)
        states, _ = self.gru(self.embed(ids[:, :int(lengths.max())]))   # one state per word
        return states[torch.arange(len(ids)), lengths - 1]               # the last word's state

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.classify(self.sentence_vector(ids))


class AverageOfWords(nn.Module):
    """Baseline: the sentence vector is the mean of its word vectors (word order is lost)."""
    def __init__(self, word_vectors: torch.Tensor, n_topics: int):
        super().__init__()
        self.embed = nn.Embedding.from_pretrained(word_vectors, freeze=True, padding_idx=0)
        self.classify = nn.Linear(word_vectors.shape[1], n_topics)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        present = (ids != 0).unsqueeze(2).float()
        return self.classify((self.embed(ids) * present).sum(1) / present.sum(1))


gru_model = GRUSentences(frozen_vectors, len(topic_names))
average_model = AverageOfWords(frozen_vectors, len(topic_names))

# %%
# NBVAL_CHECK_OUTPUT
for name, model in (("GRUSentences", gru_model), ("AverageOfWords", average_model)):
    print(f"{name}: {trainable(model):,} trainable parameters")

# %%
gru_history = fit(gru_model, (x_train, y_train), (x_test, y_test), epochs=P.rnn_epochs,
                  lr=P.rnn_lr, batch_size=P.rnn_batch, device=device, desc="GRU")
average_history = fit(average_model, (x_train, y_train), (x_test, y_test), epochs=P.rnn_epochs,
                      lr=10 * P.rnn_lr, batch_size=P.rnn_batch, device=device, desc="average")
average_accuracy, gru_accuracy = average_history.last("val_accuracy"), gru_history.last("val_accuracy")
results = {"majority class": majority, "average of word vectors": average_accuracy,
           "talk RNN (hand-written cell)": talk_accuracy, "nn.GRU": gru_accuracy}
pd.DataFrame({"test accuracy": {name: f"{value:.1%}" for name, value in results.items()}})

# %% mystnb={"figure": {"caption": "Learning curves of the three sentence encoders on the topic task (solid: training, dashed: test).", "name": "fig-04-curves"}, "image": {"alt": "Two line charts over training epochs, loss on the left and accuracy on the right, for the average-of-words baseline, the hand-written RNN and the GRU; test accuracy of all three lies far above the majority baseline."}}
fig = plot_history({"average": average_history, "talk RNN": talk_history, "GRU": gru_history})
fig.axes[1].axhline(majority, color="gray", linestyle=":", label="majority class")
fig.axes[1].legend(fontsize=8)
plt.show()

# %% [markdown]
# What to notice:
# - All three are far above the majority baseline: the sentence vectors carry what the sentence is
#   about, although the word vectors never saw a topic label.
# - On a task this topical the order-blind average is a strong baseline: many sentences give their
#   area away with a single word such as "socket" or "thread". The hand-written cell lands close to
#   it: a plain $\tanh$ cell tends to forget the first words of a long sentence (and its test
#   curve wobbles).
# - The GRU computes the same three steps, word by word, but its gates make the combining easier
#   to learn, and it does best. Word order matters even more for questions like those of the next
#   chapter.
#
# ## Nearest sentences
#
# A sentence vector is useful beyond the classifier it was trained for: sentences with similar
# vectors say similar things. We encode every sentence with the GRU and, for a few test sentences,
# list the most similar *training* sentences.

# %%
def sentence_vectors(ids: torch.Tensor) -> torch.Tensor:
    """Unit-length GRU sentence vectors, computed in batches on the model's device."""
    gru_model.eval()
    with torch.no_grad():
        parts = [gru_model.sentence_vector(ids[i:i + 512].to(device)).float().cpu()
                 for i in range(0, len(ids), 512)]
    return F.normalize(torch.cat(parts), dim=1)


train_vectors, test_vectors = sentence_vectors(x_train), sentence_vectors(x_test)
train_text = [rows[i][0] for i in train_index.tolist()]
train_module = [rows[i][2] for i in train_index.tolist()]
nearest_train = (test_vectors @ train_vectors.T).argmax(dim=1)
neighbour_agreement = (y_train[nearest_train] == y_test).float().mean().item()
print(f"the nearest training sentence is from the same area for {neighbour_agreement:.1%} "
      f"of test sentences (majority baseline {majority:.1%})")

# %%
def nearest_sentences(ids: torch.Tensor, k: int = 3) -> list[tuple[float, str, str]]:
    """(similarity, module, sentence) of the k training sentences nearest to one encoded sentence."""
    similarity = train_vectors @ sentence_vectors(ids.unsqueeze(0))[0]
    top = similarity.topk(k)
    return [(float(s), train_module[i], train_text[i]) for s, i in zip(top.values, top.indices)]


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
def show_nearest_sentences(sentence: str = "Wait until the lock is released by another thread.") -> None:
    words = tokenize(sentence)
    known = [w for w in words if w in vocab]
    if not known:
        print("None of these words is in the vocabulary; write a sentence about Python, "
              "e.g. 'Open the file and read its lines.'")
        return
    ids = pad_sequences([vocab.encode(words)], P.max_len)[0]
    area = topic_names[predict(gru_model, ids).argmax().item()]
    unknown = sorted(set(words) - set(known))
    print(f"area: {area}" + (f"   (unknown words: {', '.join(unknown)})" if unknown else ""))
    for similarity, module, text in nearest_sentences(ids[0], k=5):
        print(f"  {similarity:.2f} [{module}] {text[:110]}")


widgets.interact(show_nearest_sentences,
                 sentence=widgets.Text("Wait until the lock is released by another thread.",
                                       description="sentence", continuous_update=False,
                                       layout=widgets.Layout(width="90%")));

# %% [markdown]
# ## Checks
#
# The claims this chapter makes, asserted on the numbers it just measured (with tolerances: the
# corpus, and so the exact neighbours, depend on your Python version).

# %%
assert torch.equal(one_hot_cosine, torch.eye(len(talk_words))), "one-hot vectors: every pair has cosine 0"
assert w2v_history.last("train_accuracy") >= 2 * chance, \
    "skip-gram should pick the true context far more often than chance"
assert related_mean >= unrelated_mean + 0.25, \
    f"related words should be clearly more similar ({related_mean:.2f} vs {unrelated_mean:.2f})"
hits = sum(isinstance(rank, int) for rank in analogy_table["rank"])
assert hits >= 4, f"at least 4 of the {len(analogies)} analogies should hold within the top 5, got {hits}"
assert talk_accuracy >= majority + 0.2, "the hand-written RNN should beat the majority class by 20 points"
assert gru_accuracy >= majority + 0.3, "the GRU should beat the majority class by 30 points"
assert gru_accuracy > max(talk_accuracy, average_accuracy), "the GRU should do best of the three encoders"
assert neighbour_agreement >= majority + 0.2, "nearest sentences should mostly share the query's area"
try:
    vocab.lookup("automobile")
    raise AssertionError("'automobile' should not be in a vocabulary of Python documentation")
except KeyError as error:
    assert "not among" in error.args[0]
print(f"skip-gram context accuracy {w2v_history.last('train_accuracy'):.1%} (chance {chance:.1%}); "
      f"related/unrelated cosine {related_mean:.2f}/{unrelated_mean:.2f}; analogies {hits}/{len(analogies)}; "
      f"topic accuracy: average {average_accuracy:.1%}, talk RNN {talk_accuracy:.1%}, GRU {gru_accuracy:.1%}, "
      f"majority {majority:.1%}; nearest-sentence agreement {neighbour_agreement:.1%}")

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
# 4. **Does order matter?** Shuffle the words of every test sentence (keep the padding at the end)
#    and evaluate the three trained models again. Which ones lose accuracy?
#
# ```{dropdown} Hints and solutions
# 1. Change `P.window` (or pass `window=1` to `skipgram_pairs`) and rerun from there. Small windows
#    see mostly a word's grammatical role, so neighbours tend to be words of the same kind
#    (verbs near verbs); large windows see the sentence's subject, so neighbours tend to be
#    topical ("thread" near "lock", "acquire", "daemon").
# 2. `nn.Embedding.from_pretrained(word_vectors, freeze=False, padding_idx=0)`. Accuracy usually
#    rises by several points, but training accuracy rises much faster: 256,000 more parameters
#    learn the 6,500 training sentences by heart. This is the overfitting–pretraining trade-off
#    that the transfer-learning chapter is about.
# 3. `states, _ = self.lstm(...)` works unchanged, since the per-word outputs are the first element.
#    An LSTM has four gates where a GRU has three: 4 × (64·64 + 64·64 + 2·64) = 33,280 weights vs
#    24,960. Results are usually within a point or two of the GRU on this task.
# 4. For each row, permute `x_test[i, :length]` with `torch.randperm(length)`. The average of word
#    vectors is unaffected by construction; the RNNs lose a little, showing they use order, but
#    most of the signal in this task is which words occur.
# ```
#
# ## References
#
# The distributional hypothesis is due to {cite}`harris1954distributional`; skip-gram and negative
# sampling to {cite}`mikolov2013efficient` and {cite}`mikolov2013distributed`; the simple recurrent
# network to {cite}`elman1990finding`, the LSTM to {cite}`hochreiter1997long` and the GRU to
# {cite}`cho2014learning`. The corpus is the documentation of the Python standard library (PSF
# licence), described in `data/README.md`. Full entries are in the
# [bibliography](../book/bibliography.md).
