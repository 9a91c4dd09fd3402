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
# # 8. Deep reinforcement learning
#
# Every network so far learned from labelled examples. In reinforcement learning nobody gives the
# answer: an *agent* acts in an *environment*, receives *rewards*, and must discover by trial and
# error which actions pay off in the long run. In this chapter we write out the algorithm that made
# "deep reinforcement learning" famous, the Deep Q-Network (DQN) that learned to play Atari games
# from pixels {cite}`mnih2015human`, and train it on a classic control task, balancing a pole on
# a cart, with three seeds, judged by Gymnasium's threshold, on a CPU
# ({glue:text}`dqn_seconds_per_seed:.0f` s per seed in the stored run). We measure how many
# environment steps each seed needs to reach that standard, and what happens when training goes
# on. Then we look at what changes when the input is an Atari screen, and contrast DQN with a
# policy-gradient method.
#
# **Learning goals**
# - Describe the reinforcement-learning loop (state, action, reward, return, episode) and measure
#   what a random policy achieves.
# - Write DQN from its parts: a Q-network, a replay buffer, a target network, an ε-greedy
#   schedule, the Huber loss and gradient clipping, and say what each one is for.
# - Train it on CartPole-v1 with several seeds, measure the steps each needs to be *solved* by
#   Gymnasium's threshold of 475, averaged over 100 fresh greedy episodes, and see how much
#   seeds differ.
# - Explain how the Nature DQN reads Atari frames: preprocessing, frame stacking and its
#   convolutional Q-network.
# - Contrast value-based learning (DQN) with a policy gradient (REINFORCE).
#
# **Run time**: under two minutes on a 2-core CPU (the stored outputs). CartPole's network is
# tiny, so it trains on the CPU even when a GPU is present; the GPU profile's larger settings
# (more seeds and steps) have not been run yet.

# %% [markdown]
# ## From the talk
#
# The talk's slide is a single title, **"Deep Reinforcement Learning"**, listed among the *other
# commonly used deep networks* after R-CNN and image captioning. Behind it stands one result:
# DeepMind's DQN, a convolutional network that learned 49 Atari games from the screen and the score
# (and, in training, the life counter), and reached human level on many of them
# {cite}`mnih2015human`. It first appeared in 2013, on seven games {cite:p}`mnih2013playing`;
# the target network was added in the 2015 Nature version. This chapter
# - **builds DQN piece by piece** and trains it on CartPole-v1, where a laptop can watch it learn;
# - **checks the result the way the field does**: Gymnasium's `reward_threshold` of 475,
#   averaged over 100 episodes, on several seeds, and puts the settings beside PyTorch's
#   official DQN tutorial and the RL Baselines3 Zoo {cite:p}`raffin2020zoo`;
# - **shows the Atari side** with real Atari frames (through `ale-py`), the Nature paper's frame
#   preprocessing and its convolutional Q-network;
# - **adds a second family** of algorithms, policy gradients, with REINFORCE
#   {cite}`williams1992simple`.

# %% tags=["hide-input"]
# Bootstrap: opened alone (Colab, an Azure VM), this installs the course's helpers
# with what this chapter needs (`demystify[ch08]`); in a checkout it does nothing.
import importlib.util, os
if importlib.util.find_spec("demystify") is None:
    repository = "git+https://github.com/demystify-dl/demystifying-deep-learning"
    source = os.environ.get("DEMYSTIFY_SOURCE", repository)
    # %pip install -q "demystify[ch08] @ {source}"

# %%
from demystify import start
device, P = start("08_deep_rl")   # seeds, picks the device, prints one banner line

# %%
import copy

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from IPython.display import HTML, display
from tqdm.auto import tqdm

from demystify import claim, count_parameters, glue, report, timing
from demystify.hardware import time_call

# On the CPU, `start` left torch one thread: CartPole's networks are tiny, one thread is
# fastest for them, and a fixed thread count keeps every floating-point sum in the same
# order, so a rerun gives the same agent.
print(P)

# %% [markdown]
# ## 1. The environment, and a random policy
#
# **CartPole** {cite}`barto1983neuronlike` is a cart on a track with a pole hinged on top. The
# *state* is four numbers: cart position and velocity, pole angle and angular velocity. The agent
# has two *actions*, push left or push right. Every step the pole stays up earns a *reward* of +1;
# the *episode* ends when the pole tilts beyond 12° or the cart leaves the track, or after 500 steps.
# The *return* of an episode, the sum of its rewards, is therefore the number of steps survived.
# Gymnasium {cite}`towers2024gymnasium`, the maintained successor of OpenAI Gym, also records a
# `reward_threshold` above which the task counts as *solved*:

# %%
# NBVAL_CHECK_OUTPUT
env = gym.make("CartPole-v1")
space = env.observation_space
print(f"state:   {space.shape[0]} numbers ({space.dtype}), "
      f"from {[round(float(v), 3) for v in space.low]} "
      f"to {[round(float(v), 3) for v in space.high]}")
print(f"actions: {env.action_space.n} (0 = push left, 1 = push right)")
print(f"an episode lasts at most {env.spec.max_episode_steps} steps; "
      f"reward_threshold = {env.spec.reward_threshold}")

# %% [markdown]
# One function plays an episode with any *policy* (a function from state to action) and returns
# its return and the states it went through. Seeding `reset` makes every episode reproducible.

# %%
def play(env, policy, seed):
    """Play one episode; return (return, states visited)."""
    state, _ = env.reset(seed=seed)
    states, total, done = [state], 0.0, False
    while not done:
        state, reward, terminated, truncated, _ = env.step(policy(state))
        states.append(state)
        total += reward
        done = terminated or truncated
    return total, np.array(states)


env.action_space.seed(P.seed)
random_policy = lambda state: int(env.action_space.sample())   # ignores the state
random_returns = np.array([play(env, random_policy, seed)[0] for seed in range(100)])
print(f"random policy over 100 episodes: mean return {random_returns.mean():.1f} "
      f"(min {random_returns.min():.0f}, max {random_returns.max():.0f})")
claim("random_mean_return", random_returns.mean(), "< 30", tol=5,
      says="a random policy keeps the pole up for about two dozen steps on average")

# %% [markdown]
# Pushing at random keeps the pole up for {glue:text}`random_mean_return:.1f` steps on average:
# that is the baseline that never learned, and 475 is the goal. Gymnasium registers only the
# threshold; averaging it over 100 episodes is the convention of OpenAI Gym's old leaderboard
# (made for training episodes). Here the 100 episodes are fresh ones played by the greedy policy.
#
# ## 2. DQN, piece by piece
#
# **Q-learning** estimates, for each state $s$ and action $a$, the *action value* $Q(s, a)$: the
# return to expect after taking $a$ in $s$ and acting well afterwards. If we knew $Q$, acting well
# would be easy: take the action with the largest $Q$. The best one, $Q^*$, satisfies the
# *Bellman optimality equation*
#
# $$Q^*(s, a) = \mathbb{E}_{r, s'}\left[\, r + \gamma \max_{a'} Q^*(s', a') \;\middle|\; s, a \right],$$
#
# the reward now plus the discounted ($\gamma < 1$) value of the best action in the next state
# $s'$, averaged over the rewards and next states that taking $a$ in $s$ can lead to (CartPole is
# deterministic, so there is only one; Atari with sticky actions is not).
# A sampled transition gives one draw of the bracket, and regressing on many draws estimates the
# average. DQN {cite}`mnih2015human` makes $Q$ a neural network and trains it to satisfy that
# equation on transitions $(s, a, r, s')$ the agent has experienced. For CartPole the network is a
# small MLP, the same size as in PyTorch's DQN tutorial: four numbers in, one value per action out.

