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
# from pixels {cite}`mnih2015human`, and use it to solve a classic control task, balancing a pole
# on a cart, to the official standard, on a laptop CPU, in well under a minute. Then we look at
# what changes when the input is an Atari screen, and contrast DQN with a policy-gradient method.
#
# **Learning goals**
# - Describe the reinforcement-learning loop (state, action, reward, return, episode) and measure
#   what a random policy achieves.
# - Write DQN from its parts: a Q-network, a replay buffer, a target network, an ε-greedy
#   schedule, the Huber loss and gradient clipping, and say what each one is for.
# - Train it until CartPole-v1 is *solved* by Gymnasium's own criterion and check that claim on
#   100 unseen episodes.
# - Explain how the Nature DQN reads Atari frames: preprocessing, frame stacking and its
#   convolutional Q-network.
# - Contrast value-based learning (DQN) with a policy gradient (REINFORCE).
#
# **Run time**: about 1–2 minutes on a 2-core CPU (the stored outputs), less with a GPU machine's
# faster CPU. CartPole's network is tiny, so it trains on the CPU even when a GPU is present.

# %% [markdown]
# ## From the talk
#
# The talk's slide is a single title, **"Deep Reinforcement Learning"**, listed among the *other
# commonly used deep networks* after R-CNN and image captioning. Behind it stands one result:
# DeepMind's DQN, a convolutional network that learned 49 Atari games from the screen and the score
# alone, and reached human level on many of them {cite}`mnih2015human`. This chapter
# - **builds DQN piece by piece** and trains it on CartPole-v1, where a laptop can watch it learn;
# - **checks the result the way the field does**: Gymnasium's `reward_threshold` of 475 over 100
#   episodes, and compares the cost with PyTorch's official DQN tutorial;
# - **shows the Atari side** with real Atari frames (through `ale-py`), the Nature paper's frame
#   preprocessing and its convolutional Q-network;
# - **adds a second family** of algorithms, policy gradients, with REINFORCE
#   {cite}`williams1992simple`.

# %% tags=["hide-input"]
# Bootstrap: makes this notebook work alone in Colab or on an Azure VM.
import importlib.util, os
if importlib.util.find_spec("demystify") is None:   # Colab / Azure: fetch the course helpers
    source = os.environ.get("DEMYSTIFY_SOURCE", "git+https://github.com/demystify-dl/demystifying-deep-learning")
    # %pip install -q "demystify @ {source}"
if importlib.util.find_spec("gymnasium") is None or importlib.util.find_spec("ale_py") is None:
    # %pip install -q "gymnasium>=1.0" "ale-py>=0.9"

# %%
from demystify import start
device, P = start("08_deep_rl")   # seeds, picks the device, prints one banner line

# %%
import copy
import time

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from IPython.display import HTML, display
from tqdm.auto import tqdm

# CartPole's networks are tiny: one CPU thread is fastest for them, and a fixed thread count
# keeps every floating-point sum in the same order, so a rerun reproduces the same agent.
torch.set_num_threads(1)
print(P)

# %% [markdown]
# ## 1. The environment, and a random policy
#
# **CartPole** {cite}`barto1983neuronlike` is a cart on a track with a pole hinged on top. The
# *state* is four numbers: cart position and velocity, pole angle and angular velocity. The agent
# has two *actions*, push left or push right. Every step the pole stays up earns a *reward* of +1;
# the *episode* ends when the pole tilts beyond 12° or the cart leaves the track, or after 500 steps.
# The *return* of an episode, the sum of its rewards, is therefore the number of steps survived.
# Gymnasium {cite}`towers2024gymnasium`, the maintained successor of OpenAI Gym, also records when
# the task counts as *solved*:

# %%
# NBVAL_CHECK_OUTPUT
env = gym.make("CartPole-v1")
print("state:  ", env.observation_space)
print("actions:", env.action_space, "(0 = push left, 1 = push right)")
print(f"an episode lasts at most {env.spec.max_episode_steps} steps; "
      f"solved = mean return ≥ {env.spec.reward_threshold} over 100 episodes")

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


