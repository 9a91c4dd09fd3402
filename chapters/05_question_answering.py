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
# # 5. Question answering: networks that read a story
#
# "Bob picked up the jar. Bob went to town. Where is the jar?" A child answers at once; a network
# has to *find* the two sentences that matter among many that do not, and combine them. This
# chapter trains real question-answering models on the bAbI tasks {cite}`weston2015towards`, the
# benchmark behind the talk's examples: an LSTM that reads the story word by word, an
# **end-to-end memory network** {cite}`sukhbaatar2015end` that stores every sentence and learns
# where to look, and a compact **Neural Reasoner** {cite}`peng2015towards`. We compare each
# model with the fairest baseline we can give it, put our results next to the paper's table,
# and measure, over the whole test set, whether the memory network's attention lands on the
# facts that really answer the question.
#
# **Learning goals**
# - Read the bAbI tasks in their official text format, and know what tasks 1, 2, 3 and 19 test.
# - See why one recurrent state that reads the story struggles to answer questions about it.
# - Know the original Memory Network (hard attention, supervised supporting facts) and write its
#   end-to-end successor: sentence memories, attention, several hops, position and temporal
#   encodings, adjacent weight tying and linear start.
# - Read its attention as keys, values and a query, and check it against the supporting facts.
# - Know what the Neural Reasoner changes, and why path finding is hard for both models.
#
# **Run time:** under two minutes on a 2-core laptop (CPU profile). The GPU profile, not yet
# timed, trains longer, writes longer stories for tasks 2 and 3, lets the LSTM read the whole
# memory and trains it on all four tasks.

# %% [markdown]
# ## From the talk
#
# | The slide says | What this chapter does with it |
# |---|---|
# | "Bob went home. Tim went to the junkyard. Bob picked up the jar. Bob went to town. Where is the jar? A: town" | This is bAbI task 2, *two supporting facts*. We train on 1,000 such questions and ask the trained network the talk's question. |
# | "Memory Networks [Weston et al., 2014]: Updates memory vectors based on a question and finds the best one to give the output." | We explain that Memory Network, write its end-to-end successor, compare it with an LSTM and with the paper's table, and measure which memories it picks at each hop. |
# | "The office is north of the yard. The bath is north of the office. The yard is west of the kitchen. How do you go from the office to the kitchen? A: south, east" | This is bAbI task 19, *path finding*, the hardest of the four tasks here, for every model. |
# | "Neural Reasoner [Peng et al., 2015]: Encodes the question and facts in many layers, and the final layer is put through a function that gives the answer." | We write a compact Neural Reasoner and compare it with the memory network on path finding, both trained on the same 10,000 questions. |

# %% tags=["hide-input"]
# Bootstrap: opened alone (Colab, an Azure VM), this installs the course's helpers
# with what this chapter needs (`demystify[ch05]`); in a checkout it does nothing.
import importlib.util, os
if importlib.util.find_spec("demystify") is None:
    repository = "git+https://github.com/demystify-dl/demystifying-deep-learning"
    source = os.environ.get("DEMYSTIFY_SOURCE", repository)
    # %pip install -q "demystify[ch05] @ {source}"

# %% [markdown]
# The setup cell seeds every random number generator, picks the device (a GPU when there is one)
# and loads this chapter's **profile**: the sizes it runs with on a CPU or on a GPU.
#
# **Official data.** Everything here runs offline on stories the course's simulator writes. The
# official bAbI tasks replace them when their files are on your machine, or when you allow the
# download: run `%env DEMYSTIFY_DOWNLOAD=1` before the setup cell (in Colab too). *The bAbI
# tasks* below says where the chapter looks; the results table names the stories it used.

# %%
import re
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from demystify import (History, claim, count_parameters, fit, glue, plot_attention,
                       predict, report, seed_everything, start)
from demystify.babi import (QA, TASK_NAMES, format_babi, load_babi, parse_babi,
                            qa_tokens, questions, vectorize)
from demystify.text import Vocabulary, tokenize

device, P = start("05_question_answering")

# %% [markdown]
# ## The bAbI tasks
#
# bAbI {cite}`weston2015towards` is twenty small question-answering tasks, each testing one skill
# a reader needs. Every task comes with 1,000 training and 1,000 test questions (the "1k" set; a
# "10k" set has ten times more training data). We use four:
#
# | task | skill | example question |
# |---|---|---|
# | 1 single supporting fact | find the one sentence that answers | Where is Mary? |
# | 2 two supporting facts | chain two sentences (who has the jar, where did they go) | Where is the jar? |
# | 3 three supporting facts | follow an object through time | Where was the jar before the town? |
# | 19 path finding | combine two spatial relations | How do you go from the office to the kitchen? |
#
# The official files are plain text. Each story numbers its lines from 1; a question line carries,
# after tabs, its answer and the ids of the *supporting facts*, the sentences that answer it.
# `demystify.babi` reads that format. When the official files are on your machine (`BABI_DIR`
# pointing at the unpacked `tasks_1-20_v1-2` folder, `$DEMYSTIFY_DATA/babi`, or
# `DEMYSTIFY_DOWNLOAD=1` to fetch the archive), the chapter uses them. Otherwise the project's
# own seeded **world simulator** writes the stories, in exactly that format, and the same reader
# reads them back: people move between places, pick up and put down things, rooms lie north or
# west of each other. Its *vocabulary* is the size of the official one (four people, six places,
# three things; each task-19 story places six rooms, drawn from seven) and holds the talk's
# Bob, Tim, jar, junkyard and town.
#
# The stories' *lengths* matter as much: a question's memory is every statement of its story
# before it, and the longer it is, the more there is to search. The memory network paper kept
# only "the most recent 50 sentences" in memory {cite}`sukhbaatar2015end`, a cap that matters
# only for stories longer than that. We could not find the official files' length distribution
# in a source we can cite, so we do not claim to match it. What we assume: for tasks 2 and 3 the
# simulator writes `P.story_questions` questions a story (the official task-1 layout has five;
# the CPU profile writes 8, the GPU profile 15, so the GPU's stories are longer), so that later
# questions come after long stories; the next cell measures what that gives.

# %%
STORY_QUESTIONS = {2: P.story_questions, 3: P.story_questions}
babi = load_babi(tasks=(1, 2, 3, 19), seed=0, questions_per_story=STORY_QUESTIONS)

# %% [markdown]
# Here is the beginning of the first training story of each task, as the file holds it (a tab
# separates the question, the answer and the supporting facts).

# %%
# NBVAL_CHECK_OUTPUT
for task, stories in babi.train.items():
    story = stories[0]
    second_question = [i for i, line in enumerate(story) if line.is_question][:2][-1]
    print(f"── task {task}, {TASK_NAMES[task]} ──")
    print(format_babi([story[:second_question + 1]]))

# %% [markdown]
# How long are the memories? For every test question, the number of statements before it in
# its story, uncapped:

# %%
# NBVAL_CHECK_OUTPUT
full = {task: questions(babi.test[task], memory_size=10**6) for task in babi.test}
lengths = pd.DataFrame({
    task: {"mean": np.mean([len(qa.facts) for qa in qs]),
           "max": max(len(qa.facts) for qa in qs),
           "over 50": sum(len(qa.facts) > P.memory_size for qa in qs)}
    for task, qs in full.items()}).T
