"""demystify.launch: torchrun command lines, clear failures, checkpoint comparison."""
import sys

import pytest
import torch
from safetensors.torch import save_file

from demystify.launch import torchrun, torchrun_command, weight_difference


def test_torchrun_command_uses_this_python():
    command = torchrun_command("train.py", "--epochs", 2, nproc=3)
    assert command[:3] == [sys.executable, "-m", "torch.distributed.run"]
    assert "--nproc_per_node=3" in command and command[-3:] == ["train.py", "--epochs", "2"]
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="positive integer"):
            torchrun_command("train.py", nproc=bad)


def test_module_target_runs_with_dash_m():
    command = torchrun_command("demystify.ddp_train", "--epochs", 1, nproc=2, module=True)
    assert command[-4:] == ["-m", "demystify.ddp_train", "--epochs", "1"]


def test_missing_script_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="no training script"):
        torchrun(tmp_path / "absent.py", nproc=1)
    with pytest.raises(FileNotFoundError, match="no module 'demystify.absent'"):
        torchrun("demystify.absent", nproc=1, module=True)
    # A missing parent package (find_spec raises ModuleNotFoundError) gets the same message.
    with pytest.raises(FileNotFoundError, match="no module 'nonexistentpkg.mod'"):
        torchrun("nonexistentpkg.mod", nproc=1, module=True)


def test_failing_script_raises_with_its_output(tmp_path):
    script = tmp_path / "fail.py"
    script.write_text("import sys\nprint('rank says hello')\nsys.exit(3)\n")
    with pytest.raises(RuntimeError, match="exited with status") as err:
        torchrun(script, nproc=1, echo=False, timeout=120)
    assert "rank says hello" in str(err.value)


def test_weight_difference(tmp_path):
    a, b, c = (tmp_path / f"{n}.safetensors" for n in "abc")
    save_file({"w": torch.zeros(2, 2), "b": torch.ones(2)}, a)
    save_file({"w": torch.full((2, 2), 0.5), "b": torch.ones(2)}, b)
    save_file({"w": torch.zeros(3)}, c)
    assert weight_difference(a, a) == 0.0
    assert weight_difference(a, b) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="different tensors"):
        weight_difference(a, c)
    save_file({"w": torch.zeros(4), "b": torch.ones(2)}, c)
    with pytest.raises(ValueError, match="differ in shape"):
        weight_difference(a, c)