env.action_space.seed(0)
random_policy = lambda state: int(env.action_space.sample())   # ignores the state
random_returns = np.array([play(env, random_policy, seed)[0] for seed in range(100)])
print(f"random policy over 100 episodes: mean return {random_returns.mean():.1f} "
      f"(min {random_returns.min():.0f}, max {random_returns.max():.0f})")

# %% [markdown]
# Pushing at random keeps the pole up for about twenty steps: that is the baseline, and 475 is the
# goal.
#
# ## 2. DQN, piece by piece
#
# **Q-learning** estimates, for each state $s$ and action $a$, the *action value* $Q(s, a)$: the
# return to expect after taking $a$ in $s$ and acting well afterwards. If we knew $Q$, acting well
# would be easy: take the action with the largest $Q$. $Q$ satisfies the *Bellman equation*
#
# $$Q(s, a) = r + \gamma \max_{a'} Q(s', a'),$$
#
# the reward now plus the discounted ($\gamma < 1$) value of the best action in the next state
# $s'$. DQN {cite}`mnih2015human` makes $Q$ a neural network and trains it to satisfy that
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
#    samples of it, which decorrelates them and reuses each experience many times.
# 2. **A target network.** The target $r + \gamma \max_{a'} Q(s', a')$ depends on the network
#    being trained, so every update moves the goal too. DQN computes targets with a *copy* of the
#    network that is refreshed only every few hundred updates.
# 3. **ε-greedy exploration.** An agent that always takes its current best action never finds
#    better ones. With probability ε it acts at random; ε decays from 1 (pure exploration) to a
#    small floor as the estimates improve.
#
# The buffer keeps transitions in preallocated tensors, so sampling a minibatch is one indexing
# operation. It stores whether $s'$ was *terminal* (the pole fell): there is no future after that.

# %%
class ReplayBuffer:
    """The last `capacity` transitions (s, a, r, s', terminal); uniform random minibatches."""
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
        self.states[i], self.next_states[i] = torch.as_tensor(state), torch.as_tensor(next_state)
        self.actions[i], self.rewards[i], self.terminal[i] = action, reward, float(terminal)
        self.position = (i + 1) % self.capacity            # overwrite the oldest when full
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int):
        i = torch.randint(self.size, (batch_size,), generator=self.generator)
        return self.states[i], self.actions[i], self.rewards[i], self.next_states[i], self.terminal[i]


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
def dqn_update(q, target_q, optimizer, batch, gamma: float, max_grad_norm: float) -> float:
    """One gradient step on a minibatch of transitions; returns the loss."""
    states, actions, rewards, next_states, terminal = batch
    with torch.no_grad():   # target: r + γ max_a' Q_target(s', a'), just r after a terminal state
        best_next = target_q(next_states).max(dim=1).values
        target = rewards + gamma * (1.0 - terminal) * best_next
    predicted = q(states).gather(1, actions[:, None]).squeeze(1)   # Q(s, a) of the actions taken
    loss = F.smooth_l1_loss(predicted, target)                    # the Huber loss
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(q.parameters(), max_grad_norm)
    optimizer.step()
    return loss.item()

# %% [markdown]
# The settings, next to those of PyTorch's official DQN tutorial {cite}`paszke2017dqn`, which
# trains the same network for 600 episodes on a GPU (50 on a CPU, where it does not get far).
# Ours differ where they buy speed: a larger learning rate, a faster linear ε schedule, and the
# Nature DQN's periodic hard copy of the target network instead of a soft update every step.

# %%
# NBVAL_CHECK_OUTPUT
import pandas as pd

DQN = dict(hidden=128, buffer_size=P.buffer_size, batch_size=P.batch_size, gamma=0.99,
           lr=P.lr, eps_start=1.0, eps_end=P.eps_end, eps_decay_steps=P.eps_decay_steps,
           learning_starts=P.learning_starts, target_every=P.target_every, max_grad_norm=10.0,
           max_steps=P.max_steps)
