"""The CPU and GPU budgets each chapter scales with.

Every chapter reads its sizes (epochs, samples, model widths…) from here, so the same notebook
runs within its budget on a 2-core laptop and does more on a GPU. Instructors tune a course
run by editing one table. `DEMYSTIFY_PROFILE=cpu|gpu` overrides the automatic choice; the
stored notebook outputs always come from the CPU profile.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch

PROFILE_KINDS = ("cpu", "gpu")

# chapter -> {"budget_s": {"cpu": s, "gpu": s}, "cpu": {...sizes...}, "gpu": {...sizes...}}
# Each chapter owns its entry; budgets are wall-clock seconds for the whole notebook,
# measured with `make bench` (never in a timed test).
BUDGETS: dict[str, dict[str, Any]] = {
    "01_ml_vs_dl": {   # MNIST: t10k (committed) on CPU; the full set on GPU when present
        "budget_s": {"cpu": 90, "gpu": 120},
        "cpu": {"dataset": "mnist_t10k", "train_size": 2000, "svm_C": [1, 10, 100],
                "mlp_epochs": 10, "cnn_epochs": 10, "batch_size": 64, "max_shift": 4,
                "augment_shift": 3, "curve_sizes": [250, 500, 1000]},
        "gpu": {"dataset": "mnist", "train_size": 6000, "svm_C": [1, 10, 100],
                "mlp_epochs": 20, "cnn_epochs": 16, "batch_size": 64, "max_shift": 4,
                "augment_shift": 3, "curve_sizes": [250, 1000, 3000]},
    },
    "02_cnn_history": {
        "budget_s": {"cpu": 90, "gpu": 60},
        "cpu": {"dataset": "mnist_t10k", "conv_batch": 16, "conv_seconds": 1.0,
                "shift_samples": 500, "max_shift": 4, "lenet_epochs": 6, "lr": 2e-3,
                "batch_size": 32, "rnn_epochs": 15, "rbm_hidden": [256, 128],
                "rbm_digits": 7000, "rbm_epochs": 5, "cd_k": 1, "gibbs_steps": 1000,
                "finetune_epochs": 15, "labels_per_class": [1, 3, 10, 30],
                "min_epoch_digits": 320},
        "gpu": {"dataset": "mnist", "conv_batch": 256, "conv_seconds": 1.0,
                "shift_samples": 2000, "max_shift": 4, "lenet_epochs": 8, "lr": 2e-3,
                "batch_size": 128, "rnn_epochs": 30, "rbm_hidden": [256, 128],
                "rbm_digits": 20000, "rbm_epochs": 10, "cd_k": 1, "gibbs_steps": 5000,
                "finetune_epochs": 20, "labels_per_class": [1, 3, 10, 30, 100, 300],
                "min_epoch_digits": 320},
    },
    "03_imagenet_architectures": {
        "budget_s": {"cpu": 90, "gpu": 120},
        # MNIST's t10k digits (load_mnist_t10k); the CPU's lr, of 0.005, 0.01, 0.02, 0.05 and
        # 0.1, gave the deep plain network its best validation accuracy after 6 epochs (seed 0)
        "cpu": {"image_size": 8, "max_train": 1000, "width": 16, "shallow_blocks": 1,
                "deep_blocks": 4, "epochs": 6, "batch_size": 128, "lr": 0.01,
                "latency_repeats": 5, "latency_batch": 1},
        "gpu": {"image_size": 28, "max_train": 7000, "width": 16, "shallow_blocks": 3,
                "deep_blocks": 9, "epochs": 10, "batch_size": 128, "lr": 0.05,
                "latency_repeats": 20, "latency_batch": 32},
    },
    "04_nlp_vectors": {
        "budget_s": {"cpu": 90, "gpu": 60},
        "cpu": {"vocab_size": 4000, "min_count": 3, "embed_dim": 64, "window": 3, "negatives": 5,
                "subsample": 1e-3, "w2v_epochs": 2, "w2v_batch": 4096, "w2v_lr": 2e-2,
                "max_len": 32, "rnn_epochs": 6, "rnn_batch": 64, "rnn_lr": 2e-3},
        "gpu": {"vocab_size": 8000, "min_count": 3, "embed_dim": 128, "window": 5, "negatives": 5,
                "subsample": 1e-3, "w2v_epochs": 6, "w2v_batch": 8192, "w2v_lr": 1e-2,
                "max_len": 40, "rnn_epochs": 10, "rnn_batch": 128, "rnn_lr": 2e-3},
    },
    "05_question_answering": {   # bAbI 1k (1,000 questions a task); the GPU adds epochs
        # LSTM: batch 32, updates comparable to the memory network's; the reasoner and
        # the 10k memory network train for the same number of epochs (15 CPU, 50 GPU)
        "budget_s": {"cpu": 120, "gpu": 300},
        "cpu": {"memory_size": 50, "embedding_dim": 20, "hops": 3, "batch_size": 32,
                "linear_start_epochs": 5, "memn2n_epochs": 30, "restarts": 3,
                "lstm_sentences": 10, "lstm_hidden": 64, "lstm_epochs": 25, "lstm_batch": 32,
                "lstm_tasks": [1, 2],
                "reasoner_size": "10k", "reasoner_epochs": 15, "reasoner_batch": 256,
                "story_questions": 8, "memn2n_10k_linear_epochs": 5, "memn2n_10k_epochs": 10},
        "gpu": {"memory_size": 50, "embedding_dim": 20, "hops": 3, "batch_size": 32,
                "linear_start_epochs": 20, "memn2n_epochs": 60, "restarts": 3,
                "lstm_sentences": 50, "lstm_hidden": 64, "lstm_epochs": 60, "lstm_batch": 32,
                "lstm_tasks": [1, 2, 3, 19],
                "reasoner_size": "10k", "reasoner_epochs": 50, "reasoner_batch": 128,
                "story_questions": 15, "memn2n_10k_linear_epochs": 10,
                "memn2n_10k_epochs": 40},
    },
    "06_rcnn": {   # GPU sizes not yet validated on a GPU run
        "budget_s": {"cpu": 120, "gpu": 90},
        "cpu": {"canvas": 64, "train_scenes": 400, "val_scenes": 60, "test_scenes": 100,
                "backgrounds": 64, "crop": 24, "pretrain_epochs": 2, "rcnn_steps": 250,
                "rcnn_batch": 128, "faster_epochs": 2, "faster_batch": 8, "timed_images": 5},
        "gpu": {"canvas": 64, "train_scenes": 2000, "val_scenes": 300, "test_scenes": 500,
                "backgrounds": 256, "crop": 24, "pretrain_epochs": 4, "rcnn_steps": 2000,
                "rcnn_batch": 128, "faster_epochs": 8, "faster_batch": 8, "timed_images": 50},
    },
    "07_image_captioning": {   # GPU sizes not yet validated on a GPU run
        "budget_s": {"cpu": 120, "gpu": 90},
        "cpu": {"canvas": 48, "train_scenes": 2000, "val_scenes": 150, "test_scenes": 300,
                "pretrain_digits": 3000, "pretrain_epochs": 6, "embed": 64, "hidden": 128,
                "batch_size": 64, "epochs": 5, "beam_width": 3},
        "gpu": {"canvas": 48, "train_scenes": 10000, "val_scenes": 500, "test_scenes": 500,
                "pretrain_digits": 10000, "pretrain_epochs": 6, "embed": 64, "hidden": 128,
                "batch_size": 128, "epochs": 12, "beam_width": 3},
    },
    "08_deep_rl": {   # CartPole's MLPs run on the CPU in both profiles; the GPU times Atari updates
        "budget_s": {"cpu": 120, "gpu": 90},   # gpu sizes not yet validated on a GPU run
        "cpu": {"buffer_size": 50000, "batch_size": 256, "lr": 5e-4, "eps_end": 0.05,
                "eps_decay_steps": 10000, "learning_starts": 1000, "target_every": 250,
                "train_every": 4, "dqn_steps": 12000, "eval_every": 500, "dqn_seeds": 3,
                "reinforce_episodes": 400, "reinforce_lr": 1e-3, "atari_steps": 40,
                "atari_min_time": 1.0},
        "gpu": {"buffer_size": 50000, "batch_size": 256, "lr": 5e-4, "eps_end": 0.05,
                "eps_decay_steps": 10000, "learning_starts": 1000, "target_every": 250,
                "train_every": 4, "dqn_steps": 20000, "eval_every": 500, "dqn_seeds": 5,
                "reinforce_episodes": 800, "reinforce_lr": 1e-3, "atari_steps": 40,
                "atari_min_time": 2.0},
    },
    "09_transfer_learning": {   # GPU sizes not yet validated on a GPU run
        # source: MNIST's ten digits; target: scikit-learn's 8×8 digits, framed like MNIST
        "budget_s": {"cpu": 90, "gpu": 60},
        "cpu": {"dataset": "mnist_t10k", "image_size": 16, "source_epochs": 3,
                "batch_size": 64, "shots": [1, 5, 20], "draws": 4, "steps": 40,
                "max_steps": 50, "eval_every": 10, "yosinski_shots": 5, "resnet_size": 64},
        "gpu": {"dataset": "mnist", "image_size": 16, "source_epochs": 5,
                "batch_size": 256, "shots": [1, 5, 20], "draws": 10, "steps": 40,
                "max_steps": 100, "eval_every": 10, "yosinski_shots": 5,
                "resnet_size": 112},
    },
    "10_azure_gpus": {
        "budget_s": {"cpu": 90, "gpu": 180},
        "cpu": {"matmul_sizes": [128, 256, 512], "lowp_sizes": [128, 256],
                "copy_mib": [4, 256], "min_time_s": 0.2, "step_time_s": 1.5,
                "image_size": 224, "batch_size": 2, "compile": False, "variant_steps": 20,
                "loader_images": 128, "loader_batch": 32, "workers": 2,
                "ddp_nproc": 2, "ddp_epochs": 1, "ddp_global_batch": 64},
        "gpu": {"matmul_sizes": [512, 1024, 2048, 4096, 8192], "lowp_sizes": [1024, 4096, 8192],
                "copy_mib": [16, 2048], "min_time_s": 0.3, "step_time_s": 1.0,
                "image_size": 224, "batch_size": 128, "compile": True, "variant_steps": 20,
                "loader_images": 2048, "loader_batch": 128, "workers": 4,
                "ddp_nproc": 2, "ddp_epochs": 1, "ddp_global_batch": 64},
    },
}


class Profile(Mapping):
    """One chapter's sizes for one profile; read them as attributes (`P.epochs`) or keys."""

    def __init__(self, chapter: str, kind: str, budget_s: float, sizes: Mapping[str, Any],
                 seed: int = 0):
        self.chapter, self.kind, self.budget_s, self.seed = chapter, kind, budget_s, seed
        self._sizes = dict(sizes)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._sizes[key]
        except KeyError:
            raise AttributeError(f"profile {self.chapter!r} has no size {key!r}; "
                                 f"it has: {', '.join(sorted(self._sizes))}") from None

    def __getitem__(self, key: str) -> Any:
        return self.__getattr__(key)

    def __iter__(self):
        return iter(self._sizes)

    def __len__(self) -> int:
        return len(self._sizes)

    def replace(self, **changes: Any) -> "Profile":
        """A new profile with some sizes changed (`P = P.replace(shots=[1, 5, 50])`).

        Only sizes the profile already has can be changed: an unknown name raises one
        ValueError that lists the known ones (a typo would otherwise be silently ignored).
        The original profile is left as it was.
        """
        unknown = sorted(set(changes) - set(self._sizes))
        if unknown:
            raise ValueError(f"profile {self.chapter!r} has no size {', '.join(map(repr, unknown))}"
                             f"; it has: {', '.join(sorted(self._sizes))}")
        return Profile(self.chapter, self.kind, self.budget_s, {**self._sizes, **changes},
                       self.seed)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={v}" for k, v in self._sizes.items())
        return (f"profile {self.kind} for {self.chapter} (budget {self.budget_s} s, "
                f"seed {self.seed}): {sizes}")


