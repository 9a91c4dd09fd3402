"""Launch a training script on several processes with torchrun, and compare what they wrote.

Chapter 10 (and tests/test_ddp.py) run the course's DDP script, the module
`demystify.ddp_train`, with 1 and 2 processes and check that both reach the same weights. torchrun is PyTorch's own launcher
(`python -m torch.distributed.run`); this module only builds its command line, runs it with
this Python, and turns a failure into one clear error.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path


def torchrun_command(script: str | Path, *args: object, nproc: int = 2,
                     module: bool = False) -> list[str]:
    """The command that runs `script` on `nproc` processes of this machine (`--standalone`).

    With `module=True`, `script` is a module name run like `python -m` (torchrun's `-m`).
    """
    if not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"nproc must be a positive integer, got {nproc!r}")
    target = ["-m", str(script)] if module else [str(script)]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc_per_node={nproc}", *target, *map(str, args)]


def torchrun(script: str | Path, *args: object, nproc: int = 2, timeout: float = 600,
             threads_per_process: int | None = None, echo: bool = True,
             module: bool = False) -> str:
    """Run `script` under torchrun on `nproc` local processes; return everything it printed.

    `script` is a file, or with `module=True` an importable module such as
    "demystify.ddp_train". Each process gets `threads_per_process` CPU threads (default: the
    cores shared out evenly). Raises FileNotFoundError for a missing script or module and
    RuntimeError, with the end of the output, when any process fails or the run exceeds
    `timeout` seconds.
    """
    if module:
        import importlib.util
        try:
            spec = importlib.util.find_spec(str(script))
        except ModuleNotFoundError:      # find_spec("pkg.mod") imports pkg, which is missing
            spec = None
        if spec is None:
            raise FileNotFoundError(f"no module {script!r} to run: is the package that holds "
                                    f"it installed in this Python ({sys.executable})?")
    elif not Path(script).is_file():
        raise FileNotFoundError(f"no training script at {script}: pass the script's path, or a "
                                f"module name with module=True")
    command = torchrun_command(script, *args, nproc=nproc, module=module)
    threads = threads_per_process or max(1, (os.cpu_count() or 1) // nproc)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONUNBUFFERED": "1"}
    if echo:
        print("$ torchrun " + shlex.join(command[3:]))
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"torchrun did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        raise RuntimeError(f"torchrun exited with status {done.returncode}; the end of its output:\n"
                           f"{_failure_summary(done.stdout, done.stderr)}")
    return done.stdout


def _failure_summary(stdout: str, stderr: str, keep: int = 15) -> str:
    """What the processes printed and why they stopped, without the launcher's own traceback."""
    lines = stderr.splitlines()
    launcher = next((i for i, line in enumerate(lines) if "torch/distributed/run.py" in line), len(lines))
    start = next((i for i in range(launcher, -1, -1) if i < len(lines)
                  and lines[i].startswith("Traceback")), launcher)
    causes = [line.strip() for line in lines[start:] if line.strip().startswith(("rank", "exitcode"))]
    return "\n".join(stdout.strip().splitlines()[-keep:] + lines[:start][-keep:] + causes)


def weight_difference(a: str | Path, b: str | Path) -> float:
    """The largest absolute difference between two safetensors checkpoints of the same model.

    Raises ValueError when they hold different tensors (names or shapes).
    """
    from safetensors.torch import load_file

    first, second = load_file(str(a)), load_file(str(b))
    if first.keys() != second.keys():
        raise ValueError(f"{a} and {b} hold different tensors: "
                         f"{sorted(first.keys() ^ second.keys())}")
    shapes = {k: (tuple(first[k].shape), tuple(second[k].shape)) for k in first
              if first[k].shape != second[k].shape}
    if shapes:
        raise ValueError(f"{a} and {b} differ in shape: {shapes}")
    return max((first[k].double() - second[k].double()).abs().max().item() for k in first)