pd.DataFrame({
    "PyTorch DQN tutorial": ["4-128-128-2 MLP", "10,000", "128", "0.99", "AdamW, 1e-4 (3e-4 in later versions)",
                             "0.9 → 0.05 (0.01), exponential", "soft update, τ = 0.005 every step",
                             "Huber; gradient values clipped at 100", "600 episodes (GPU)"],
    "this chapter": ["4-128-128-2 MLP", f"{DQN['buffer_size']:,}", f"{DQN['batch_size']}", f"{DQN['gamma']}",
                     f"Adam, {DQN['lr']:g}", f"{DQN['eps_start']:g} → {DQN['eps_end']:g}, linear over "
                     f"{DQN['eps_decay_steps']:,} steps", f"hard copy every {DQN['target_every']} updates",
                     f"Huber; gradient norm clipped at {DQN['max_grad_norm']:g}",
                     f"until solved (at most {DQN['max_steps']:,} steps)"],
}, index=["Q-network", "replay buffer", "minibatch", "discount γ", "optimizer, learning rate",
          "exploration ε", "target network", "loss", "training length"])

# %% [markdown]
# ## 3. Training until solved
#
# The loop below is the whole algorithm: act ε-greedily, store the transition, learn from a
# random minibatch, refresh the target network now and then. Note `terminated` versus
# `truncated`: when the pole falls there is no future reward, but when the 500-step limit cuts an
# episode short the future was still there, so only `terminated` zeroes the bootstrap term.
#
# Training returns are noisy because of ε, so after each good training episode the loop tests the
# *greedy* policy on 20 episodes with seeds it never trains on (validation episodes), and stops
# once it keeps the pole up for all 500 steps in every one of them. The final verdict comes later,
# on 100 further episodes.

# %%
def solves(q, seeds, steps=500):
    """Whether the greedy policy reaches the 500-step limit in every episode (stops at a failure)."""
    test_env = gym.make("CartPole-v1")
    return all(play(test_env, greedy(q), seed)[0] >= steps for seed in seeds)

# %%
def train_dqn(cfg: dict, seed: int = 0, check_seeds=range(1000, 1020)):
    torch.manual_seed(seed)
    env = gym.make("CartPole-v1")
    env.action_space.seed(seed)
    rng = np.random.default_rng(seed)
    q = QNetwork(hidden=cfg["hidden"])
    target_q = copy.deepcopy(q)
    optimizer = torch.optim.Adam(q.parameters(), lr=cfg["lr"])
    buffer = ReplayBuffer(cfg["buffer_size"], 4, seed)
    log = dict(returns=[], steps=[], losses=[], solved_at=None, updates=0)
    state, _ = env.reset(seed=seed)
    episode_return, bar = 0.0, tqdm(total=cfg["max_steps"], desc="DQN env steps", mininterval=1)
    for step in range(1, cfg["max_steps"] + 1):
        eps = epsilon(step, cfg["eps_start"], cfg["eps_end"], cfg["eps_decay_steps"])
        action = env.action_space.sample() if rng.random() < eps else greedy(q)(state)
        next_state, reward, terminated, truncated, _ = env.step(action)
        buffer.push(state, action, reward, next_state, terminated)
        state, episode_return = next_state, episode_return + reward
        if buffer.size >= cfg["learning_starts"]:
            batch = buffer.sample(cfg["batch_size"])
            log["losses"].append(dqn_update(q, target_q, optimizer, batch, cfg["gamma"], cfg["max_grad_norm"]))
            log["updates"] += 1
            if log["updates"] % cfg["target_every"] == 0:
                target_q.load_state_dict(q.state_dict())
        if terminated or truncated:
            log["returns"].append(episode_return)
            log["steps"].append(step)
            bar.update(step - bar.n)
            bar.set_postfix(episode=len(log["returns"]), ret=episode_return, eps=round(eps, 3))
            state, episode_return = env.reset()[0], 0.0
            if log["returns"][-1] >= P.check_above and solves(q, check_seeds):
                log["solved_at"] = step
                break
    bar.close()
    return q, log

