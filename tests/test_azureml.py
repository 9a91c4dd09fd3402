"""azureml/: every spec is valid under Azure ML's own JSON schema (vendored in
tests/schemas/azureml/, see its README), its command runs a module of this package with arguments
that module and torchrun accept, and the jobs fit the clusters they name. All offline, no Azure."""
from __future__ import annotations

import ast
import copy
import importlib
import importlib.util
import json
import re
import shlex
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from torch.distributed.run import get_args_parser as torchrun_parser

from demystify.hardware import gpu_specs

ROOT = Path(__file__).resolve().parent.parent
AZUREML = ROOT / "azureml"
SCHEMAS = Path(__file__).resolve().parent / "schemas" / "azureml"
JOBS = ("job.yml", "job-multinode.yml")
CLUSTERS = {"job.yml": "compute.yml", "job-multinode.yml": "compute-multinode.yml"}
PLACEHOLDER = re.compile(r"\$\{\{\s*(inputs|outputs)\.(\w+)\s*\}\}")
# Azure ML sets these on every node of a distributed job; stand-ins so that argparse sees values.
AZURE_ENV = {"$NODE_RANK": "0", "$MASTER_ADDR": "10.0.0.4", "$MASTER_PORT": "6105"}


def load(name: str) -> dict:
    """The spec azureml/NAME as a dict."""
    return yaml.safe_load((AZUREML / name).read_text())


def schema_for(spec: dict) -> dict:
    """The vendored schema that the spec's own $schema URL names (same file name)."""
    path = SCHEMAS / spec["$schema"].rsplit("/", 1)[-1]
    assert path.is_file(), f"{spec['$schema']} is not vendored in {SCHEMAS}"
    return json.loads(path.read_text())


def schema_errors(spec: dict) -> list[str]:
    """Every way the spec breaks its schema, as readable lines (empty when it is valid)."""
    validator = jsonschema.Draft7Validator(schema_for(spec))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:300]}"
            for e in validator.iter_errors(spec)]


def torchrun_call(job: dict) -> list[str]:
    """The torchrun part of the job's command as argv, with ${{inputs.x}} replaced by the
    job's input values, ${{outputs.x}} by a folder name and $NODE_RANK etc. by stand-ins."""
    def value(match: re.Match) -> str:
        kind, name = match.groups()
        declared = job.get(kind) or {}
        assert name in declared, f"the command uses ${{{{{kind}.{name}}}}}, not in {kind}:"
        return str(declared[name]) if kind == "inputs" else f"/mnt/outputs/{name}"

    def stand_in(arg: str) -> str:
        option, _, variable = arg.partition("=")
        return f"{option}={AZURE_ENV[variable]}" if variable in AZURE_ENV else arg

    steps = [PLACEHOLDER.sub(value, step) for step in job["command"].split("&&")]
    launches = [shlex.split(step) for step in steps if step.split()[0] == "torchrun"]
    assert len(launches) == 1, f"expected one torchrun step in: {job['command']}"
    return [stand_in(arg) for arg in launches[0][1:]]


def launched(job: dict) -> tuple:
    """(torchrun's parsed options, the module it runs, that module's parsed arguments)."""
    args = torchrun_parser().parse_args(torchrun_call(job))
    assert args.module, "torchrun should run the course's script as a module (-m demystify.…)"
    spec = importlib.util.find_spec(args.training_script)
    assert spec is not None, f"the job runs {args.training_script}, which is not importable"
    module = importlib.import_module(args.training_script)
    return args, module, module.parse_args(args.training_script_args)


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


# --- the vendored schemas themselves -------------------------------------------------------