# %%
class QNetwork(nn.Module):
    """Q(s, ·): one estimated return per action, computed from the state."""
    def __init__(self, n_inputs: int = 4, n_actions: int = 2, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_inputs, hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, n_actions))

    def forward(self, state):
        return self.net(state)


def greedy(q):
    """The policy that takes the action with the largest Q-value."""
    def policy(state):
        with torch.no_grad():
            return int(q(torch.as_tensor(state)).argmax())
    return policy

# %% [markdown]
# Three ideas make this stable enough to work {cite}`mnih2015human`:
#
# 1. **Experience replay.** Consecutive steps of one episode are almost identical, a poor
#    minibatch for SGD. The agent stores its transitions in a *replay buffer* and trains on random
#    samples of it, which decorrelates them and reuses each experience many times. The idea is
#    older than DQN: experience replay comes from {cite:t}`lin1992self`.
# 2. **A target network.** The target $r + \gamma \max_{a'} Q(s', a')$ depends on the network
#    being trained, so every update moves the goal too. DQN computes targets with a *copy* of the
#    network that is refreshed every $C$ updates ($C$ = 10,000 in the Nature DQN, 250 here).
# 3. **ε-greedy exploration.** An agent that always takes its current best action never finds
#    better ones. With probability ε it acts at random; ε decays from 1 (pure exploration) to a
#    small floor as the estimates improve.
#
# The buffer keeps transitions in preallocated tensors, so sampling a minibatch is one indexing
# operation. It stores whether $s'$ was *terminal* (the pole fell): there is no future after that.

# %%
class ReplayBuffer:
    """The last `capacity` transitions (s, a, r, s', terminal); uniform minibatches."""
    def __init__(self, capacity: int, n_inputs: int, seed: int = 0):
        self.states = torch.zeros(capacity, n_inputs)
        self.actions = torch.zeros(capacity, dtype=torch.long)
        self.rewards = torch.zeros(capacity)
        self.next_states = torch.zeros(capacity, n_inputs)
        self.terminal = torch.zeros(capacity)
        self.capacity, self.size, self.position = capacity, 0, 0
        self.generator = torch.Generator().manual_seed(seed)

    def push(self, state, action, reward, next_state, terminal):
        i = self.position
        self.states[i] = torch.as_tensor(state)
        self.next_states[i] = torch.as_tensor(next_state)
        self.actions[i], self.rewards[i] = action, reward
        self.terminal[i] = float(terminal)
        self.position = (i + 1) % self.capacity        # overwrite the oldest when full
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int):
        i = torch.randint(self.size, (batch_size,), generator=self.generator)
        return (self.states[i], self.actions[i], self.rewards[i], self.next_states[i],
                self.terminal[i])


def epsilon(step: int, start: float, end: float, decay_steps: int) -> float:
    """Linear decay from `start` to `end` over `decay_steps` steps, then constant."""
    return max(end, start - (start - end) * step / decay_steps)

# %% [markdown]
# One DQN update: predict $Q(s, a)$ for the actions actually taken, compute the targets with the
# frozen copy, and regress one onto the other. The loss is the **Huber loss**, quadratic for
# small errors and linear for large ones, so a single surprising transition cannot produce a huge
# gradient; the Nature DQN got the same effect by clipping the error to $[-1, 1]$. **Gradient
# clipping** caps the size of each step for the same reason.

# %%
def dqn_update(q, target_q, optimizer, batch, gamma: float, max_grad_norm: float):
    """One gradient step on a minibatch of transitions; returns the loss."""
    states, actions, rewards, next_states, terminal = batch
    with torch.no_grad():   # r + γ max_a' Q_target(s', a'); just r after a terminal
        best_next = target_q(next_states).max(dim=1).values
        target = rewards + gamma * (1.0 - terminal) * best_next
    predicted = q(states).gather(1, actions[:, None]).squeeze(1)   # Q(s, a) as taken
    loss = F.smooth_l1_loss(predicted, target)                    # the Huber loss
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(q.parameters(), max_grad_norm)
    optimizer.step()
    return loss.item()

# %% [markdown]
# The settings, next to those of PyTorch's official DQN tutorial {cite}`paszke2017dqn` (the same
# network, trained for a fixed 600 episodes on a GPU, 50 on a CPU) and of the RL Baselines3 Zoo
# {cite:p}`raffin2020zoo`
# ([`hyperparams/dqn.yml`](https://github.com/DLR-RM/rl-baselines3-zoo/blob/master/hyperparams/dqn.yml),
# entry `CartPole-v1`, marked "Almost Tuned": `n_timesteps: 5e4`, `learning_rate: 2.3e-3`,
# `batch_size: 64`, `train_freq: 256`, `gradient_steps: 128`, `net_arch=[256, 256]`). Ours
# take from the Nature DQN one update every 4 environment steps and a periodic hard copy of
# the target network, with minibatches of 256 transitions; ε reaches its floor only after
# 10,000 of the 12,000 steps. They were picked in a few short trial runs that fit this
# chapter's CPU budget, on seeds 0 and 1, which are also reported below: a selection on
# reported seeds, so read the table with that in mind. A later search on seeds 100 to 102
# (100 to 104 for one setting), which are not reported, tried ε decayed over 3,000 to 6,000
# steps, a smaller replay buffer that is overwritten, soft target updates, a decaying
# learning rate and an update at every step; within 12,000 steps none solved more of those
# seeds than these settings did, so the settings stayed as they were.[^zoo-target]
#
# [^zoo-target]: In Stable-Baselines3, which the Zoo runs, `target_update_interval: 10` counts
#     environment steps, and the network is not updated while the agent collects its 256
#     steps; so the target copy is in effect refreshed once per phase of 128 updates.

# %%
# NBVAL_CHECK_OUTPUT
import pandas as pd

DQN = dict(hidden=128, buffer_size=P.buffer_size, batch_size=P.batch_size, gamma=0.99,
           lr=P.lr, eps_start=1.0, eps_end=P.eps_end, eps_decay_steps=P.eps_decay_steps,
           learning_starts=P.learning_starts, target_every=P.target_every,
           train_every=P.train_every, max_grad_norm=10.0, steps=P.dqn_steps,
           eval_every=P.eval_every)
