"""azureml/: the job and compute specs parse, and every path they name exists."""
import re
from pathlib import Path

import yaml

from demystify.hardware import gpu_specs

ROOT = Path(__file__).resolve().parent.parent
AZUREML = ROOT / "azureml"


def load(name):
    return yaml.safe_load((AZUREML / name).read_text())


def test_job_names_only_paths_that_exist():
    job = load("job.yml")
    assert job["type"] == "command" and job["$schema"].startswith("https://azuremlschemas")
    code = (AZUREML / job["code"]).resolve()
    assert code == ROOT
    for path in re.findall(r"[\w./-]+\.(?:py|txt)\b", job["command"]):
        assert (code / path).is_file(), f"job.yml's command names {path}, which is not in the repository"
    assert "requirements.txt" in job["command"] and "chapters/scripts/ddp_train.py" in job["command"]
    assert "image" in job["environment"]


def test_job_and_cluster_agree():
    job, compute = load("job.yml"), load("compute.yml")
    assert job["compute"] == f"azureml:{compute['name']}"
    nodes = int(re.search(r"--nnodes=(\d+)", job["command"]).group(1))
    assert nodes == job["resources"]["instance_count"] <= compute["max_instances"]
    assert job["distribution"] == {"type": "pytorch", "process_count_per_instance": 1}
    assert compute["min_instances"] == 0                        # scales to zero: no idle bill
    sizes = dict(zip(gpu_specs()["vm_size"], gpu_specs()["gpus_per_vm"]))
    assert compute["size"] in sizes, "the cluster's VM size should be one of data/gpu_specs.csv"
    assert job["inputs"]["gpus_per_node"] == sizes[compute["size"]]
    assert job["inputs"]["global_batch"] % (nodes * job["inputs"]["gpus_per_node"]) == 0