@pytest.mark.parametrize("name", ["commandJob.schema.json", "amlCompute.schema.json"])
def test_vendored_schema_is_a_schema_whose_refs_all_resolve(name):
    schema = json.loads((SCHEMAS / name).read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    refs = re.findall(r'"\$ref": "([^"]+)"', (SCHEMAS / name).read_text())
    assert refs, "expected the schema to use definitions"
    for ref in set(refs):
        assert ref.startswith("#/definitions/"), f"{name} refers outside itself: {ref}"
        assert ref.split("/")[-1] in schema["definitions"], f"{name}: {ref} does not resolve"


# --- every spec against its schema ---------------------------------------------------------

@pytest.mark.parametrize("name", sorted(p.name for p in AZUREML.glob("*.yml")))
def test_spec_is_valid_under_azure_ml_schema(name):
    spec = load(name)
    assert spec["$schema"].startswith("https://azuremlschemas.azureedge.net/latest/")
    assert not (errors := schema_errors(spec)), f"azureml/{name}:\n" + "\n".join(errors)


BROKEN_JOBS = {
    "misspelt key": lambda j: j.update(enviroment=j.pop("environment")),
    "no command": lambda j: j.pop("command"),
    "instance count as text": lambda j: j["resources"].update(instance_count="two"),
    "unknown distribution": lambda j: j.update(distribution={"type": "horovod"}),
    "unknown output type": lambda j: j["outputs"]["run"].update(type="folder"),
    "environment neither asset nor image": lambda j: j.update(environment="pytorch-2.8"),
}
BROKEN_CLUSTERS = {
    "no name": lambda c: c.pop("name"),
    "unknown tier": lambda c: c.update(tier="spot"),
    "min instances as text": lambda c: c.update(min_instances="none"),
    "wrong type": lambda c: c.update(type="computeinstance"),
}


@pytest.mark.parametrize("how", BROKEN_JOBS)
def test_schema_rejects_a_broken_job(how):
    job = copy.deepcopy(load("job.yml"))
    BROKEN_JOBS[how](job)
    assert schema_errors(job), f"a job with {how} passed the schema"


@pytest.mark.parametrize("how", BROKEN_CLUSTERS)
def test_schema_rejects_a_broken_cluster(how):
    cluster = copy.deepcopy(load("compute.yml"))
    BROKEN_CLUSTERS[how](cluster)
    assert schema_errors(cluster), f"a cluster with {how} passed the schema"


# --- what the command runs -----------------------------------------------------------------

@pytest.mark.parametrize("name", JOBS)
def test_command_runs_a_package_module_with_arguments_it_accepts(name):
    job = load(name)
    assert (AZUREML / job["code"]).resolve() == ROOT, "code: should upload the repository root"
    args, module, script_args = launched(job)
    assert args.training_script == "demystify.ddp_train"
    assert Path(module.__file__).resolve().is_relative_to(ROOT / "demystify")
    assert script_args.device == "cuda"                       # a GPU job must not fall back
    assert script_args.epochs == job["inputs"]["epochs"]
    assert script_args.global_batch == job["inputs"]["global_batch"]
    assert str(script_args.out) == "/mnt/outputs/run"
    assert args.nproc_per_node == str(job["inputs"]["gpus_per_node"])
    for kind in ("inputs", "outputs"):                       # nothing declared and left unused
        used = {name for k, name in PLACEHOLDER.findall(job["command"]) if k == kind}
        assert used == set(job.get(kind) or {}), f"{name}: {kind} declared but not used"


def test_a_bad_argument_in_the_command_is_caught():
    job = copy.deepcopy(load("job.yml"))
    job["command"] = job["command"].replace("--epochs", "--num-epochs")
    with pytest.raises(SystemExit):                          # argparse: unrecognized arguments
        launched(job)
    job = copy.deepcopy(load("job.yml"))
    job["command"] = job["command"].replace("demystify.ddp_train", "demystify.ddp_training")
    with pytest.raises(AssertionError, match="not importable"):
        launched(job)


@pytest.mark.parametrize("name", JOBS)
def test_job_installs_only_what_training_needs(name):
    job = load(name)
    install = job["command"].split("&&")[0]
    for toolchain in ("requirements", "jupyter", "playwright", "nbval", "sphinx"):
        assert toolchain not in install, f"{name} installs the book's toolchain ({toolchain})"
    extras = re.fullmatch(r'\s*python -m pip install --quiet "\.\[(\w+)\]"\s*', install)
    assert extras, f"{name}: expected the package with one extra, got {install!r}"
    optional = pyproject()["project"]["optional-dependencies"]
    assert extras[1] in optional, f"pyproject.toml has no extra {extras[1]!r}"
    # Every third-party module the script imports comes with the package, its extra or the image.
    declared = {Requirement(r).name.lower() for r in
                pyproject()["project"]["dependencies"] + optional[extras[1]]}
    tree = ast.parse((ROOT / "demystify" / "ddp_train.py").read_text())
    imported = {node.module if isinstance(node, ast.ImportFrom) else alias.name
                for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names if getattr(node, "level", 0) == 0}
    owners = packages_distributions()
    for top in {m.split(".")[0] for m in imported} - set(sys.stdlib_module_names) - {"demystify"}:
        dists = {d.lower() for d in owners.get(top, [top])}
        assert dists & declared, f"ddp_train imports {top}, which {name} does not install"


@pytest.mark.parametrize("name", JOBS)
def test_curated_environment_has_a_torch_the_package_admits(name):
    environment = load(name)["environment"]
    found = re.fullmatch(r"azureml:AzureML-acpt-pytorch-(\d+\.\d+)-cuda[\d.]+(@latest|:\d+)",
                         environment)
    assert found, f"{name}: expected a curated ACPT PyTorch environment, got {environment}"
    for requirement in map(Requirement, pyproject()["project"]["dependencies"]):
        if requirement.name == "torch":
            assert Version(found[1]) in requirement.specifier, (
                f"the image's torch {found[1]} is outside the package's {requirement}: pip "
                "would replace the image's CUDA build")


# The curated image's Python, as job.yml's comment records it from Azure/azureml-assets'
# acpt-pytorch-2.8-cuda12.6 spec (read 2026-11-30): the package must install and run on it.
CURATED_IMAGE_PYTHON = (3, 10)
# Standard-library modules added after 3.10: importing one would fail on the image.
STDLIB_AFTER_3_10 = {"tomllib", "wsgiref.types"}


def test_curated_image_python_is_one_the_package_admits():
    recorded = re.search(r"and Python (\d+)\.(\d+), prebuilt", (AZUREML / "job.yml").read_text())
    assert recorded, "job.yml's comment no longer records the curated image's Python version"
    assert tuple(map(int, recorded.groups())) == CURATED_IMAGE_PYTHON, (
        "job.yml names another Python for its image: update CURATED_IMAGE_PYTHON and check it")
    requires = SpecifierSet(pyproject()["project"]["requires-python"])
    assert Version("%d.%d" % CURATED_IMAGE_PYTHON) in requires, (
        f"pip on the image's Python {CURATED_IMAGE_PYTHON} would refuse the package "
        f"(requires-python {requires})")


@pytest.mark.parametrize("path", sorted((ROOT / "demystify").rglob("*.py")),
                         ids=lambda path: path.relative_to(ROOT).as_posix())
def test_package_source_is_python_3_10(path):
    """Every module parses as Python 3.10 (no syntax of a later Python) and imports no
    standard-library module added after it, so it runs on the curated image."""
    tree = ast.parse(path.read_text(), filename=str(path), feature_version=CURATED_IMAGE_PYTHON)
    imported = {node.module if isinstance(node, ast.ImportFrom) else alias.name
                for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names if getattr(node, "level", 0) == 0}
    assert not imported & STDLIB_AFTER_3_10, f"{path.name} imports {imported & STDLIB_AFTER_3_10}"


def test_a_python_3_11_construct_fails_the_3_10_parse():
    with pytest.raises(SyntaxError):
        ast.parse("try:\n    pass\nexcept* ValueError:\n    pass\n",
                  feature_version=CURATED_IMAGE_PYTHON)


# --- jobs and clusters agree ---------------------------------------------------------------

@pytest.mark.parametrize("name", JOBS)
def test_job_fits_its_cluster(name):
    job, cluster = load(name), load(CLUSTERS[name])
    assert job["compute"] == f"azureml:{cluster['name']}"
    assert cluster["min_instances"] == 0                       # scales to zero: no idle bill
    nodes = job["resources"]["instance_count"]
    assert 1 <= nodes <= cluster["max_instances"]
    sizes = dict(zip(gpu_specs()["vm_size"], gpu_specs()["gpus_per_vm"]))
    assert cluster["size"] in sizes, "the cluster's VM size should be one of data/gpu_specs.csv"
    assert job["inputs"]["gpus_per_node"] == sizes[cluster["size"]]
    assert job["inputs"]["global_batch"] % (nodes * job["inputs"]["gpus_per_node"]) == 0
    args, _, _ = launched(job)
    if nodes == 1:
        assert args.standalone and "distribution" not in job
    else:
        assert args.nnodes == str(nodes)
        assert job["distribution"] == {"type": "pytorch", "process_count_per_instance": 1}


def test_default_job_is_one_small_gpu():
    job, cluster = load("job.yml"), load("compute.yml")
    assert job["resources"]["instance_count"] == 1 and job["inputs"]["gpus_per_node"] == 1
    assert cluster["size"] == "Standard_NC4as_T4_v3" and cluster["max_instances"] == 1