lengths.index.name = "task (test)"
print(lengths.round(1).to_string())
for task in (2, 3):
    glue(f"memory_mean_task{task}", float(lengths.loc[task, "mean"]))
    glue(f"memory_max_task{task}", int(lengths.loc[task, "max"]))
    glue(f"memory_over_cap_task{task}", int(lengths.loc[task, "over 50"]))

# %% [markdown]
# Task 3's memories reach {glue:text}`memory_max_task3` statements (mean
# {glue:text}`memory_mean_task3:.1f`), and {glue:text}`memory_over_cap_task3` of its 1,000 test
# questions come after more than 50, where the cap bites; task 2's reach
# {glue:text}`memory_max_task2` (mean {glue:text}`memory_mean_task2:.1f`). What remains
# different from the official files: our lengths are an assumption, not the official
# distribution; our sentences come from a handful of templates; and our task 3 sometimes needs
# only two supporting facts (when the carrier's move is also the object's last move).

# %% [markdown]
# ## From stories to tensors
#
# A network needs numbers. For each question we keep the statements before it: its **memory**,
# at most the last 50 of them (`P.memory_size`), as in the paper. Each word gets an id in a
# vocabulary built from the training questions: `<pad>` is 0, `<unk>` (a word never seen in
# training) 1, then the words in alphabetical order, answers included (the model answers with a
# word, and path finding's answers such as `s,e` are single "words"). `vectorize` packs each
# question into one tensor of word ids, `(memory + 1) × words`: the memory sentences, oldest
# first and right-aligned so that the most recent is always in the same row, then the question.

# %%
@dataclass
class Task:
    """One bAbI task, vectorised: train/validation/test tensors and how to read them."""
    vocab: Vocabulary
    memory: int       # memory rows: the longest memory of any question, ≤ 50
    length: int       # words per sentence, padded
    train: tuple      # (x, y) tensors; x: (questions, memory + 1, length)
    val: tuple
    test: tuple
    test_qa: list     # the test questions as text, for looking at the answers


def prepare(task: int, data=babi) -> Task:
    train_qa = questions(data.train[task], P.memory_size)
    test_qa = questions(data.test[task], P.memory_size)
    vocab = Vocabulary.build(qa_tokens(train_qa), order="alphabetical")
    everything = train_qa + test_qa
    memory = max(len(qa.facts) for qa in everything)
    length = max(len(tokenize(s))
                 for qa in everything for s in (*qa.facts, qa.question))
    x, y = vectorize(train_qa, vocab, memory, length)
    n_val = len(x) // 10         # like the paper, hold out 10 % of the training set
    return Task(vocab, memory, length, (x[n_val:], y[n_val:]), (x[:n_val], y[:n_val]),
                vectorize(test_qa, vocab, memory, length), test_qa)


tasks = {task: prepare(task) for task in babi.train}

# %%
# NBVAL_CHECK_OUTPUT
summary = pd.DataFrame({
    task: {"stories (train)": len(babi.train[task]), "train": len(t.train[0]),
           "validation": len(t.val[0]), "test": len(t.test[0]), "memory rows": t.memory,
           "words/sentence": t.length, "vocabulary": len(t.vocab),
           "answers": len(set(t.test[1].tolist()))}
    for task, t in tasks.items()}).T
summary.index.name = "task"
print(summary.to_string())

# %%
# NBVAL_CHECK_OUTPUT
qa = tasks[2].test_qa[0]
x, y = tasks[2].test
print(qa)
print("as ids (last 4 memory rows, then the question):")
print(x[0, -5:].numpy())
print("answer id", y[0].item(), "=", tasks[2].vocab.words[y[0]])

# %% [markdown]
# ## The baselines: the most frequent answer, and an LSTM that reads the story
#
# The floor every model must clear is the **most frequent answer**: always give the answer that
# is most common among the training questions.
#
# Chapter 4 turned a sentence into a vector with a recurrent network: start from the first word,
# combine each next word into the running vector. The simplest question answerer does just that
# with the whole story followed by the question, and predicts the answer from the final state. We
# use an LSTM {cite}`hochreiter1997long`, the recurrent network of the memory network paper's
# baseline. Everything it knows about the story must fit in that one state vector, written
# before it has seen the question.
#
# In the CPU profile the LSTM reads the last 10 sentences of the memory (`P.lstm_sentences`:
# long sequences are slow to run word by word on a CPU); the GPU profile lets it read all 50.
# Stories hold padding between sentences. PyTorch's `pack_padded_sequence` skips padding only
# at the end of a sequence; ours sits between sentences, so we first move it all to the front
# (*left padding*), keeping the words' order, so that the LSTM's last state comes right after
# the question's last word.

# %%
class LSTMReader(nn.Module):
    """Chapter 4's idea: read the story word by word, then the question; answer."""

    def __init__(self, vocab_size: int, sentences: int, dim: int = 32,
                 hidden: int = 64):
        super().__init__()
        self.sentences = sentences        # reads only the last `sentences` statements
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab_size)

    def forward(self, x):                        # x: (batch, memory + 1, words)
        story, question = x[:, :-1][:, -self.sentences:], x[:, -1:]
        words = torch.cat([story, question], 1).flatten(1)   # one long sequence of ids
        real = words != 0
        # the padding first, then the words in their order (a stable sort), so that the
        # last state comes right after the question's last word (left padding)
        words = words.gather(1, real.to(torch.int8).sort(dim=1, stable=True).indices)
        words = words[:, -int(real.sum(1).max()):]
        _, (state, _) = self.lstm(self.embed(words))
        return self.out(state[-1])


# %% [markdown]
# We train one LSTM per task with the course's training loop, `demystify.fit` (Adam, minibatches,
# a progress bar), in batches of 32 like the memory network below and for a comparable number
# of updates: `P.lstm_epochs` epochs. The epoch kept is chosen on the held-out tenth of the
# training questions (`keep_best=True` keeps the epoch with the best validation accuracy); the
# test questions are read once, at the end. Word-by-word reading is the slow part of this
# chapter on a CPU, so the CPU profile trains the LSTM on tasks 1 and 2 only
# (`P.lstm_tasks`), the two where the comparison below is made; the GPU profile trains it on
# all four.

# %%
lstm, lstm_history = {}, {}
for task in P.lstm_tasks:
    t = tasks[task]
    seed_everything(1000 * P.seed + task)
    lstm[task] = LSTMReader(len(t.vocab), P.lstm_sentences, hidden=P.lstm_hidden)
    lstm_history[task] = fit(lstm[task], t.train, t.val, epochs=P.lstm_epochs, lr=5e-3,
                             batch_size=P.lstm_batch, device=device,
                             seed=1000 * P.seed + task, keep_best=True,
                             desc=f"LSTM, task {task}")