# %%
started = time.perf_counter()
q, log = train_dqn(DQN, seed=0)
train_seconds = time.perf_counter() - started

# %%
episodes = len(log["returns"])
if log["solved_at"] is None:
    print(f"not solved within {DQN['max_steps']:,} env steps ({episodes} episodes)")
else:
    print(f"solved after {episodes} episodes = {log['solved_at']:,} env steps and "
          f"{log['updates']:,} gradient updates, in {train_seconds:.0f} s on this machine's CPU")
    print(f"the PyTorch tutorial trains for 600 episodes: this is {600 / episodes:.1f}× fewer")

# %% [markdown]
# The learning curve shows each training episode's return (noisy: ε still forces some random
# moves) and its moving average over 20 episodes.

# %% mystnb={"figure": {"caption": "DQN on CartPole-v1: the return of each training episode (with \u03b5-greedy exploration), its 20-episode moving average, the random policy's mean and Gymnasium's threshold of 475.", "name": "fig-08-dqn-curve"}, "image": {"alt": "Line chart of episode return against episode for DQN: returns stay near 20 for about 100 episodes, then climb irregularly; the moving average rises to between 100 and 250 while single episodes spike higher; a dashed line marks 475 and a dotted one the random policy."}}
def moving_average(values, window=20):
    values = np.asarray(values, dtype=float)
    return np.array([values[max(0, i - window + 1):i + 1].mean() for i in range(len(values))])


fig, ax = plt.subplots(figsize=(7, 3.4))
ax.plot(range(1, episodes + 1), log["returns"], color="C0", alpha=0.35, label="episode return")
ax.plot(range(1, episodes + 1), moving_average(log["returns"]), color="C0", label="moving average (20)")
ax.axhline(env.spec.reward_threshold, color="k", ls="--", lw=1, label="solved threshold (475)")
ax.axhline(random_returns.mean(), color="C3", ls=":", lw=1, label="random policy")
ax.set(xlabel="episode", ylabel="return (steps survived)", ylim=(0, 520), title="DQN learning CartPole-v1")
ax.legend(fontsize=8, loc="upper left")
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to notice.** For the first hundred or so episodes the agent mostly explores and the
# returns stay near the random baseline. Once ε has decayed and the Q-values have propagated back
# from the falls, the returns climb, irregularly, because each update changes the policy for every
# state at once. Their moving average stays far below 500: during training one action in twenty is still random,
# and an agent trained only until it is good enough has not learned to recover from all of those
# pushes. The *greedy* policy, tested separately, already balances the pole for all 500 steps;
# that is why we judge the agent by its greedy episodes, not by its training curve.
#
# ## 4. Is it solved? 100 unseen episodes
#
# Gymnasium's criterion: the mean return over 100 consecutive episodes is at least 475. The greedy
# policy (no exploration) plays 100 episodes whose seeds it never saw during training.

# %%
test_env = gym.make("CartPole-v1")
test_returns = np.array([play(test_env, greedy(q), seed)[0] for seed in range(10_000, 10_100)])
print(f"greedy DQN over 100 unseen episodes: mean return {test_returns.mean():.1f} "
      f"(min {test_returns.min():.0f}); threshold {env.spec.reward_threshold}")

# %% [markdown]
# ## 5. Watch it
#
# The agent's first test episode, drawn frame by frame from the state alone (no game window
# needed): the cart's position and the pole's angle are all it takes. Every tenth step is shown,
# at twice the real speed.

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
        pole.set_data([x, x + np.sin(theta)], [0.1, 0.1 + np.cos(theta)])   # pole length 1 for display
        label.set_text(f"{title} step {t}")
        return cart, pole, label

    frames = range(0, len(states), every)
    html = animation.FuncAnimation(fig, draw, frames=frames, interval=100).to_jshtml(default_mode="loop")
    plt.close(fig)
    return html


