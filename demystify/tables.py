"""The small fact tables committed under data/ (competition results, configurations), verified.

A chapter reads a table by name, e.g. `read_table("ilsvrc_results.csv")`. In a checkout of the
repository the file is read in place; an installed package (Colab, an Azure VM) ships its own
copy (`demystify.data.course_file`). Failing both, it is found under `data_dir()`, or downloaded
from the repository when the learner opts in with
`DEMYSTIFY_DOWNLOAD=1` — never implicitly. Either way its SHA-256, recorded here and in
data/README.md, is checked, so a damaged or silently edited table fails with a clear message.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .data import DataCorrupt, DataNotAvailable, course_file, fetch, sha256sum

# Where the tables are published (a checkout reads data/, an installed package its own copy).
REPOSITORY_DATA_URL = ("https://raw.githubusercontent.com/demystify-dl/demystifying-deep-learning/"
                       "main/data/")

# name -> SHA-256 of the committed file (keep in step with data/README.md; a unit test checks both).
TABLES: dict[str, str] = {
    "ilsvrc_results.csv": "6554c6c5530bb29ac9214580ffb043fd316f2312bde8ec036257a16606da0fd2",
    "vgg_configs.yaml": "6768f7169a42c19b437582586d0b40876b9da51d33544e640e7909efaa59b43c",
    "gpu_specs.csv": "77068c82ce88a06e64f7d748b0611be6039297b144dad28740ee73bfb69b1925",
}


def table_path(name: str) -> Path:
    """The verified local file of the committed table `name` (e.g. "ilsvrc_results.csv").

    Raises ValueError for an unknown name, DataCorrupt when the file does not match its
    SHA-256, and DataNotAvailable (saying how to get it) when it is not on this machine.
    """
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; the committed tables are: "
                         f"{', '.join(sorted(TABLES))}")
    try:
        local = course_file(name)
    except DataNotAvailable:
        local = None
    if local is not None:
        actual = sha256sum(local)
        if actual != TABLES[name]:
            raise DataCorrupt(f"{local} does not match its recorded SHA-256 ({actual[:12]}…, "
                              f"expected {TABLES[name][:12]}…): restore it with "
                              f"`git checkout -- data/{name}`, or, if you changed it on purpose, "
                              f"record the new checksum in demystify/tables.py and data/README.md")
        return local
    return fetch(REPOSITORY_DATA_URL + name, name, TABLES[name], what=f"the course table {name}")


def read_table(name: str) -> Any:
    """A committed table, parsed: a pandas DataFrame for .csv, a dict for .yaml/.yml."""
    path = table_path(name)
    if path.suffix == ".csv":
        import pandas as pd
        try:
            return pd.read_csv(path)
        except (ValueError, UnicodeDecodeError) as err:   # pandas' ParserError is a ValueError
            raise DataCorrupt(f"{path} is not a readable CSV table ({err})") from None
    if path.suffix in (".yaml", ".yml"):
        import yaml
        try:
            content = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            raise DataCorrupt(f"{path} is not a readable YAML table ({err})") from None
        if not isinstance(content, dict):
            raise DataCorrupt(f"{path} should hold a mapping at the top level, "
                              f"not {type(content).__name__}")
        return content
    raise ValueError(f"no reader for {path.suffix!r} files (table {name!r}); use .csv or .yaml")