# %% [markdown]
# ## Memory Networks: the original, with hard attention
#
# The talk's "Memory Networks [Weston et al., 2014]" is the model of {cite}`weston2014memory`. It
# writes every sentence of the story into a **memory** slot, and answers in two steps. First it
# *chooses* a memory: a learned score $s_O(q, m_i) = q^\top U^\top U\, m_i$ between the question
# $q$ and each memory $m_i$ (bags of words, $U$ an embedding), and an $\arg\max$ picks the best
# one. For two-fact questions it chooses a second memory, scored against the question *and* the
# first choice. Then a response module ranks the vocabulary's words against the question and
# the chosen memories, and answers with the best. The $\arg\max$ is a **hard** choice: it has no
# gradient. So the model is trained with the supporting facts given: a margin loss pushes the
# labelled supporting fact's score above every other memory's, at each step, and the right
# answer's score above the other words'. That supervision is what bAbI's supporting-fact ids are
# for, and it is what a real reader never gets.
#
# ## End-to-end memory networks
#
# The *end-to-end* version {cite}`sukhbaatar2015end` makes the choice soft, so that the whole
# model trains by gradient descent from question–answer pairs alone (it is never told which facts
# support the answer). One **hop** works like this:
#
# 1. Each story sentence $x_i$ becomes an *input memory* $m_i$ (embedding $A$) and an *output
#    memory* $c_i$ (embedding $C$); the question becomes a vector $u$ (embedding $B$).
# 2. Attention: $p_i = \mathrm{softmax}_i(u^\top m_i)$, how well each memory matches the question.
# 3. Read: $o = \sum_i p_i\, c_i$, and update the question: $u \leftarrow u + o$.
#
# In today's words, $u$ is the **query**, the $m_i$ are the **keys** and the $c_i$ the **values**:
# a softmax over query–key dot products weights the values. That is the attention of the
# transformer, which adds scaling, learned query/key/value projections and many heads, and
# attends over its own inputs instead of a separate memory: the memory network is one of its
# ancestors.
#
# With $K = 3$ hops, the second hop can look for what the first found: *who* had the jar, then
# *where* they went. The answer is $\hat a = \mathrm{softmax}(W u)$ over the vocabulary. The
# paper's details, all in the model below:
#
# - **Position encoding (PE).** A sentence vector is a weighted sum of its word vectors,
#   $m_i = \sum_j l_j \odot A x_{ij}$ with $l_{kj} = (1 - j/J) - (k/d)(1 - 2j/J)$ for word $j$ of
#   $J$ and dimension $k$ of $d$, so that "the office is north of the yard" differs from "the yard
#   is north of the office".
# - **Temporal encoding.** A learned vector per memory slot, $T_A(i)$ and $T_C(i)$, added to
#   $m_i$ and $c_i$: which sentence is most recent matters ("Bob went to the town" after
#   "Bob went to the kitchen"). **Random noise (RN)**: during training, about one empty memory
#   in ten is slipped in, so the model cannot lean on exact slot numbers.
# - **Adjacent weight tying.** Hop $k+1$'s input embedding is hop $k$'s output embedding,
#   $A^{k+1} = C^k$; the question uses $B = A^1$ and the answer $W^\top = C^K$. So $K + 1$
#   embedding matrices $E_0, \dots, E_K$ in all: $B = A^1 = E_0$, $C^k = A^{k+1} = E_k$,
#   $W^\top = E_K$. The model keeps them in a list, one `nn.Embedding` each, and the same for
#   the temporal encodings.
# - **Linear start (LS).** Training starts with the softmax removed from the attention, then puts
#   it back; this avoids poor local minima early on.

# %%
def position_encoding(sentence_length: int, dim: int) -> torch.Tensor:
    """l[j, k] = (1 - j/J) - (k/d)(1 - 2j/J): weight of dimension k of word j."""
    j = torch.arange(1, sentence_length + 1).unsqueeze(1) / sentence_length
    k = torch.arange(1, dim + 1).unsqueeze(0) / dim
    return (1 - j) - k * (1 - 2 * j)


# %% mystnb={"figure": {"caption": "Position encoding for 8-word sentences and 20 dimensions: each word's vector is weighted by one row before the words are summed. Early words weigh most in low dimensions, late words in high ones.", "name": "fig-05-position-encoding"}, "image": {"alt": "A heatmap with word position 1 to 8 on the vertical axis and embedding dimension 1 to 20 on the horizontal axis; weights run from high at the top left to high at the bottom right."}}
fig, ax = plt.subplots(figsize=(6, 2.6))
image = ax.imshow(position_encoding(8, 20), cmap="viridis", aspect="auto")
ax.set_xlabel("embedding dimension k"); ax.set_ylabel("word position j")
ax.set_xticks(range(0, 20, 2), range(1, 21, 2)); ax.set_yticks(range(8), range(1, 9))
fig.colorbar(image, ax=ax, label="weight $l_{kj}$")
plt.show()

# %% [markdown]
# The temporal encoding looks up a vector by a memory's **age**: 0 for the newest sentence, 1 for
# the one before, and so on. Random noise (RN) shifts those ages during training: each slot
# gets, with probability `noise`, an empty memory slipped in just after it, so each memory's
# age grows by one for every dummy slipped in after it. The model then learns "more recent
# than", not exact slot numbers.
#
# One more helper, for speed only: stories reuse a few sentences ("Mary went to the kitchen."
# comes back again and again), so `distinct_rows` finds each distinct sentence of a batch once,
# and the model turns only those into vectors, then looks each memory's vector up.

# %%
def distinct_rows(words):
    """(rows, words) ids -> the distinct rows, and each row's index among them."""
    base, length = int(words.max()) + 1, words.shape[1]
    if base ** length >= 2 ** 63:                    # too many codes for one integer
        return words.unique(dim=0, return_inverse=True)
    powers = base ** torch.arange(length - 1, -1, -1, device=words.device)
    codes, which = (words * powers).sum(1).unique(return_inverse=True)  # row -> number
    return words.new_empty(len(codes), length).index_copy_(0, which, words), which


def memory_ages(story, noise: float = 0.0):
    """(batch, slots, words) -> (batch, slots): each memory's age (0 = newest), RN."""
    n, slots = story.shape[:2]
    age = torch.arange(slots - 1, -1, -1, device=story.device).expand(n, slots)
    if noise:                          # RN: slip in empty memories, so ages shift
        dummies = (torch.rand(n, slots, device=story.device) < noise).long()
        age = (age + dummies.flip(1).cumsum(1).flip(1)).clamp(max=slots - 1)
    return age


# %% [markdown]
# The model itself: $K + 1$ embeddings, position-weighted sentence sums, and $K$ hops of
# attention, each adding what it reads to the query.

# %%
class MemN2N(nn.Module):
    """End-to-end memory network (Sukhbaatar et al. 2015): PE, temporal encoding, RN and
    adjacent weight tying. E[0] = B = A¹; E[k] = C^k = A^(k+1); W = E[K]ᵀ."""

    def __init__(self, vocab_size: int, memory: int, length: int, dim: int = 20,
                 hops: int = 3, noise: float = 0.1):
        super().__init__()
        self.hops, self.noise, self.linear = hops, noise, False
        self.E = nn.ModuleList(nn.Embedding(vocab_size, dim, padding_idx=0)
                               for _ in range(hops + 1))     # word embeddings E_k
        self.T = nn.ModuleList(nn.Embedding(memory, dim)
                               for _ in range(hops + 1))     # temporal T_k, by age
        for table in (*self.E, *self.T):
            nn.init.normal_(table.weight, std=0.1)
        with torch.no_grad():
            for table in self.E:
                table.weight[0] = 0                          # padding adds nothing
        self.register_buffer("pe", position_encoding(length, dim))

    def sentences(self, k: int, words):  # (..., words) -> (..., dim): Σ_j l_j ⊙ E_k x_j
        return (self.E[k](words) * self.pe).sum(-2)

    def forward(self, x, return_attention: bool = False):
        story, question = x[:, :-1], x[:, -1]
        empty = (story == 0).all(-1)                     # padding rows: never attended
        age = memory_ages(story, self.noise if self.training else 0.0)
        rows, which = distinct_rows(story.flatten(0, 1))  # each distinct sentence once
        memories = [self.sentences(k, rows)[which].unflatten(0, story.shape[:2])
                    + self.T[k](age) for k in range(self.hops + 1)]
        u = self.sentences(0, question)                  # the query: u = B q
        attention = []
        for k in range(1, self.hops + 1):
            keys, values = memories[k - 1], memories[k]  # m_i (A^k), c_i (C^k)
            scores = torch.einsum("nsd,nd->ns", keys, u) # u·m_i
            if self.linear:                              # linear start: no softmax yet
                p = scores.masked_fill(empty, 0.0)
            else:
                p = scores.masked_fill(empty, float("-inf")).softmax(-1)
            u = u + torch.einsum("ns,nsd->nd", p, values)  # u + o, o = Σ p_i c_i
            attention.append(p)
        logits = u @ self.E[self.hops].weight.T            # W = E_K
        return (logits, torch.stack(attention, 1)) if return_attention else logits