_, episode_states = play(test_env, greedy(q), seed=10_000)
html = animate_cartpole(episode_states, every=10, title="DQN,")
alt = "Animation of the trained agent balancing the pole on the cart for 500 steps"
# The player's icons would come from a Font Awesome CDN; the site serves everything itself.
html = re.sub(r'<link rel="stylesheet"[^>]*font-awesome[^>]*>', "", html)
display(HTML(html.replace("<img id=", f'<img alt="{alt}" id=', 1)))

# %% [markdown]
# The pole hardly moves: the agent corrects each tilt with small pushes, and the cart drifts
# slowly along the track. Try `play(test_env, random_policy, 0)` in place of the greedy policy to
# see the difference.
#
# ## 6. What has the network learned?
#
# The greedy policy is a *map* from the four state numbers to an action. Fixing the cart's
# position and velocity, we can draw it over the pole's angle and angular velocity: red where the
# network prefers pushing right, blue where it prefers left, white where both actions look equal.

# %%
def policy_map(q, x: float = 0.0, x_dot: float = 0.0, n: int = 81):
    """Q(push right) − Q(push left) over pole angle and angular velocity, for fixed cart state."""
    theta, theta_dot = torch.linspace(-0.21, 0.21, n), torch.linspace(-2.0, 2.0, n)
    grid_t, grid_td = torch.meshgrid(theta, theta_dot, indexing="xy")
    states = torch.stack([torch.full_like(grid_t, x), torch.full_like(grid_t, x_dot), grid_t, grid_td], -1)
    with torch.no_grad():
        values = q(states.reshape(-1, 4))
    preference = (values[:, 1] - values[:, 0]).reshape(n, n)
    fig, ax = plt.subplots(figsize=(4.6, 3.4))
    limit = float(preference.abs().max())
    image = ax.imshow(preference, origin="lower", aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit,
                      extent=(-0.21, 0.21, -2.0, 2.0))
    fig.colorbar(image, ax=ax, label="Q(right) − Q(left)")
    ax.set(xlabel="pole angle θ (rad, + = leaning right)", ylabel="angular velocity θ̇ (rad/s)",
           title=f"greedy action with cart at x = {x:+.1f}, ẋ = {x_dot:+.1f}")
    fig.tight_layout()
    return fig

# %% mystnb={"figure": {"caption": "The trained Q-network's preference between pushing right and left, over the pole's angle and angular velocity, with the cart centred and at rest.", "name": "fig-08-policy-map"}, "image": {"alt": "Heatmap over pole angle and angular velocity: red across the top, blue across the bottom, white in a band between them that tilts downwards from left to right."}}
policy_map(q)
plt.show()

# %% [markdown]
# The boundary between blue and red is a tilted line: push right when the pole is falling to the
# right, or leaning right without falling back, which is the shape of the rule a control engineer
# would derive from the physics (a linear controller), found here from rewards alone. The angular
# velocity matters most: the agent catches the pole before it has tilted far. Move the cart with the sliders (with a running kernel) and watch
# the boundary shift: near the track's ends the agent also has to steer the cart back.

# %%
import ipywidgets as widgets

x_slider = widgets.FloatSlider(value=0.0, min=-2.0, max=2.0, step=0.25, description="cart x")
v_slider = widgets.FloatSlider(value=0.0, min=-1.5, max=1.5, step=0.25, description="cart ẋ")


def show_policy(x, x_dot):
    policy_map(q, x, x_dot)
    plt.show()


display(widgets.VBox([widgets.HBox([x_slider, v_slider]),
                      widgets.interactive_output(show_policy, {"x": x_slider, "x_dot": v_slider})]))

# %% [markdown]
# ## 7. A second family: policy gradients (REINFORCE)
#
# DQN learns *values* and acts greedily on them. A **policy gradient** method learns the policy
# directly: a network outputs the probability of each action, the agent samples from it, and after
# each episode every action's log-probability is pushed up in proportion to the return that
# followed it. That is REINFORCE {cite}`williams1992simple`, in a dozen lines: no replay buffer, no
# target network, no ε, since sampling from the policy explores by itself. Normalising the returns
# of an episode (subtracting their mean) acts as a simple *baseline* that reduces the variance.