ours = ["4-128-128-2 MLP", f"{DQN['buffer_size']:,}", f"{DQN['batch_size']}",
        f"{DQN['gamma']}", f"Adam, {DQN['lr']:g}",
        f"{DQN['eps_start']:g} → {DQN['eps_end']:g}, linear over "
        f"{DQN['eps_decay_steps']:,} steps",
        f"every {DQN['train_every']} env steps",
        f"hard copy every {DQN['target_every']} updates",
        f"Huber; gradient norm clipped at {DQN['max_grad_norm']:g}",
        f"{DQN['steps']:,} env steps per seed"]
tutorial = ["4-128-128-2 MLP", "10,000", "128", "0.99", "AdamW, 1e-4 (3e-4 later)",
            "0.9 → 0.05 (0.01), exponential", "every env step",
            "soft update, τ = 0.005 every step",
            "Huber; gradient values clipped at 100",
            "600 episodes (GPU), 50 (CPU)"]
zoo = ["4-256-256-2 MLP", "100,000", "64", "0.99", "Adam, 2.3e-3",
       "1 → 0.04, linear over 8,000 steps", "128 updates every 256 env steps",
       "hard copy every 10 env steps", "Huber; gradient norm clipped at 10",
       "50,000 env steps"]
settings = pd.DataFrame({"PyTorch DQN tutorial": tutorial, "RL Zoo (CartPole-v1)": zoo,
                         "this chapter": ours},
                        index=["Q-network", "replay buffer", "minibatch", "discount γ",
                               "optimizer, learning rate", "exploration ε", "updates",
                               "target network", "loss", "training length"])
print(settings.to_string())

# %% [markdown]
# ## 3. Training, and when is it solved?
#
# The loop below is the whole algorithm: act ε-greedily, store the transition, every 4 steps
# learn from a random minibatch, refresh the target network now and then. Note `terminated`
# versus `truncated`: when the pole falls there is no future reward, but when the 500-step limit
# cuts an episode short the future was still there, so only `terminated` zeroes the bootstrap
# term.
#
# Training returns are noisy because of ε, so the agent is judged by its *greedy* policy (no
# exploration). **Steps to solve**, exactly: every 500 environment steps the greedy policy plays
# 100 episodes whose start states are drawn with seeds that training never uses, fresh ones at
# each checkpoint; the first checkpoint whose mean return is at least 475 (Gymnasium's
# threshold) gives the number of environment steps to solve. Gymnasium's own
# numpy-vectorised CartPole plays the 100 episodes side by side, which makes the check cheap.

# %%
eval_env = gym.make_vec("CartPole-v1", num_envs=100,
                        vectorization_mode="vector_entry_point")


def greedy_score(q, seed: int) -> float:
    """Mean return of `q`'s greedy policy over 100 episodes whose start states are
    drawn from one generator seeded with `seed`; `q` maps a batch of states to
    one score per action."""
    states, _ = eval_env.reset(seed=seed)
    total, running = np.zeros(100), np.ones(100, dtype=bool)
    while running.any():
        with torch.no_grad():
            actions = q(torch.as_tensor(states)).argmax(1).numpy()
        states, rewards, terminated, truncated, _ = eval_env.step(actions)
        total += rewards * running            # an episode that ended earns nothing more
        running &= ~(terminated | truncated)
    return float(total.mean())

# %%
def train_dqn(cfg: dict, seed: int):
    """DQN for cfg["steps"] env steps; greedy score on 100 fresh episodes at times."""
    torch.manual_seed(seed)
    env, rng = gym.make("CartPole-v1"), np.random.default_rng(seed)
    env.action_space.seed(seed)
    q = QNetwork(hidden=cfg["hidden"])
    target_q = copy.deepcopy(q)
    optimizer = torch.optim.Adam(q.parameters(), lr=cfg["lr"], fused=True)
    buffer = ReplayBuffer(cfg["buffer_size"], 4, seed)
    log = dict(steps=[], scores=[], best=None, best_score=-1.0, updates=0)
    state, _ = env.reset(seed=seed)
    for step in range(1, cfg["steps"] + 1):
        eps = epsilon(step, cfg["eps_start"], cfg["eps_end"], cfg["eps_decay_steps"])
        action = env.action_space.sample() if rng.random() < eps else greedy(q)(state)
        next_state, reward, terminated, truncated, _ = env.step(action)
        buffer.push(state, action, reward, next_state, terminated)
        state = env.reset()[0] if terminated or truncated else next_state
        if buffer.size >= cfg["learning_starts"] and step % cfg["train_every"] == 0:
            dqn_update(q, target_q, optimizer, buffer.sample(cfg["batch_size"]),
                       cfg["gamma"], cfg["max_grad_norm"])
            log["updates"] += 1
            if log["updates"] % cfg["target_every"] == 0:
                target_q.load_state_dict(q.state_dict())
        if step % cfg["eval_every"] == 0:   # fresh evaluation seeds at every checkpoint
            score = greedy_score(q, seed=1_000_000 * (seed + 1) + 100 * step)
            log["steps"].append(step), log["scores"].append(score)
            if score > log["best_score"]:
                log["best_score"], log["best"] = score, copy.deepcopy(q)
    return q, log

# %% [markdown]
# Three seeds, `P.seed` and the two after it, each trained for the same fixed number of steps.
# Training does not stop at "solved": it keeps going, so we can see what happens afterwards.
# The course's `time_call` times the whole run as one call on the wall clock.

# %%
dqn_seeds = [P.seed + i for i in range(P.dqn_seeds)]


def train_seeds() -> dict:
    """Train one agent per seed; returns {seed: (final network, log)}."""
    runs = {}
    for seed in dqn_seeds:
        runs[seed] = train_dqn(DQN, seed)
        print(f"seed {seed}: {runs[seed][1]['updates']:,} updates, "
              f"best greedy score {runs[seed][1]['best_score']:.1f}")
    return runs


trained = time_call(train_seeds, warmup=0, calls=1)     # one call, no warm-up
runs, dqn_seconds = trained.result, trained.seconds / len(dqn_seeds)
print(f"{dqn_seconds:.0f} s per seed on this machine's CPU")

# %% [markdown]
# Per seed: the steps to solve (the first checkpoint at 475 or more), the best checkpoint, the
# score at the end of training, and the best checkpoint tested again on another 100 unseen
# episodes (start states drawn with seed 10,000): picking the best of many noisy checkpoints
# flatters it, a second test does not.

# %%
rows = {}
for seed, (q_final, log) in runs.items():
    scores = np.array(log["scores"])
    solved = np.flatnonzero(scores >= env.spec.reward_threshold)
    rows[f"seed {seed}"] = {
        "steps to solve": f"{log['steps'][solved[0]]:,}" if len(solved)
        else f"not within {DQN['steps']:,}",
        "checkpoints ≥ 475": f"{len(solved)} of {len(scores)}",
        "best score (at step)":
            f"{scores.max():.1f} ({log['steps'][scores.argmax()]:,})",
        "final score": f"{scores[-1]:.1f}",
        "best checkpoint, retested": f"{greedy_score(log['best'], seed=10_000):.1f}"}
