import re
from pathlib import Path

import pandas as pd
import pytest

from demystify import DataCorrupt, DataNotAvailable, sha256sum
from demystify import data, tables
from demystify.tables import TABLES, read_table, table_path

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", sorted(TABLES))
def test_committed_tables_match_their_checksums_and_the_provenance_page(name):
    path = table_path(name)
    assert path == ROOT / "data" / name and sha256sum(path) == TABLES[name]
    readme = (ROOT / "data" / "README.md").read_text()
    rows = [line for line in readme.splitlines() if f"`data/{name}`" in line or f"`{name}`" in line]
    assert rows, f"data/README.md has no row for {name}"
    assert re.search(TABLES[name], rows[0]), f"data/README.md records another SHA-256 for {name}"


def test_tables_parse():
    results = read_table("ilsvrc_results.csv")
    assert isinstance(results, pd.DataFrame) and {"year", "top5_error_pct", "source"} <= set(results)
    configs = read_table("vgg_configs.yaml")
    assert set(configs["configurations"]) == {"A", "A-LRN", "B", "C", "D", "E"}


def test_unknown_table_names_the_known_ones():
    with pytest.raises(ValueError, match="ilsvrc_results.csv"):
        table_path("imagenet.csv")


def _isolated(monkeypatch, tmp_path, name="t.csv", content=b"a,b\n1,2\n"):
    """A fake checkout with one registered table; DEMYSTIFY_DATA points elsewhere."""
    checkout, cache = tmp_path / "checkout", tmp_path / "cache"
    checkout.mkdir(parents=True)
    cache.mkdir(parents=True)
    monkeypatch.setattr(data, "CHECKOUT_DATA", checkout)
    monkeypatch.setattr(data, "PACKAGED_DATA", tmp_path / "not-installed")
    monkeypatch.setenv("DEMYSTIFY_DATA", str(cache))
    (checkout / name).write_bytes(content)
    monkeypatch.setitem(TABLES, name, sha256sum(checkout / name))
    return checkout, cache


def test_a_changed_table_fails_with_what_to_do(monkeypatch, tmp_path):
    checkout, _ = _isolated(monkeypatch, tmp_path)
    (checkout / "t.csv").write_bytes(b"a,b\n1,3\n")
    with pytest.raises(DataCorrupt, match="git checkout -- data/t.csv"):
        table_path("t.csv")


def test_a_missing_table_is_never_downloaded_implicitly(monkeypatch, tmp_path):
    checkout, _ = _isolated(monkeypatch, tmp_path)
    (checkout / "t.csv").unlink()
    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: pytest.fail("network used"))
    with pytest.raises(DataNotAvailable, match="DEMYSTIFY_DOWNLOAD=1"):
        table_path("t.csv")


def test_a_table_outside_a_checkout_is_read_from_the_data_dir(monkeypatch, tmp_path):
    checkout, cache = _isolated(monkeypatch, tmp_path)
    (checkout / "t.csv").rename(cache / "t.csv")
    assert table_path("t.csv") == cache / "t.csv"
    assert read_table("t.csv")["b"].tolist() == [2]


def test_unreadable_tables_raise_data_corrupt(monkeypatch, tmp_path):
    _isolated(monkeypatch, tmp_path, "t.yaml", b"key: [unclosed\n")
    with pytest.raises(DataCorrupt, match="not a readable YAML"):
        read_table("t.yaml")
    _isolated(monkeypatch, tmp_path / "2", "u.yaml", b"- a list\n")
    with pytest.raises(DataCorrupt, match="mapping"):
        read_table("u.yaml")