# %%
def train_reinforce(episodes: int, lr: float, gamma: float = 0.99, seed: int = 0):
    torch.manual_seed(seed)
    env, generator = gym.make("CartPole-v1"), torch.Generator().manual_seed(seed)
    policy = nn.Sequential(nn.Linear(4, 128), nn.ReLU(), nn.Linear(128, 2))   # action logits
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
        loss = -(log_probs[torch.arange(len(actions)), torch.tensor(actions)] * g).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_steps += len(rewards)
        returns.append(sum(rewards)), steps.append(total_steps)
    return policy, returns, steps


policy, reinforce_returns, reinforce_steps = train_reinforce(P.reinforce_episodes, lr=P.reinforce_lr)
print(f"REINFORCE: {P.reinforce_episodes} episodes, {reinforce_steps[-1]:,} env steps; "
      f"mean return of the last 20 episodes {np.mean(reinforce_returns[-20:]):.1f}")

# %% mystnb={"figure": {"caption": "Return against environment steps for DQN and REINFORCE on CartPole-v1 (20-episode moving averages).", "name": "fig-08-dqn-vs-reinforce"}, "image": {"alt": "Two rising curves of training return against environment steps: DQN rises from about 2,500 steps and stays above REINFORCE, which rises more slowly; both stay well below the dashed threshold at 475."}}
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.plot(log["steps"], moving_average(log["returns"]), label="DQN (value-based, off-policy)")
ax.plot(reinforce_steps, moving_average(reinforce_returns), label="REINFORCE (policy gradient, on-policy)")
ax.axhline(env.spec.reward_threshold, color="k", ls="--", lw=1, label="threshold (475)")
ax.set(xlabel="environment steps", ylabel="return (moving average of 20)", ylim=(0, 520))
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# **What to notice.** REINFORCE uses each episode once and throws it away; DQN replays every
# transition many times, so per environment step it learns faster. Per unit of *computation* the
# picture reverses: REINFORCE does one gradient step per episode, DQN one per environment step.
# Policy gradients also handle continuous actions naturally (a network can output the mean of a
# Gaussian), which Q-learning's $\max_a$ cannot. Modern methods such as A2C and PPO combine both
# ideas: a policy (actor) trained with a learned value function (critic) as its baseline.

# %% [markdown]
# ## 8. From CartPole to Atari
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
#
# These steps take a dozen lines, written out below (Gymnasium's `AtariPreprocessing` wrapper does
# the same with OpenCV). `ale-py` ships the game ROMs, so this runs offline; without it, the cell
# says so and the rest of the section works on the shapes alone.

# %%
from collections import deque


def preprocess(frame, previous):
    """Max of two consecutive grey frames (removes flicker), shrunk to 84×84, as uint8."""
    frame = torch.from_numpy(np.maximum(frame, previous)).float()[None, None]
    return F.interpolate(frame, size=(84, 84), mode="area")[0, 0].round().to(torch.uint8)


def atari_step(env, action, repeat: int = 4):
    """Repeat an action for 4 frames; return the processed last frame, summed reward, done."""
    frames, total, done = [], 0.0, False
    for _ in range(repeat):
        frame, reward, terminated, truncated, _ = env.step(action)
        frames.append(frame)
        total, done = total + reward, terminated or truncated
        if done:
            break
    return preprocess(frames[-1], frames[-2] if len(frames) > 1 else frames[-1]), total, done


# %%
try:
    import ale_py
    gym.register_envs(ale_py)
    have_atari = True
except ImportError:
    have_atari = False
    print("ale-py is not installed (pip install ale-py): the network below is shown on the shapes alone")