dqn_table = pd.DataFrame(rows).T
dqn_table

# %% mystnb={"figure": {"caption": "DQN on CartPole-v1, three seeds: the greedy policy's mean return over 100 fresh unseen episodes at every checkpoint, against environment steps, with Gymnasium's threshold and the random policy's mean.", "name": "fig-08-dqn-curve"}, "image": {"alt": "Three jagged lines of greedy score against environment steps, one per seed, rising from near zero within a few thousand steps and then moving up and down between checkpoints, with a dashed threshold line near the top and a dotted random-policy line near the bottom."}}
fig, ax = plt.subplots(figsize=(7, 3.4))
for seed, (_, log) in runs.items():
    ax.plot(log["steps"], log["scores"], marker=".", label=f"seed {seed}")
ax.axhline(env.spec.reward_threshold, color="k", ls="--", lw=1, label="solved (475)")
ax.axhline(random_returns.mean(), color="C3", ls=":", lw=1, label="random policy")
ax.set(xlabel="environment steps", ylabel="greedy mean return (100 episodes)",
       ylim=(0, 520), title="DQN on CartPole-v1: the greedy policy at each checkpoint")
ax.legend(fontsize=8, loc="lower right")
fig.tight_layout()
plt.show()

# %% [markdown]
# A random policy is a baseline that never learned. A fairer one is what the physics gives for
# free: a control engineer's two-line rule that pushes the cart towards the side the pole is
# falling to, right when $\theta + 0.5\,\dot\theta > 0$ (angle plus half the angular velocity),
# left otherwise. It is scored exactly like the network, on the same 100 retest episodes.

# %%
def hand_rule(states):
    """Scores (left, right) for a batch of states: right wins when θ + 0.5 θ̇ > 0."""
    right = (states[:, 2] + 0.5 * states[:, 3] > 0).float()
    return torch.stack([1 - right, right], 1)


hand_score = greedy_score(hand_rule, seed=10_000)
claim("hand_rule_score", hand_score, ">= 475", tol=0.005,
      says="the two-line hand rule solves CartPole on the 100 retest episodes")

# %% [markdown]
# What holds on every seed we ran (seeds 0 to 6, in the five runs of three seeds that the
# robustness check makes): every seed's best checkpoint is far above the random policy, and
# retested on new episodes it stays far above it. Against the hand rule it is the other way
# round: the worst seed's best checkpoint stays below it. Both claims compare the *worst* seed.
# Tolerances: a run on another machine takes other rounding paths, and RL training is chaotic
# enough that its scores then differ like another seed's, so the score tolerances are about
# twice their standard deviation over seeds 0 to 4.

# %%
best_retest = {s: greedy_score(log["best"], seed=10_000)
               for s, (_, log) in runs.items()}
worst_best = min(best_retest.values())
claim("dqn_worst_seed_best_minus_random", worst_best - random_returns.mean(), "> 150",
      tol=40, parts={"dqn": worst_best, "random": random_returns.mean()},
      says="every seed's best checkpoint, retested on 100 unseen episodes, beats the "
           "random policy by more than 150 steps")
claim("dqn_worst_seed_best_minus_hand_rule", worst_best - hand_score, "< 0", tol=40,
      parts={"dqn": worst_best, "hand_rule": hand_score},
      says="the worst seed's best checkpoint, retested, scores below the hand rule")
final_scores = [log["scores"][-1] for _, log in runs.values()]
claim("dqn_mean_final_score", np.mean(final_scores), "< 475", tol=30,
      parts={"best_mean": np.mean([log["best_score"] for _, log in runs.values()])},
      says="averaged over the seeds, the policy at the end of training is below the "
           "threshold")
timing("dqn_seconds_per_seed", dqn_seconds, says="DQN training time per seed, this CPU")

# %% [markdown]
# Did every seed solve? The goal set for this chapter was every seed solved, with a median of
# at most 25,000 environment steps (half the RL Zoo's budget). The next claim counts the seeds
# of this run that reached 475 at some checkpoint.

# %%
first_solved = {}          # seed → index of its first checkpoint at 475 or more
for seed, (_, log) in runs.items():
    solved = np.flatnonzero(np.array(log["scores"]) >= env.spec.reward_threshold)
    if len(solved):
        first_solved[seed] = solved[0]
n_solved = len(first_solved)
claim("dqn_seeds_solved_share", n_solved / len(runs), "< 1", tol=0.34,
      parts={"solved": n_solved, "seeds": len(runs)},
      says="not every seed solves within the budget of environment steps")
eps_at_solve = [epsilon(runs[s][1]["steps"][i], DQN["eps_start"], DQN["eps_end"],
                        DQN["eps_decay_steps"]) for s, i in first_solved.items()]
glue("dqn_eps_at_first_solve", min(eps_at_solve, default=float("nan")))

# %% [markdown]
# And after a seed has solved? Training goes on for the same fixed budget, and the greedy score
# moves on too. The next claim measures, over the seeds that solved in this run, the largest
# share of *later* checkpoints still at 475 or more: below one means that no seed which solved
# stayed solved at every later checkpoint. In a run where no seed solves it holds vacuously
# (the share is then set to zero); its tolerance allows about one later checkpoint in ten.

# %%
stayed = []
for seed, i in first_solved.items():
    scores = np.array(runs[seed][1]["scores"])
    if i + 1 < len(scores):                   # later checkpoints at 475 or more
        stayed.append(np.mean(scores[i + 1:] >= env.spec.reward_threshold))
claim("dqn_solved_stays_solved_fraction", max(stayed, default=0.0), "< 1", tol=0.1,
      parts={"seeds_solved": n_solved},
      says="no seed that reached 475 stayed at 475 or more at every later checkpoint")

# %% [markdown]
# **What to notice.** The goal is **not met**. In this run
# {glue:text}`dqn_seeds_solved_share__solved:.0f` of
# {glue:text}`dqn_seeds_solved_share__seeds:.0f` seeds reached the threshold within the
# budget; over the five runs of the robustness check, which cover seeds 0 to 6, only seeds 0, 1
# and 6 did, so the median steps to solve is above the budget. The budget, 12,000 steps per
# seed, is itself below the goal's 25,000: that is what fits this chapter's CPU time, so the
# goal could not be met as set. The trial runs on seeds outside 0 to 6 (section 2) found no
# setting that solved more seeds within the same budget.
#
# No seed that solved stayed there at every later checkpoint; in fact, in every run of the
# robustness check, no seed that solved ever returned to 475 at a later checkpoint (in the runs
# where no seed solved, the claim above holds only vacuously). The greedy score jumps between
# checkpoints. Every update changes the policy in all states at once, and ε is still falling
# (about {glue:text}`dqn_eps_at_first_solve:.1f` when a seed of this run first solved), so the
# data the network learns from keep changing too: the "after solved" part of these curves is
# mostly the period in which exploration is still being turned down, not training at a fixed
# data regime. By the end of training the seeds average {glue:text}`dqn_mean_final_score:.1f`,
# below the threshold, against {glue:text}`dqn_mean_final_score__best_mean:.1f` for their best
# checkpoints. That is why the best checkpoint is kept, and retested on new episodes before it
# is trusted. Large variance across seeds is well documented for deep RL in general
# {cite:p}`henderson2018deep`, there on policy-gradient methods. Q-learning that combines
# function approximation, bootstrapping and off-policy data is known to be unstable: the
# "deadly triad" of {cite:t}`sutton2018reinforcement` (section 11.3), studied in deep
# Q-learning by {cite:t}`vanhasselt2018deep`.
# And the hand rule is a reminder of what DQN is for: it learns from rewards alone what a
# two-line rule gets from the physics, on a task where the rule happens to be easy to write.

