"""pytest settings for the chapter notebooks (nbval)."""
from __future__ import annotations

import pytest

# nbval waits a hard-coded 5 s for a cell's output messages after the kernel's reply; on a busy
# 2-core CI machine a figure-heavy cell can take longer, and the cell then fails with "Timeout of
# 5 seconds exceeded waiting for output" although it ran. 60 s still catches a dead kernel.
OUTPUT_TIMEOUT_S = 60


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every nbval cell item OUTPUT_TIMEOUT_S to deliver its outputs."""
    for item in items:
        if hasattr(item, "output_timeout"):
            item.output_timeout = OUTPUT_TIMEOUT_S