# %%
# NBVAL_CHECK_OUTPUT
sizes = {}
for task, t in tasks.items():
    model = MemN2N(len(t.vocab), t.memory, t.length, dim=P.embedding_dim, hops=P.hops)
    reader = LSTMReader(len(t.vocab), P.lstm_sentences, hidden=P.lstm_hidden)
    sizes[task] = count_parameters(model), count_parameters(reader)
    print(f"task {task}: {sizes[task][0]:,} parameters "
          f"({P.hops + 1} word embeddings {tuple(model.E[0].weight.shape)}, "
          f"{P.hops + 1} temporal {tuple(model.T[0].weight.shape)}); "
          f"LSTM {sizes[task][1]:,}")
glue("memn2n_parameters_task1", f"{sizes[1][0]:,}")
glue("lstm_parameters_task1", f"{sizes[1][1]:,}")
glue("lstm_over_memn2n_parameters", round(sizes[1][1] / sizes[1][0]))

# %% [markdown]
# Training follows the paper, with Adam instead of plain SGD to fit the CPU budget, gradients
# clipped to norm 40 as in the paper, in batches of 32. Memory networks are sensitive to their
# random start: the paper trained each task 10 times and kept the run with the lowest training
# error. We do a cheaper version: `P.restarts` short linear-start runs (`P.linear_start_epochs`
# epochs each, the softmax removed), keep the one with the best *validation* accuracy, then
# continue it with the softmax back in (`P.memn2n_epochs`, the epoch kept chosen on the
# validation questions). To fit the time budget, tasks 3 and 19 (and, later, task 19's 10k
# run) get a single start.

# %%
class ClippedAdam(torch.optim.Adam):
    """Adam that first clips the gradients' total norm (the paper clips at 40)."""

    def step(self, closure=None):
        nn.utils.clip_grad_norm_([p for group in self.param_groups
                                  for p in group["params"]], 40.0)
        return super().step(closure)


def train_memn2n(task: int, t: Task, epochs: int = P.memn2n_epochs,
                 batch_size: int = P.batch_size,
                 linear_epochs: int = P.linear_start_epochs,
                 restarts: int = P.restarts) -> tuple[MemN2N, History]:
    starts = []                        # (validation accuracy, model, history, seed)
    for restart in range(restarts):              # short linear-start runs
        seed = 1000 * P.seed + 100 + 10 * task + restart
        seed_everything(seed)
        model = MemN2N(len(t.vocab), t.memory, t.length, dim=P.embedding_dim,
                       hops=P.hops)
        model.linear = True
        start_run = fit(model, t.train, t.val, epochs=linear_epochs, lr=0.01,
                        optimizer=ClippedAdam(model.parameters(), lr=0.01),
                        batch_size=batch_size, device=device, seed=seed,
                        desc=f"MemN2N, task {task} (linear start {restart + 1})")
        starts.append((start_run["val_accuracy"][-1], model, start_run, seed))
    _, model, start_run, seed = max(starts, key=lambda s: s[0])   # first best on ties
    model.linear = False               # the softmax back in: continue the best start
    run = fit(model, t.train, t.val, epochs=epochs, lr=0.005,
              optimizer=ClippedAdam(model.parameters(), lr=0.005),
              batch_size=batch_size, device=device, seed=seed, keep_best=True,
              desc=f"MemN2N, task {task}")
    print(f"task {task}: linear-start validation accuracies "
          f"{[round(s[0], 3) for s in starts]}; continued the best")
    return model, History({key: start_run[key] + run[key] for key in run.metrics})


memn2n, memn2n_history = {}, {}
for task, t in tasks.items():     # tasks 3 and 19: one start, to fit the time budget
    memn2n[task], memn2n_history[task] = train_memn2n(
        task, t, restarts=1 if task in (3, 19) else P.restarts)

# %% mystnb={"figure": {"caption": "Validation accuracy per epoch on each task: the memory network (the dotted line marks the end of linear start) and the LSTM.", "name": "fig-05-curves"}, "image": {"alt": "Four small line charts, one per task, of validation accuracy against epoch for the memory network and the LSTM; a dotted vertical line marks where the memory network's linear start ends."}}
fig, axes = plt.subplots(1, 4, figsize=(13, 2.8), sharey=True)
for ax, (task, t) in zip(axes, tasks.items()):
    for name, history in (("MemN2N", memn2n_history), ("LSTM", lstm_history)):
        if task not in history:                  # CPU profile: no LSTM on tasks 3, 19
            continue
        values = history[task]["val_accuracy"]
        ax.plot(range(1, len(values) + 1), values, label=name)
    ax.axvline(P.linear_start_epochs + 0.5, ls=":", color="grey")
    ax.set_title(f"task {task}: {TASK_NAMES[task]}", fontsize=9)
    ax.set_xlabel("epoch"); ax.grid(alpha=0.3)
axes[0].set_ylabel("validation accuracy"); axes[0].set_ylim(0, 1.02)
axes[0].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Results next to the paper
#
# Now the test questions, read once by every model. Besides accuracy on all of them, two
# comparisons need care to be fair:
#
# - **Equal data.** Both models learn from the same 900 training questions of each task.
# - **Equal memory.** In the CPU profile the LSTM reads only the last `P.lstm_sentences`
#   statements, the memory network up to 50. So we also score both on the test questions whose
#   supporting facts all lie within the LSTM's window: there, both have read what they need.

# %%
def oldest_support(qa: QA) -> int:
    """How far back the oldest supporting fact lies: 1 = the statement just before."""
    return len(qa.facts) - min(qa.supporting)


majority, predictions, in_window = {}, {}, {}
for task, t in tasks.items():
    majority[task] = torch.bincount(t.train[1]).argmax().item()   # training answers
    predictions[task] = {name: predict(models[task], t.test[0]).argmax(-1)
                         for name, models in (("LSTM", lstm), ("MemN2N", memn2n))
                         if task in models}
    in_window[task] = torch.tensor([oldest_support(qa) <= P.lstm_sentences
                                    for qa in full[task]])


def accuracy(task: int, name: str, where=None) -> float:
    y = tasks[task].test[1]
    if name == "majority":
        guess = torch.full_like(y, majority[task])
    elif name not in predictions[task]:        # a model not trained on this task
        return float("nan")
    else:
        guess = predictions[task][name]
    right = (guess == y) if where is None else (guess == y)[where]
    return right.float().mean().item()