# %% [markdown]
# ## 4. Watch it
#
# The best checkpoint of seed `P.seed` (the first row of the table) plays one more unseen
# episode (a single environment, seed 10,000), drawn frame by frame from the state alone (no
# game window needed): the cart's position and the pole's angle are all it takes. Every tenth
# step is shown, at twice the real speed.

# %%
import re
from matplotlib import animation


def animate_cartpole(states, every: int = 10, title: str = "") -> str:
    """A small looping HTML animation of CartPole states (x, ẋ, θ, θ̇)."""
    fig, ax = plt.subplots(figsize=(4, 1.8), dpi=64)
    ax.set(xlim=(-2.4, 2.4), ylim=(-0.3, 1.3), yticks=[], xlabel="cart position")
    ax.axhline(0, color="0.5", lw=1)
    cart = plt.Rectangle((0, -0.1), 0.4, 0.2, color="C0")
    ax.add_patch(cart)
    (pole,) = ax.plot([], [], lw=4, color="C1", solid_capstyle="round")
    label = ax.text(-2.3, 1.1, "", fontsize=8)
    fig.tight_layout()

    def draw(t):
        x, _, theta, _ = states[t]
        cart.set_x(x - 0.2)
        pole.set_data([x, x + np.sin(theta)], [0.1, 0.1 + np.cos(theta)])   # length 1
        label.set_text(f"{title} step {t}")
        return cart, pole, label

    frames = range(0, len(states), every)
    player = animation.FuncAnimation(fig, draw, frames=frames, interval=100)
    html = player.to_jshtml(default_mode="loop")
    plt.close(fig)
    return html


q = runs[P.seed][1]["best"]             # seed P.seed's best checkpoint
test_env = gym.make("CartPole-v1")
episode_return, episode_states = play(test_env, greedy(q), seed=10_000)
print(f"this episode lasts {episode_return:.0f} steps")
html = animate_cartpole(episode_states, every=10, title="DQN,")
alt = "Animation of the trained agent pushing the cart to keep the pole upright"
# The player's icons would come from a Font Awesome CDN; the site serves all by itself.
html = re.sub(r'<link rel="stylesheet"[^>]*font-awesome[^>]*>', "", html)
display(HTML(html.replace("<img id=", f'<img alt="{alt}" id=', 1)))

# %% [markdown]
# The printed length says how this episode ended (500 is the time limit). Watch how the agent
# corrects each tilt and where the cart goes: an episode also ends when the cart leaves the
# track. Try `play(test_env, random_policy, 0)` in place of the greedy policy to see the
# difference.
#
# ## 5. What has the network learned?
#
# The greedy policy is a *map* from the four state numbers to an action. Fixing the cart's
# position and velocity, we can draw it over the pole's angle and angular velocity: red where the
# network prefers pushing right, blue where it prefers left, white where both actions look equal.

# %%
def policy_map(q, x: float = 0.0, x_dot: float = 0.0, n: int = 81):
    """Q(push right) − Q(push left) over pole angle and angular velocity, cart fixed."""
    theta, theta_dot = torch.linspace(-0.21, 0.21, n), torch.linspace(-2.0, 2.0, n)
    grid_t, grid_td = torch.meshgrid(theta, theta_dot, indexing="xy")
    states = torch.stack([torch.full_like(grid_t, x), torch.full_like(grid_t, x_dot),
                          grid_t, grid_td], -1)
    with torch.no_grad():
        values = q(states.reshape(-1, 4))
    preference = (values[:, 1] - values[:, 0]).reshape(n, n)
    fig, ax = plt.subplots(figsize=(4.6, 3.4))
    limit = float(preference.abs().max())
    image = ax.imshow(preference, origin="lower", aspect="auto", cmap="RdBu_r",
                      vmin=-limit, vmax=limit, extent=(-0.21, 0.21, -2.0, 2.0))
    fig.colorbar(image, ax=ax, label="Q(right) − Q(left)")
    ax.set(xlabel="pole angle θ (rad, + = leaning right)",
           ylabel="angular velocity θ̇ (rad/s)",
           title=f"greedy action with cart at x = {x:+.1f}, ẋ = {x_dot:+.1f}")
    fig.tight_layout()
    return fig

# %% mystnb={"figure": {"caption": "The trained Q-network's preference between pushing right and left, over the pole's angle and angular velocity, with the cart centred and at rest.", "name": "fig-08-policy-map"}, "image": {"alt": "Heatmap over pole angle and angular velocity: red across the top, blue across the bottom, white in a band between them that tilts downwards from left to right."}}
policy_map(q)
plt.show()

# %% [markdown]
# Compare the boundary between blue and red with the rule a control engineer would derive from
# the physics (a linear controller): push right when the pole is falling to the right, or
# leaning right without falling back, a tilted straight line in this plane. The network has to
# find its boundary from rewards alone; the hand rule of section 3 draws exactly such a line,
# $\theta + 0.5\,\dot\theta = 0$. Move the cart
# with the sliders (with a running kernel) and watch the boundary shift: near the track's ends
# the agent also has to steer the cart back.

# %%
import ipywidgets as widgets

x_slider = widgets.FloatSlider(value=0.0, min=-2.0, max=2.0, step=0.25,
                               description="cart x")
v_slider = widgets.FloatSlider(value=0.0, min=-1.5, max=1.5, step=0.25,
                               description="cart ẋ")


def show_policy(x, x_dot):
    policy_map(q, x, x_dot)
    plt.show()


display(widgets.VBox([widgets.HBox([x_slider, v_slider]),
                      widgets.interactive_output(show_policy,
                                                 {"x": x_slider, "x_dot": v_slider})]))