if have_atari:   # repeat_action_probability=0: the deterministic Atari of the Nature paper
    atari = gym.make("ALE/Breakout-v5", obs_type="grayscale", frameskip=1, repeat_action_probability=0.0)
    atari.action_space.seed(0)
    frame, _ = atari.reset(seed=0)
    history = deque([preprocess(frame, frame)] * 4, maxlen=4)   # the last 4 processed frames
    for _ in range(P.atari_steps):        # a few random moves, to get the ball into play
        frame, _, _ = atari_step(atari, atari.action_space.sample())
        history.append(frame)
    stacked, raw = torch.stack(list(history)), atari.unwrapped.ale.getScreenRGB()
    n_actions = atari.action_space.n
    print("actions:", atari.unwrapped.get_action_meanings())
else:
    raw, stacked, n_actions = np.zeros((210, 160, 3), np.uint8), torch.zeros(4, 84, 84, dtype=torch.uint8), 4
print(f"raw screen {raw.shape} {raw.dtype} → network input {tuple(stacked.shape)} {stacked.dtype}")

# %% mystnb={"figure": {"caption": "Breakout as the Nature DQN sees it: the raw 210\u00d7160 colour screen, then the last four preprocessed 84\u00d784 grey frames stacked as the network's input.", "name": "fig-08-atari-frames"}, "image": {"alt": "Left, a colour Breakout screen with bricks, ball and paddle; right, four small grey 84 by 84 frames in which the ball appears at successive positions."}}
fig, axes = plt.subplots(1, 5, figsize=(9, 2.6), gridspec_kw={"width_ratios": [1.3, 1, 1, 1, 1]})
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
    """Mnih et al. 2015: three convolutions, a 512-unit hidden layer, one Q-value per action."""
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
        return f"conv {layer.in_channels}→{layer.out_channels}, {layer.kernel_size[0]}×{layer.kernel_size[1]}, stride {layer.stride[0]}"
    if isinstance(layer, nn.Linear):
        return f"fully connected {layer.in_features}→{layer.out_features}"
    return type(layer).__name__.lower()


print(f"{'input (uint8 frames)':<32} {str(tuple(x.shape)):>15}")
h = x.float() / 255.0
for layer in [*nature.features, *nature.head]:
    h = layer(h)
    if not isinstance(layer, nn.ReLU):
        params = sum(p.numel() for p in layer.parameters())
        print(f"{describe(layer):<32} {str(tuple(h.shape)):>15} {params:>10,} parameters")
n_params = sum(p.numel() for p in nature.parameters())
print(f"total for {n_actions} actions: {n_params:,} parameters; "
      f"for all 18 Atari actions: {sum(p.numel() for p in NatureDQN(18).parameters()):,}")

# %% [markdown]
# Ninety-five percent of the 1.7 million parameters sit in the one fully connected layer that
# reads the 64×7×7 feature maps. The untrained network already maps the real frames to one
# value per action, on whatever `device` this notebook runs:

# %%
nature = nature.to(device)
frames = stacked[None].to(device)
with torch.no_grad():
    print("Q-values of the untrained network:", nature(frames).cpu().numpy().round(3))

batch = torch.randint(0, 256, (32, 4, 84, 84), dtype=torch.uint8, device=device)
optimizer = torch.optim.RMSprop(nature.parameters(), lr=2.5e-4)
started = time.perf_counter()
for _ in range(P.atari_timing_updates):   # time a few minibatch updates of 32 stacks
    loss = nature(batch).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
if device.type == "cuda":
    torch.cuda.synchronize()
per_update = (time.perf_counter() - started) / P.atari_timing_updates
updates = 50_000_000 // 4 // 4     # 50 M frames, an action every 4 frames, an update every 4 actions
print(f"one update: {per_update * 1000:.0f} ms on {device.type}; the paper's {updates:,} updates "
      f"would take about {updates * per_update / 3600:.0f} hours of updates alone")