def profile_kind(device: torch.device | str | None = None) -> str:
    """'gpu' on CUDA or MPS, else 'cpu'; $DEMYSTIFY_PROFILE overrides it."""
    chosen = os.environ.get("DEMYSTIFY_PROFILE", "").strip().lower()
    if chosen:
        if chosen not in PROFILE_KINDS:
            raise ValueError(f"DEMYSTIFY_PROFILE={chosen!r} is not a profile: use cpu or gpu")
        return chosen
    if device is None:
        from .device import get_device
        device = get_device()
    from .device import as_device
    return "gpu" if as_device(device).type in ("cuda", "mps") else "cpu"


def profile(chapter: str, device: torch.device | str | None = None, seed: int = 0) -> Profile:
    """The sizes chapter `chapter` runs with on `device` (CPU budget on CPU, GPU budget on GPUs);
    `P.seed` is the run's seed (`demystify.start` passes $DEMYSTIFY_SEED)."""
    if chapter not in BUDGETS:
        raise ValueError(f"no profile for chapter {chapter!r}; known chapters: "
                         f"{', '.join(sorted(BUDGETS))} (add yours to demystify/profile.py)")
    kind = profile_kind(device)
    entry = BUDGETS[chapter]
    return Profile(chapter, kind, entry["budget_s"][kind], entry[kind], seed)