# %% [markdown]
# ## 6. A second family: policy gradients (REINFORCE)
#
# DQN learns *values* and acts greedily on them. A **policy gradient** method learns the policy
# directly: a network outputs the probability of each action, the agent samples from it, and after
# each episode every action's log-probability is pushed up in proportion to the return that
# followed it. That is REINFORCE {cite}`williams1992simple`, in a dozen lines: no replay buffer, no
# target network, no ε, since sampling from the policy explores by itself. Below, the returns of
# each episode are normalised (their mean subtracted, divided by their standard deviation). That
# is a common *heuristic* that reduces the variance of the updates, not a baseline in the strict
# sense: a proper baseline depends only on the state, so it leaves the gradient unbiased, while
# the episode's own mean depends on the actions taken in it, so the update is biased, episode
# by episode. The unbiased version learns a value $V(s)$ and subtracts it (exercise 4, the core
# of A2C); it is not run here to keep the chapter inside its time budget.

# %%
def train_reinforce(episodes: int, lr: float, gamma: float = 0.99, seed: int = 0):
    torch.manual_seed(seed)
    env, generator = gym.make("CartPole-v1"), torch.Generator().manual_seed(seed)
    policy = nn.Sequential(nn.Linear(4, 128), nn.ReLU(), nn.Linear(128, 2))   # logits
    optimizer = torch.optim.Adam(policy.parameters(), lr=lr)
    returns, steps, total_steps = [], [], 0
    state, _ = env.reset(seed=seed)
    for _ in tqdm(range(episodes), desc="REINFORCE episodes", mininterval=1):
        states, actions, rewards, done = [], [], [], False
        while not done:
            with torch.no_grad():
                probs = F.softmax(policy(torch.as_tensor(state)), dim=-1)
            action = int(torch.multinomial(probs, 1, generator=generator))
            states.append(state), actions.append(action)
            state, reward, terminated, truncated, _ = env.step(action)
            rewards.append(reward)
            done = terminated or truncated
        state, _ = env.reset()
        future, to_go = 0.0, []                    # return-to-go G_t = r_t + γ G_{t+1}
        for reward in reversed(rewards):
            future = reward + gamma * future
            to_go.append(future)
        g = torch.tensor(to_go[::-1])
        g = (g - g.mean()) / (g.std() + 1e-8) if len(g) > 1 else g - g.mean()
        log_probs = F.log_softmax(policy(torch.as_tensor(np.array(states))), dim=-1)
        taken = log_probs[torch.arange(len(actions)), torch.tensor(actions)]
        loss = -(taken * g).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_steps += len(rewards)
        returns.append(sum(rewards)), steps.append(total_steps)
    return policy, returns, steps

# %% [markdown]
# REINFORCE for `P.reinforce_episodes` episodes (400 in the CPU profile), seeded with
# `P.seed`; its training returns are those of the sampled policy it learns.

# %%
policy, reinforce_returns, reinforce_steps = train_reinforce(
    P.reinforce_episodes, lr=P.reinforce_lr, seed=P.seed)
last20 = np.mean(reinforce_returns[-20:])
print(f"REINFORCE: {P.reinforce_episodes} episodes, {reinforce_steps[-1]:,} env steps; "
      f"mean return of the last 20 episodes {last20:.1f}")
claim("reinforce_last20_minus_random", last20 - random_returns.mean(), "> 50", tol=40,
      parts={"reinforce": last20, "random": random_returns.mean()},
      says="at the end of training, REINFORCE's sampled policy lasts more than 50 "
           "steps longer than the random policy")
claim("reinforce_last20_return", last20, "< 475", tol=40,
      says="REINFORCE's training returns are still below the threshold")
replays = runs[P.seed][1]["updates"] * DQN["batch_size"] / DQN["steps"]
claim("dqn_replays_per_transition", replays, "> 10", tol=0.5,
      says="DQN samples each stored transition many times on average")

# %% mystnb={"figure": {"caption": "REINFORCE on CartPole-v1: the return of each training episode (actions sampled from the policy) and its 20-episode moving average, against environment steps.", "name": "fig-08-reinforce"}, "image": {"alt": "A noisy curve of training return against environment steps for REINFORCE, with its moving average, starting near the dotted random-policy line and rising, below the dashed threshold line."}}
def moving_average(values, window=20):
    values = np.asarray(values, dtype=float)
    return np.array([values[max(0, i - window + 1):i + 1].mean()
                     for i in range(len(values))])


fig, ax = plt.subplots(figsize=(7, 3.2))
ax.plot(reinforce_steps, reinforce_returns, color="C1", alpha=0.3,
        label="episode return")
ax.plot(reinforce_steps, moving_average(reinforce_returns), color="C1",
        label="moving average (20)")
ax.axhline(env.spec.reward_threshold, color="k", ls="--", lw=1, label="threshold (475)")
ax.axhline(random_returns.mean(), color="C3", ls=":", lw=1, label="random policy")
ax.set(xlabel="environment steps", ylabel="training return", ylim=(0, 520))
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to notice.** REINFORCE's last 20 training episodes last
# {glue:text}`reinforce_last20_minus_random__reinforce:.0f` steps on average, against
# {glue:text}`reinforce_last20_minus_random__random:.1f` for the random policy: it has learned
# to balance better than chance, and is still below the threshold (these are the returns of the
# sampled policy it trains, not of a greedy one, so they are not compared with DQN's greedy
# scores here). REINFORCE uses each episode once and throws it away; DQN replays each
# transition many times (here {glue:text}`dqn_replays_per_transition:.0f` times on average),
# which is why off-policy methods are usually more sample-efficient. REINFORCE also makes far
# fewer gradient steps: one per episode, against DQN's one every 4 environment steps.
# Policy gradients also handle continuous actions naturally (a network can output the mean of a
# Gaussian), which Q-learning's $\max_a$ cannot easily do. Modern methods such as A2C and
# PPO combine both ideas: a policy (actor) trained with a learned value function (critic) as
# its baseline.

# %% [markdown]
# ## 7. From CartPole to Atari
#
# CartPole hands the agent four clean numbers. The Nature DQN {cite:p}`mnih2015human` saw only
# what a human player sees, the screen of an Atari 2600 through the Arcade Learning Environment
# {cite:p}`bellemare2013arcade`, and used *the same algorithm and settings for all 49 games*.
# What changed is the input side:
#
# - **Preprocessing.** The 210×160 colour frame becomes an 84×84 grey image; each action is
#   repeated for 4 frames (the agent decides 15 times a second) and the maximum of the last two
#   frames removes the flicker of sprites drawn every other frame.
# - **Frame stacking.** A single frame shows where the ball is, not where it is going; the last 4
#   processed frames, stacked as 4 channels, make the state (nearly) Markov.
# - **A convolutional Q-network** reads that 4×84×84 stack: three convolutions, one hidden layer of
#   512 units, one output per joystick action.
# - **Reward clipping.** Scores differ by orders of magnitude between games; clipping every
#   reward to $[-1, 1]$ (its sign) "makes it easier to use the same learning rate across
#   multiple games" {cite:p}`mnih2015human`. The price: the agent cannot tell a small
#   reward from a large one.
# - **Life-loss terminals and no-op starts.** In training, losing a life is treated as the end of
#   an episode (no bootstrap past it) {cite:p}`mnih2015human`; {cite:t}`machado2018revisiting`
#   discuss this choice and its side effects. Evaluation episodes begin with up to 30 "do
#   nothing" actions at random, so the agent cannot memorise one opening, and are played with
#   ε = 0.05 rather than greedily {cite:p}`mnih2015human`.
# - **Sticky actions.** Gymnasium's `v5` Atari environments repeat the previous action with
#   probability `0.25` by default, a later proposal against memorised action sequences
#   {cite:p}`machado2018revisiting`; the Nature setting has no such
#   randomness, so the cell below turns it off with `repeat_action_probability=0.0`.
#
# These steps take a dozen lines, written out below (Gymnasium's `AtariPreprocessing` wrapper does
# the same with OpenCV). `ale-py` ships the game ROMs, so this runs offline; without it, the cell
# says so and the rest of the section works on the shapes alone.