# %% [markdown]
# That estimate is why there is no Atari training here: the Nature DQN trained each game for 50
# million frames (about 38 days of play) with a replay memory of the last million transitions,
# minibatches of 32, RMSProp at a learning rate of 0.00025, ε decaying from 1 to 0.1 over the
# first million frames, and a target network refreshed every 10,000 updates
# {cite:p}`mnih2015human`. The algorithm is the one you trained above; only the scale differs.

# %% [markdown]
# ## Checks
#
# The claims of this chapter, asserted on this run's results.

# %%
assert random_returns.mean() < 50, "a random policy keeps the pole up for only a few dozen steps"
assert log["solved_at"] is not None, "DQN did not pass its own solved check within max_steps"
assert test_returns.mean() >= env.spec.reward_threshold == 475, \
    f"greedy DQN mean return {test_returns.mean():.1f} is below Gymnasium's threshold"
assert episodes < 600, "solved with fewer episodes than the PyTorch tutorial's 600"
assert np.mean(reinforce_returns[-20:]) > 3 * random_returns.mean(), "REINFORCE learned to balance"
assert sum(p.numel() for p in NatureDQN(18).parameters()) == 1_693_362   # Nature DQN, 18 actions
assert tuple(stacked.shape) == (4, 84, 84) and raw.shape == (210, 160, 3)
assert html.count("data:image/png;base64") <= 60, "the animation stays light"
print("all checks passed")

# %% [markdown]
# ## Exercises
#
# 1. **Double DQN.** The $\max$ in the target both *chooses* and *evaluates* the next action with
#    the same noisy estimates, so it is biased upwards. Double DQN {cite:p}`vanhasselt2016deep`
#    chooses with the online network and evaluates with the target network. Change one line of
#    `dqn_update` and compare episodes-to-solve.
#
# ```{dropdown} Solution
# Replace the line computing `best_next` by
# `best_next = target_q(next_states).gather(1, q(next_states).argmax(1, keepdim=True)).squeeze(1)`.
# On CartPole the two solve in a similar number of episodes; the difference shows in the
# Q-values, which Double DQN keeps closer to the true discounted returns (at most
# $1/(1-\gamma) = 100$ here). Print `q(states).max(1).values.mean()` for both to see it.
# ```
#
# 2. **Take the stabilisers away.** Set `target_every=1` (no target network) or make the replay
#    buffer as small as a minibatch (`buffer_size=batch_size`). What happens to the learning curve?
#
# ```{dropdown} Solution
# Without a target network every update chases its own moving target and the returns oscillate
# or collapse after first rising. With a tiny buffer the agent learns only from its last few
# dozen steps, which are strongly correlated and all come from its current behaviour: it forgets
# what failure looked like once it stops failing, and performance swings. Both effects are what
# {cite:p}`mnih2015human` report in their ablations.
# ```
#
# 3. **Truncated is not terminated.** Push `terminated or truncated` into the buffer instead of
#    `terminated`. Why is that wrong, and does it matter here?
#
# ```{dropdown} Solution
# At step 500 the pole is still up; the episode ends only because of a time limit the agent cannot
# see (the time is not in the state). Marking it terminal teaches the network that some perfectly
# good states are worth nothing, which contradicts what it learns from identical states earlier in
# other episodes. On CartPole it slows learning and makes the greedy policy less stable near the
# limit; in tasks with long horizons it can prevent learning altogether.
# ```
#
# 4. **From REINFORCE to actor-critic.** Give the policy network a second head that predicts the
#    return-to-go $V(s)$, use $G_t - V(s_t)$ instead of the normalised return, and train $V$ with a
#    squared error. This is the core of A2C.
#
# ```{dropdown} Solution
# Output three numbers from the last layer: two logits and a value. The loss becomes
# `-(log_prob * (g - v).detach()).mean() + 0.5 * (g - v).pow(2).mean()` with `g` the raw
# (un-normalised) returns-to-go. The learned baseline depends on the state, so it removes more
# variance than the per-episode mean; the curve rises more steadily.
# ```
#
# ## References
#
# Full entries are in the [bibliography](../book/bibliography.md).