beyond_window = {task: int((~in_window[task]).sum()) for task in tasks}
beyond_memory = {task: sum(oldest_support(qa) > P.memory_size for qa in full[task])
                 for task in tasks}
per_epoch = {name: -(-len(tasks[1].train[0]) // batch)     # minibatches per epoch
             for name, batch in (("lstm", P.lstm_batch), ("memn2n", P.batch_size))}
memn2n_updates = per_epoch["memn2n"] * (P.restarts * P.linear_start_epochs
                                        + P.memn2n_epochs)   # all starts included
glue("lstm_updates", f"{P.lstm_epochs * per_epoch['lstm']:,}")
glue("memn2n_updates", f"{memn2n_updates:,}")

# %% [markdown]
# The table puts our test accuracies next to the memory network paper's Table 1 (1k training
# set; it reports error rates, which we turn into accuracies). The column we quote is **PE LS RN
# joint**: position encoding, linear start and random noise, one model trained on all 20 tasks
# together {cite}`sukhbaatar2015end`. Our models are trained *per task*; the paper's per-task
# PE LS RN column is the matching setting, but we could not check its numbers at the source
# here (the joint column we could check against a public re-implementation's copy of the
# table), so we print neither it nor the paper's LSTM column. The CPU profile trains no LSTM
# on tasks 3 and 19 (–).

# %%
# % error, Sukhbaatar et al. 2015, Table 1 (1k training), column "PE LS RN joint"
PAPER_JOINT_ERROR = {1: 0.0, 2: 11.4, 3: 21.9, 19: 88.0}

results = pd.DataFrame({
    f"{task}: {TASK_NAMES[task]}": {
        "most frequent answer": accuracy(task, "majority"),
        "LSTM": accuracy(task, "LSTM"), "MemN2N": accuracy(task, "MemN2N"),
        "MemN2N, paper (PE LS RN joint)": 1 - PAPER_JOINT_ERROR[task] / 100,
        "LSTM, in its window": accuracy(task, "LSTM", in_window[task]),
        "MemN2N, in the LSTM's window": accuracy(task, "MemN2N", in_window[task]),
        "questions outside the window": beyond_window[task]}
    for task in tasks}).T
results.index.name = f"task ({'official' if babi.official else 'simulated'} bAbI, 1k)"
results.style.format("{:.1%}", na_rep="–").format(
    "{:.0f}", subset=["questions outside the window"])

# %%
claim("memn2n_task1_accuracy", accuracy(1, "MemN2N"), ">= 0.95", tol=0.02,
      says="the memory network solves task 1")
for task, margin in ((1, 0.3), (2, 0.03)):
    mine, floor = accuracy(task, "MemN2N"), accuracy(task, "majority")
    claim(f"memn2n_minus_majority_task{task}", mine - floor, f"> {margin}", tol=0.04,
          parts={"memn2n": mine, "majority": floor},
          says=f"on task {task} the memory network beats the most frequent answer")
for task, margin in ((1, 0.2), (2, 0)):
    mine, theirs = (accuracy(task, n, in_window[task]) for n in ("MemN2N", "LSTM"))
    claim(f"memn2n_minus_lstm_in_window_task{task}", mine - theirs, f"> {margin}",
          tol=0.04, parts={"memn2n": mine, "lstm": theirs},
          says=f"task {task}, inside the LSTM's window: the memory network wins")
one, two = accuracy(1, "MemN2N"), accuracy(2, "MemN2N")
claim("memn2n_task2_minus_task1", two - one, "< -0.4", tol=0.04,
      parts={"task1": one, "task2": two},
      says="at this budget task 2 stays far below task 1")
claim("memn2n_task3_accuracy", accuracy(3, "MemN2N"), "< 0.4", tol=0.04,
      parts={"majority": accuracy(3, "majority")},
      says="at this budget three-fact chains (task 3) stay far from solved")
claim("memn2n_task19_minus_majority",
      accuracy(19, "MemN2N") - accuracy(19, "majority"), "< 0.15", tol=0.03,
      parts={"memn2n": accuracy(19, "MemN2N"), "majority": accuracy(19, "majority")},
      says="path finding from 1,000 questions stays out of the memory network's reach")
lstm_two, floor_two = accuracy(2, "LSTM"), accuracy(2, "majority")
claim("lstm_minus_majority_task2", lstm_two - floor_two, "< 0.06", tol=0.04,
      parts={"lstm": lstm_two, "majority": floor_two},
      says="on task 2 the LSTM is never six points above the most frequent answer")
claim("task3_beyond_lstm_window", beyond_window[3], "> 0", tol=0,
      parts={"beyond_memory": beyond_memory[3], "task2": beyond_window[2]},
      says="some task-3 test questions need a fact the CPU-profile LSTM never reads")

# %% [markdown]
# **What to notice.**
# - The CPU-profile LSTM reads the last `P.lstm_sentences` statements: for
#   {glue:text}`task3_beyond_lstm_window:.0f` of task 3's 1,000 test questions (and
#   {glue:text}`task3_beyond_lstm_window__task2:.0f` of task 2's) a supporting fact lies
#   further back, out of its reach; for {glue:text}`task3_beyond_lstm_window__beyond_memory:.0f`
#   of task 3's a supporting fact lies even beyond the memory network's 50 sentences. So we
#   compare the two models where both have read what they need, on tasks 1 and 2.
# - On task 1 the memory network wins clearly:
#   {glue:text}`memn2n_minus_lstm_in_window_task1__memn2n:.3f` against the LSTM's
#   {glue:text}`memn2n_minus_lstm_in_window_task1__lstm:.3f` (a margin above a fifth on every
#   seed). The LSTM had fewer updates ({glue:text}`lstm_updates` against the memory network's
#   {glue:text}`memn2n_updates`, all its starts included, both in batches of 32; the validation
#   curves above show whether it was still improving) but about
#   {glue:text}`lstm_over_memn2n_parameters` times as many parameters
#   ({glue:text}`lstm_parameters_task1` against {glue:text}`memn2n_parameters_task1`). One
#   likely reason: its one state vector, written before the question arrives, has to keep
#   every person's whereabouts, while the memory network keeps each sentence and chooses what
#   to read *after* seeing the question.
# - On task 2 the LSTM learned nothing useful at this budget: it scores
#   {glue:text}`lstm_minus_majority_task2__lstm:.3f` against
#   {glue:text}`lstm_minus_majority_task2__majority:.3f` for always giving the most frequent
#   answer, and on no seed more than six points above it (on some, below it).
#   Inside its window the memory network scores
#   {glue:text}`memn2n_minus_lstm_in_window_task2__memn2n:.3f` against its
#   {glue:text}`memn2n_minus_lstm_in_window_task2__lstm:.3f`, ahead on every seed — but that
#   only says the memory network learned something; the floor that matters on task 2 is the
#   most frequent answer (next bullet).
# - The memory network solves task 1 ({glue:text}`memn2n_task1_accuracy:.3f`). On task 2's
#   long stories it stays far below that, at this budget: it beats the most frequent answer
#   ({glue:text}`memn2n_minus_majority_task2__memn2n:.3f` against
#   {glue:text}`memn2n_minus_majority_task2__majority:.3f`) but on some seeds only by a few
#   points. Which of the short linear-start runs trains depends on the seed: the cell above
#   prints their validation accuracies. Task 3's three-fact chains are far from solved too
#   ({glue:text}`memn2n_task3_accuracy:.3f`; the most frequent answer:
#   {glue:text}`memn2n_task3_accuracy__majority:.3f`). Which of task 2 and task 3 comes out
#   harder changed from seed to seed in our runs, so we make no claim about it.
# - The paper's PE LS RN joint column finds task 3 harder than task 2 (21.9 against 11.4 %
#   error, Table 1, 1k training {cite}`sukhbaatar2015end`). Both are far better solved there
#   than here, where the memory network answers
#   {glue:text}`memn2n_minus_majority_task2__memn2n:.3f` of task 2 and
#   {glue:text}`memn2n_task3_accuracy:.3f` of task 3 (the claims above: on every seed task 2
#   stays far below task 1, and task 3 far from solved). The paper's model is trained on all
#   20 official tasks at once, and of 10 runs the paper kept the one with the lowest
#   *training* error; ours is trained per task, and of `P.restarts` short starts (one for
#   tasks 3 and 19) we continue the one with the best *validation* accuracy (CPU profile),
#   on the simulator's stories unless the official files are here.
# - Path finding (task 19) defeats the memory network: it stays close to the most
#   frequent answer ({glue:text}`memn2n_task19_minus_majority__memn2n:.3f` against
#   {glue:text}`memn2n_task19_minus_majority__majority:.3f`), as in the paper (Table 1, 1k
#   training, PE LS RN jointly trained: 88.0 % error {cite}`sukhbaatar2015end`). One likely reason: a hop only adds up sentence
#   vectors, and "the office is north of the yard" plus "the yard is west of the kitchen"
#   has to be turned around and chained to give "south, east".

# %% [markdown]
# ## Does the attention find the supporting facts?
#
# The memory network was never told which sentences answer a question, but bAbI's files say so.
# So we can check, over all 1,000 test questions of task 1, how often each hop puts its largest
# attention weight on a supporting fact. We measure it on task 1, which the memory network
# solves on every seed; on task 2, which it only partly learns at this budget, the hit rate
# depends on the seed. Two baselines: chance, a sentence picked uniformly at random from the
# question's memory, which is a supporting fact with probability (supporting facts in memory)
# / (sentences in memory); and a hand-written rule that knows the task, the **newest
# sentence that names the question's person or object**.

# %%
QUESTION_WORDS = {"where", "is", "was", "the", "before", "what", "how", "do", "you",
                  "go", "from", "to"}


def newest_mention(qa: QA) -> int:
    """The newest memory that names a word of the question other than its question
    words (task 1: the person asked about); -1 when none does."""
    names = set(tokenize(qa.question)) - QUESTION_WORDS
    return next((i for i in reversed(range(len(qa.facts)))
                 if names & set(tokenize(qa.facts[i]))), -1)


# %%
def support_hits(task: int) -> tuple[np.ndarray, float, float]:
    """Per hop: the share of test questions whose most-attended memory is a supporting
    fact; the rate of a uniformly random memory; the newest-mention rule's rate."""
    t, model = tasks[task], memn2n[task]
    model.eval()
    with torch.no_grad():
        _, attention = model(t.test[0].to(device), return_attention=True)
    top = attention.argmax(-1).cpu()       # (questions, hops): the slot read most
    hits, chance, rule = [], [], []
    for qa, slots in zip(t.test_qa, top):
        if not qa.supporting:              # its facts fell out of the memory
            continue
        supporting = {t.memory - len(qa.facts) + i for i in qa.supporting}
        hits.append([slot.item() in supporting for slot in slots])
        chance.append(len(supporting) / len(qa.facts))
        rule.append(newest_mention(qa) in qa.supporting)
    return np.mean(hits, axis=0), float(np.mean(chance)), float(np.mean(rule))


hop_hits, hit_chance, hit_rule = support_hits(1)
for k, rate in enumerate(hop_hits, start=1):
    print(f"hop {k}: most attention on a supporting fact, {rate:.1%} of the questions")
print(f"a uniformly random memory: {hit_chance:.1%}; newest mention: {hit_rule:.1%}")
claim("attention_on_support_minus_chance", hop_hits.mean() - hit_chance, "> 0.5",
      tol=0.04, parts={"hops": hop_hits.mean(), "chance": hit_chance, "rule": hit_rule,
                       "best_hop": hop_hits.max()},
      says="task 1: the most-attended memory is a supporting fact far above chance")
claim("rule_minus_best_hop", hit_rule - hop_hits.max(), "< 0.1", tol=0.04,
      parts={"rule": hit_rule, "best_hop": hop_hits.max()},
      says="task 1: the best hop comes within a tenth of the newest-mention rule")

# %% [markdown]
# On task 1, averaged over the three hops, the most-attended memory is a supporting fact for
# {glue:text}`attention_on_support_minus_chance__hops:.3f` of the questions, against
# {glue:text}`attention_on_support_minus_chance__chance:.3f` for a sentence picked at random:
# trained on answers alone, the attention has learned to look where the answer is. The
# hand-written rule is a much stronger baseline: the newest sentence that names the question's
# person is a supporting fact for {glue:text}`rule_minus_best_hop__rule:.3f` of the questions
# (on task 1 it is, by the task's construction, the sentence that answers). The attention's
# best hop comes within a tenth of it ({glue:text}`rule_minus_best_hop__best_hop:.3f`): from
# answers alone, it has learned nearly the rule a programmer would write for this task.

# %% [markdown]
# ## Where is the jar?
#
# Now the talk's own examples. We write them in the bAbI format and read them with the same
# reader. Our simulator has no "home" among its places, so "Bob went home" becomes "Bob went
# to the kitchen"; if you run on the official files, the talk's names and places are swapped
# for ones the official vocabulary knows.

# %%
TALK_JAR = ("1 Bob went to the kitchen.\n2 Tim went to the junkyard.\n"
            "3 Bob picked up the jar there.\n4 Bob went to the town.\n"
            "5 Where is the jar?\ttown\t3 4\n")
TALK_ROUTE = ("1 The office is north of the yard.\n"
              "2 The bathroom is north of the office.\n"
              "3 The yard is west of the kitchen.\n"
              "4 How do you go from the office to the kitchen?\ts,e\t1 3\n")
OFFICIAL_WORDS = {"Bob": "Daniel", "Tim": "John", "jar": "milk", "junkyard": "garden",
                  "town": "office", "yard": "garden"}


def talk_question(text: str, t: Task) -> QA:
    """The talk's story as one bAbI question, with words the task's vocabulary knows."""
    for word, known in OFFICIAL_WORDS.items():
        if word.lower() not in t.vocab.index:
            text = re.sub(rf"\b{word}\b", known, text)
    return questions(parse_babi(text, source="the talk"))[0]


def read_with_attention(task: int, qa: QA, model=None,
                        t=None) -> tuple[str, torch.Tensor]:
    """A memory network's answer to one question, and its attention (facts × hops)."""
    t, model = t or tasks[task], model or memn2n[task]
    x, _ = vectorize([qa], t.vocab, t.memory, t.length)
    model.eval()
    with torch.no_grad():
        logits, attention = model(x.to(device), return_attention=True)
    n = len(qa.facts)
    answer = t.vocab.words[logits.argmax(-1).item()]
    return answer, attention[0, :, t.memory - n:].T.float().cpu()


talk = {2: talk_question(TALK_JAR, tasks[2]), 19: talk_question(TALK_ROUTE, tasks[19])}

# %%
def draw_attention(task: int, qa: QA, last: int = 12):
    """Attention over the story's last sentences at every hop; ★: supporting facts."""
    answer, attention = read_with_attention(task, qa)
    labels = [("★ " if i in qa.supporting else "") + fact
              for i, fact in enumerate(qa.facts)]
    verdict = ("" if qa.answer == "?" else "✓" if answer == qa.answer
               else f"✗ (true: {qa.answer})")
    return plot_attention(attention[-last:], labels[-last:],
                          [f"hop {k + 1}" for k in range(P.hops)],
                          title=f"{qa.question} → {answer} {verdict}")


# %% mystnb={"figure": {"caption": "The memory network's attention for the talk's jar question (task 2), hop by hop. Stars mark the supporting facts; the title gives the network's answer and a tick or a cross.", "name": "fig-05-talk-jar"}, "image": {"alt": "A heatmap of attention weights: the four sentences of the jar story against three hops, with the two supporting facts starred and the network's answer in the title."}}
fig = draw_attention(2, talk[2])
plt.show()

# %% mystnb={"figure": {"caption": "The memory network's attention for the talk's route question (task 19), hop by hop, with its answer.", "name": "fig-05-talk-route"}, "image": {"alt": "A heatmap of attention weights: the three sentences of the route story against three hops, two of them starred as supporting facts; the title gives the network's answer and, when it is wrong, the true one."}}
fig = draw_attention(19, talk[19])
plt.show()

# %% [markdown]
# **What to notice.** One hand-written story proves little either way: the figures show what
# this run does with the talk's two questions, and they change from seed to seed (the task-2
# model is only partly trained). The measurement over task 1's test set above is what we
# claim: the hops' attention lands on supporting facts far more often than a random sentence
# would. For the route, one likely reason for a wrong answer: even with the two right
# sentences found, adding up their vectors does not turn them into the two directions.
#
# ## Browse the test stories
#
# Pick a task and a test question, and see what the memory network reads at each hop (the last
# 12 sentences of its memory). You can also type your own question about the same story (with
# words the task knows, e.g. "Where is Mary?" on task 1). With a running kernel the controls are
# live; the figures above and below are the static version.

# %%
import ipywidgets as widgets


def explore(task: int = 2, index: int = 0, own_question: str = "") -> None:
    t = tasks[task]
    qa = t.test_qa[min(index, len(t.test_qa) - 1)]
    if own_question.strip():
        words = tokenize(own_question)
        unknown = [w for w in words if w not in t.vocab.index]
        if unknown or not 0 < len(words) <= t.length:
            print(f"Cannot ask {own_question!r} on task {task}: "
                  + (f"unknown words {unknown}; " if unknown
                     else f"use 1 to {t.length} words; ")
                  + f"the task knows: {', '.join(t.vocab.words[2:])}")
            return
        qa = QA(qa.facts, own_question.strip(), answer="?", supporting=())
    draw_attention(task, qa)
    plt.show()


widgets.interact(
    explore, task=widgets.Dropdown(options=list(tasks), value=2, description="task"),
    index=widgets.IntSlider(0, 0, len(tasks[2].test_qa) - 1, description="question"),
    own_question=widgets.Text("", description="or ask",
                              placeholder="Where is the jar?"));

# %% mystnb={"figure": {"caption": "Static version of the widget: the first test question of task 2 whose supporting facts are among the last 12 sentences and that the memory network gets wrong, with its attention at every hop.", "name": "fig-05-test-attention"}, "image": {"alt": "A heatmap of attention weights over the last sentences of a test story of task 2 against three hops; stars mark the supporting facts and the title shows the network's wrong answer next to the true one."}}
wrong = predictions[2]["MemN2N"] != tasks[2].test[1]
mistake = next(qa for qa, miss in zip(tasks[2].test_qa, wrong.tolist())
               if miss and qa.supporting and len(qa.facts) - min(qa.supporting) <= 12)
fig = draw_attention(2, mistake)
plt.show()

# %% [markdown]
# **What to notice.** Mistakes show how the model works. Compare the hops with the starred facts:
# which hop went astray? Knowing which of a person's moves is the *latest* relies on the temporal
# encoding, learned from 900 questions; task 3 needs that bookkeeping for every question.

# %% [markdown]
# ## The Neural Reasoner
#
# The memory network *reads* one memory per hop and adds it to the question. The Neural Reasoner
# {cite}`peng2015towards` lets the question and every fact *interact*, in layers:
#
# 1. **Encoding.** The question and each fact are encoded by the same recurrent network (a GRU
#    {cite}`cho2014learning`) into vectors $q^{(0)}$ and $f_k^{(0)}$.
# 2. **Reasoning layers.** In layer $\ell$, a small network reads each pair
#    $[q^{(\ell-1)}; f_k^{(\ell-1)}]$ and writes *both* an updated fact $f_k^{(\ell)}$ and a
#    fact-specific version of the question $q_k^{(\ell)}$; pooling over the facts gives the next
#    question, $q^{(\ell)} = \max_k q_k^{(\ell)}$. Facts are rewritten in the light of the question,
#    layer after layer, instead of being read as they are.
# 3. **Answering.** A softmax layer reads the final question vector.
#
# The paper's abstract reports that the Neural Reasoner "improves the accuracy on Path
# Finding(10K) from 33.4% [6] to over 98%", its reference [6] being one of the "existing
# neural reasoning systems" it compares with {cite}`peng2015towards`. We train our compact version on task 19's 10k set
# (10,000 training questions from the same source, the same 1,000 test questions) and, for a
# comparison at equal data and equal budget, a memory network on the same 10,000 questions
# for the same number of epochs (`P.reasoner_epochs`; the memory network's include its
# linear start), in the same batches.
# Sentences are padded to one length, and left-padded like the LSTM's input, so that the
# GRU's last state comes right after each sentence's last word. As in the memory network,
# `distinct_rows` lets each batch encode every distinct sentence once (a task-19 fact is one
# of a few hundred): the same model, much faster on a CPU.

# %%
class NeuralReasoner(nn.Module):
    """Peng et al. 2015, compact: a GRU encoder, layers of question–fact interaction."""

    def __init__(self, vocab_size: int, dim: int = 32, hidden: int = 64,
                 layers: int = 2):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.encoder = nn.GRU(dim, hidden, batch_first=True)
        self.layers = nn.ModuleList(                  # DNN_ℓ: [q; f_k] -> [q_k; f_k']
            nn.Sequential(nn.Linear(2 * hidden, 2 * hidden), nn.ReLU(),
                          nn.Linear(2 * hidden, 2 * hidden), nn.ReLU())
            for _ in range(layers))
        self.answer = nn.Linear(hidden, vocab_size)

    def encode(self, words):                # (sentences, words) -> (sentences, hidden)
        real = words != 0                   # left padding, like the LSTM's
        words = words.gather(1, real.to(torch.int8).sort(dim=1, stable=True).indices)
        _, state = self.encoder(self.embed(words))
        return state[-1]

    def forward(self, x):                   # x: (batch, facts + 1, words)
        rows, which = distinct_rows(x.flatten(0, 1))   # each distinct sentence once
        vectors = self.encode(rows)[which].unflatten(0, x.shape[:2])
        facts, q = vectors[:, :-1], vectors[:, -1]
        present = (x[:, :-1] != 0).any(-1, keepdim=True)  # real facts, not padding
        for layer in self.layers:
            pair = torch.cat([q.unsqueeze(1).expand_as(facts), facts], -1)
            q_k, facts = layer(pair).chunk(2, -1)
            q = q_k.masked_fill(~present, float("-inf")).max(1).values  # pool facts
        return self.answer(q)


# %%
paths = load_babi(tasks=(19,), size=P.reasoner_size, seed=0)
routes = prepare(19, paths)
seed_everything(1000 * P.seed + 19)
reasoner = NeuralReasoner(len(routes.vocab))
reasoner_history = fit(reasoner, routes.train, routes.val, epochs=P.reasoner_epochs,
                       lr=5e-3, batch_size=P.reasoner_batch, device=device,
                       seed=1000 * P.seed + 19, keep_best=True, desc="Neural Reasoner")
memn2n_routes, _ = train_memn2n(19, routes, epochs=P.memn2n_10k_epochs,   # one start
                                batch_size=P.reasoner_batch, restarts=1,
                                linear_epochs=P.memn2n_10k_linear_epochs)

# %%
route_answers = {name: (predict(model, routes.test[0]).argmax(-1) == routes.test[1])
                 .float().mean().item()
                 for name, model in (("reasoner", reasoner), ("memn2n", memn2n_routes))}
route_floor = torch.bincount(routes.train[1]).argmax()       # from training answers
route_majority = (routes.test[1] == route_floor).float().mean()
print(f"task 19, {P.reasoner_size} training set: Neural Reasoner "
      f"{route_answers['reasoner']:.1%}, memory network {route_answers['memn2n']:.1%}, "
      f"most frequent answer {route_majority.item():.1%}")
claim("reasoner_minus_memn2n_10k", route_answers["reasoner"] - route_answers["memn2n"],
      "> 0.05", tol=0.04, parts={"reasoner": route_answers["reasoner"],
                                    "memn2n": route_answers["memn2n"],
                                    "majority": route_majority.item()},
      says="at equal data (10k) and budget the Neural Reasoner beats the memory "
           "network, task 19")
glue("reasoner_parameters", f"{count_parameters(reasoner):,}")
glue("memn2n_routes_parameters", f"{count_parameters(memn2n_routes):,}")

# %% mystnb={"figure": {"caption": "The Neural Reasoner learning path finding from the 10k set: accuracy per epoch on the training questions and the held-out ones.", "name": "fig-05-reasoner"}, "image": {"alt": "A line chart of accuracy against epoch for the Neural Reasoner on task 19, with a training curve, a validation curve and a dashed line at the most frequent answer's rate."}}
fig, ax = plt.subplots(figsize=(5.5, 3.2))
for key, label in (("train_accuracy", "training"), ("val_accuracy", "validation")):
    values = reasoner_history[key]
    ax.plot(range(1, len(values) + 1), values, "o-", label=label)
ax.axhline(route_majority.item(), ls="--", color="grey", label="most frequent answer")
ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
ax.set_xlabel("epoch"); ax.set_ylabel("accuracy")
ax.grid(alpha=0.3); ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# **What to notice.** At equal data and after the same short budget, the Neural Reasoner
# scores {glue:text}`reasoner_minus_memn2n_10k__reasoner:.3f` on path finding, the memory
# network {glue:text}`reasoner_minus_memn2n_10k__memn2n:.3f`, against
# {glue:text}`reasoner_minus_memn2n_10k__majority:.3f` for the most frequent answer (on every
# seed we tried, the Neural Reasoner leads by more than five points). It is also much the
# larger model: {glue:text}`reasoner_parameters` parameters against the memory network's
# {glue:text}`memn2n_routes_parameters`. Neither model is trained to the end: the CPU
# profile stops after `P.reasoner_epochs` epochs, far from the paper's result (the figure
# shows the curves); the GPU profile trains longer. And the talk's route question, for both models
# trained on the 10k set:

# %%
route_qa = talk_question(TALK_ROUTE, routes)
x, _ = vectorize([route_qa], routes.vocab, routes.memory, routes.length)
reasoner.eval()
with torch.no_grad():
    route_answer = routes.vocab.words[reasoner(x.to(device)).argmax(-1).item()]
memn2n_answer = read_with_attention(19, route_qa, memn2n_routes, routes)[0]
print(f"{' '.join(route_qa.facts)} {route_qa.question} → Neural Reasoner: "
      f"{route_answer}, memory network: {memn2n_answer} (true: {route_qa.answer})")

# %% [markdown]
# ## Exercises
#
# 1. **One hop is not enough.** Train the memory network on task 2 with `hops=1`. What happens to
#    the accuracy, and how often does the single hop's attention land on a supporting fact
#    (`support_hits`)?
# 2. **Switch off the encodings.** Replace the position encoding by a plain bag of words (all
#    weights 1) and train task 19 and task 2 again. Which task cares, and why?
# 3. **Give the LSTM the question first.** Feed the question *before* the story. Does knowing what
#    to look for help the LSTM on task 1 and task 2?
# 4. **More data.** Load task 2 with `size="10k"` (`load_babi(tasks=(2,), size="10k")`) and train
#    both models again. Which one gains more from ten times the data?
# 5. **The Neural Reasoner at 1k.** Train it on task 19's 1k set (`prepare(19)` gives it).
#    Plot training against validation accuracy: what does the gap tell you?
#
# ```{dropdown} Hints
# 1. `MemN2N(..., hops=1)`. One hop can find *who* picked up the jar or *where* someone went, but
#    it must do both at once. Compare the accuracy and `support_hits` with three hops.
# 2. Set `model.pe.fill_(1.0)` after building the model. Task 19 needs word order ("the office is
#    north of the yard" against "the yard is north of the office"): without it the two sentences
#    become the same bag of words. Task 2's sentences say who did what with different words.
# 3. Concatenate `[question, story]` in `LSTMReader.forward`. The state then knows which person or
#    object to track while it reads; on task 2 it still has to remember every hand-over.
# 4. `prepare(2, load_babi(tasks=(2,), size="10k", questions_per_story=STORY_QUESTIONS))`, then
#    the training cells with `tasks[2]` replaced. Score both on the same test questions.
# 5. `fit(NeuralReasoner(len(tasks[19].vocab)), tasks[19].train, tasks[19].val, epochs=40,
#    lr=3e-3)`. A training curve that climbs while the validation curve stays flat means the
#    model memorises its 900 stories instead of learning to combine two directions. Peng et al.
#    added auxiliary tasks (reconstructing the facts) to help in this small-data setting.
# ```
#
# ## References
#
# The bAbI tasks are from {cite}`weston2015towards`; memory networks from {cite}`weston2014memory`
# and end-to-end memory networks (our model and the paper's table) from {cite}`sukhbaatar2015end`;
# the Neural Reasoner from {cite}`peng2015towards`; the LSTM from {cite}`hochreiter1997long` and
# the GRU from {cite}`cho2014learning`. Full entries are in the
# [bibliography](../book/bibliography.md).

# %% [markdown]
# ## Claims
#
# Every result the prose above reports is a claim, asserted where it is measured; here are the
# claims of this run:

# %%
report()