# %%
from collections import deque


def preprocess(frame, previous):
    """Max of two consecutive grey frames (no flicker), shrunk to 84×84, as uint8."""
    frame = torch.from_numpy(np.maximum(frame, previous)).float()[None, None]
    small = F.interpolate(frame, size=(84, 84), mode="area")[0, 0]
    return small.round().to(torch.uint8)


def atari_step(env, action, repeat: int = 4):
    """Repeat an action for 4 frames; return processed frame, summed reward, done."""
    frames, total, done = [], 0.0, False
    for _ in range(repeat):
        frame, reward, terminated, truncated, _ = env.step(action)
        frames.append(frame)
        total, done = total + reward, terminated or truncated
        if done:
            break
    previous = frames[-2] if len(frames) > 1 else frames[-1]
    return preprocess(frames[-1], previous), total, done


# %%
try:
    import ale_py
    gym.register_envs(ale_py)
    have_atari = True
except ImportError:
    have_atari = False
    print("ale-py is not installed (pip install ale-py): "
          "the network below is shown on the shapes alone")

if have_atari:   # repeat_action_probability=0: the deterministic Atari of Nature DQN
    atari = gym.make("ALE/Breakout-v5", obs_type="grayscale", frameskip=1,
                     repeat_action_probability=0.0)
    atari.action_space.seed(0)
    frame, _ = atari.reset(seed=0)
    history = deque([preprocess(frame, frame)] * 4, maxlen=4)   # last 4 processed
    for _ in range(P.atari_steps):        # a few random moves put the ball into play
        frame, _, _ = atari_step(atari, atari.action_space.sample())
        history.append(frame)
    stacked, raw = torch.stack(list(history)), atari.unwrapped.ale.getScreenRGB()
    n_actions = atari.action_space.n
    print("actions:", atari.unwrapped.get_action_meanings())
else:
    raw, n_actions = np.zeros((210, 160, 3), np.uint8), 4
    stacked = torch.zeros(4, 84, 84, dtype=torch.uint8)
print(f"raw screen {raw.shape} {raw.dtype} → "
      f"network input {tuple(stacked.shape)} {stacked.dtype}")

# %% mystnb={"figure": {"caption": "Breakout as the Nature DQN sees it: the raw 210\u00d7160 colour screen, then the last four preprocessed 84\u00d784 grey frames stacked as the network's input.", "name": "fig-08-atari-frames"}, "image": {"alt": "Left, a colour Breakout screen with bricks, ball and paddle; right, four small grey 84 by 84 frames in which the ball appears in the later frames."}}
fig, axes = plt.subplots(1, 5, figsize=(9, 2.6),
                         gridspec_kw={"width_ratios": [1.3, 1, 1, 1, 1]})
axes[0].imshow(raw)
axes[0].set_title("raw 210×160×3", fontsize=8)
for i, ax in enumerate(axes[1:]):
    ax.imshow(stacked[i].numpy(), cmap="gray", vmin=0, vmax=255)
    ax.set_title(f"frame t−{3 - i}, 84×84" if i < 3 else "frame t, 84×84", fontsize=8)
for ax in axes:
    ax.axis("off")
fig.tight_layout()
plt.show()

# %% [markdown]
# The network of the Nature paper, written out; inputs are the uint8 frames, scaled to [0, 1].

# %%
class NatureDQN(nn.Module):
    """Mnih et al. 2015: three convolutions, a 512-unit layer, a Q-value per action."""
    def __init__(self, n_actions: int, frames: int = 4):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(frames, 32, kernel_size=8, stride=4), nn.ReLU(),   # 84 → 20
            nn.Conv2d(32, 64, kernel_size=4, stride=2), nn.ReLU(),       # 20 → 9
            nn.Conv2d(64, 64, kernel_size=3, stride=1), nn.ReLU())       # 9 → 7
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64 * 7 * 7, 512), nn.ReLU(),
                                  nn.Linear(512, n_actions))

    def forward(self, frames):
        return self.head(self.features(frames.float() / 255.0))

# %%
# NBVAL_CHECK_OUTPUT
nature = NatureDQN(n_actions=n_actions)
x = torch.zeros(1, 4, 84, 84, dtype=torch.uint8)
def describe(layer) -> str:
    if isinstance(layer, nn.Conv2d):
        size = f"{layer.kernel_size[0]}×{layer.kernel_size[1]}"
        return (f"conv {layer.in_channels}→{layer.out_channels}, {size}, "
                f"stride {layer.stride[0]}")
    if isinstance(layer, nn.Linear):
        return f"fully connected {layer.in_features}→{layer.out_features}"
    return type(layer).__name__.lower()


print(f"{'input (uint8 frames)':<32} {str(tuple(x.shape)):>15}")
h = x.float() / 255.0
for layer in [*nature.features, *nature.head]:
    h = layer(h)
    if not isinstance(layer, nn.ReLU):
        params = sum(p.numel() for p in layer.parameters())
        shape = str(tuple(h.shape))
        print(f"{describe(layer):<32} {shape:>15} {params:>10,} parameters")
n_params = sum(p.numel() for p in nature.parameters())
print(f"total for {n_actions} actions: {n_params:,} parameters; "
      f"for all 18 Atari actions: {count_parameters(NatureDQN(18)):,}")

# %% [markdown]
# Most parameters sit in the one fully connected layer that reads the 64×7×7 feature maps:

# %%
fc_share = count_parameters(nature.head[1]) / count_parameters(nature)
claim("nature_dqn_fc_share", fc_share, "> 0.9", tol=0.005,
      parts={"parameters": count_parameters(nature)},
      says="most of the Nature DQN's parameters are in its first fully connected layer")

# %% [markdown]
# That is {glue:text}`nature_dqn_fc_share:.0%` of the
# {glue:text}`nature_dqn_fc_share__parameters:,.0f` parameters. The untrained network already
# maps the real frames to one value per action, on whatever `device` this notebook runs:

# %%
nature = nature.to(device)
frames = stacked[None].to(device)
with torch.no_grad():
    print("Q-values of the untrained network:", nature(frames).cpu().numpy().round(3))


# %% [markdown]
# How long would training take at the paper's scale? One update is a forward and backward pass
# on a minibatch of 32 stacks, the target network's forward pass on the 32 next stacks, and an
# RMSProp step. On the CPU it runs on the one thread `start` left torch. The course's
# `time_call`, built on `torch.utils.benchmark` (chapter 10 explains the method), times it
# properly: a few warm-up updates first (on a GPU with `cudnn.benchmark` the first calls pick
# the convolution algorithms), synchronisation with the GPU, and blocks of repeated updates
# for at least `P.atari_min_time` seconds, of which it reports the median.

# %%
batch = torch.randint(0, 256, (32, 4, 84, 84), dtype=torch.uint8, device=device)
next_batch = torch.randint(0, 256, (32, 4, 84, 84), dtype=torch.uint8, device=device)
target_nature = copy.deepcopy(nature)
optimizer = torch.optim.RMSprop(nature.parameters(), lr=2.5e-4)


def atari_update():
    with torch.no_grad():
        target = target_nature(next_batch).max(1).values   # the targets' forward pass
    loss = (nature(batch)[:, 0] - target).pow(2).mean()    # a stand-in loss, same cost
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


timed = time_call(atari_update, device, warmup=3, min_time=P.atari_min_time)
per_update = timed.seconds
agent_steps = 50_000_000        # the paper's "frames": agent steps of 4 emulator frames
updates = agent_steps // 4      # one update every 4 agent steps ("update frequency" 4)
days_of_play = agent_steps * 4 / 60 / 86_400   # the Atari runs at 60 frames per second
timing("atari_update_seconds", per_update, says="one Nature-DQN update, minibatch 32")
timing("atari_update_hours", updates * per_update / 3600,
       says="the paper's updates at this machine's measured rate")
claim("atari_days_of_play", days_of_play, "> 38", tol=0.005,
      says="50 million agent steps of 4 frames at 60 Hz are about 38 days of play")
print(f"one update: {per_update * 1000:.1f} ms on {device.type} "
      f"({torch.get_num_threads()} CPU thread(s)); {updates:,} updates "
      f"would take about {updates * per_update / 3600:,.0f} hours of updates alone")

# %% [markdown]
# That estimate is why there is no Atari training here. The Nature DQN trained each game for 50
# million frames, "around 38 days of game experience in total" {cite:p}`mnih2015human`; the
# frames it counts are the ones the agent sees, every fourth emulator frame, so at the Atari's
# 60 frames per second they are {glue:text}`atari_days_of_play:.1f` days of play and, with an
# update every 4 actions, 12.5 million updates. At the rate measured above on this machine's
# {glue:text}`atari_update_seconds:.3f` s per update (on the device the printout names; the
# stored outputs ran on one CPU thread), that is {glue:text}`atari_update_hours:,.0f` hours of
# updates alone, before playing a single frame. A GPU runs such updates much faster; the
# printout above says which device this figure comes from. The rest of the paper's recipe: a
# replay memory of the last million
# transitions, minibatches of 32, RMSProp at a learning rate of 0.00025, ε decaying from 1 to
# 0.1 over the first million frames, and a target network refreshed every 10,000 updates
# {cite:p}`mnih2015human`. The algorithm is the one you trained above; only the scale differs.

# %% [markdown]
# ## Checks
#
# The last structural checks, then the table of every claim this run made: its value, the
# condition it must meet on every seed, and the sentence it backs.

# %%
assert count_parameters(NatureDQN(18)) == 1_693_362   # the Nature DQN for 18 actions
assert tuple(stacked.shape) == (4, 84, 84) and raw.shape == (210, 160, 3)
assert html.count("data:image/png;base64") <= 60, "the animation stays light"
report()

# %% [markdown]
# ## Exercises
#
# 1. **Double DQN.** The $\max$ in the target both *chooses* and *evaluates* the next action with
#    the same noisy estimates, so it is biased upwards. Double DQN {cite:p}`vanhasselt2016deep`
#    chooses with the online network and evaluates with the target network. Change one line of
#    `dqn_update` and compare the steps to solve and the Q-values, seed by seed.
#
# ```{dropdown} Solution
# Replace the line computing `best_next` by
# `best_next = target_q(next_states).gather(1, q(next_states).argmax(1, keepdim=True)).squeeze(1)`.
# Whether it solves in fewer steps is a question for several seeds: the table in section 3
# shows how much one seed can differ from the next. What Double DQN was designed to change is
# the Q-values, which it keeps closer to the true discounted returns (at most
# $1/(1-\gamma) = 100$ here) {cite:p}`vanhasselt2016deep`. Print
# `q(states).max(1).values.mean()` for both to see it.
# ```
#
# 2. **Take the stabilisers away.** Set `target_every=1` (no target network) or make the replay
#    buffer as small as a minibatch (`buffer_size=batch_size` and `learning_starts=batch_size`,
#    or no update ever happens). What happens to the learning curve? Compare several seeds.
#
# ```{dropdown} Solution
# This solution was not run for the book, so it says what to look for rather than what you
# will see. Without a target network every update chases its own moving target; typically the
# returns oscillate more, or collapse after first rising, but it varies from seed to seed.
# With a tiny buffer the agent learns only from its last few hundred steps, which are strongly
# correlated and all come from its current behaviour: it can forget what failure looked like
# once it stops failing. In the Nature paper's ablations (Extended Data Table 3, five games),
# removing either replay or the target network lowered the scores {cite:p}`mnih2015human`.
# ```
#
# 3. **Truncated is not terminated.** Push `terminated or truncated` into the buffer instead of
#    `terminated`. Why is that wrong, and does it matter here?
#
# ```{dropdown} Solution
# At step 500 the pole is still up; the episode ends only because of a time limit the agent cannot
# see (the time is not in the state). Marking it terminal teaches the network that some perfectly
# good states are worth nothing, which contradicts what it learns from identical states earlier in
# other episodes. On CartPole it can slow learning and make the greedy policy less stable near
# the limit; in tasks with long horizons it can prevent learning altogether.
# ```
#
# 4. **From REINFORCE to actor-critic.** Give the policy network a second head that predicts the
#    return-to-go $V(s)$, use $G_t - V(s_t)$ instead of the normalised return, and train $V$ with a
#    squared error. This is the core of A2C.
#
# ```{dropdown} Solution
# Output three numbers from the last layer: two logits and a value. The loss becomes
# `-(log_prob * (g - v).detach()).mean() + 0.5 * (g - v).pow(2).mean()` with `g` the raw
# (un-normalised) returns-to-go. The learned baseline depends only on the state, so it leaves
# the gradient unbiased, unlike the per-episode mean. Whether it also learns faster here is
# not settled in advance: un-normalised advantages at a learning rate of 1e-3 can be less
# stable, so compare the two curves on several seeds (and try a smaller learning rate).
# ```
#
# ## References
#
# Full entries are in the [bibliography](../book/bibliography.md).
