"""pytest settings for the chapter notebooks (nbval).

nbval compares, in the cells marked NBVAL_CHECK_OUTPUT, every MIME type of an output except
images. HTML is a library's rendering of a value (pandas' table markup, a Styler's generated ids,
a widget's repr) and changes when the library does, so the book would break on an update though
every value is the same: only the plain text is compared (NOT_COMPARED). Figures are checked
by their fingerprints instead (demystify.claims), tables by their text/plain.
"""
from __future__ import annotations

import pytest

# nbval waits a hard-coded 5 s for a cell's output messages after the kernel's reply; on a busy
# 2-core CI machine a figure-heavy cell can take longer, and the cell then fails with "Timeout of
# 5 seconds exceeded waiting for output" although it ran. 60 s still catches a dead kernel.
OUTPUT_TIMEOUT_S = 60
NOT_COMPARED = ("text/html",)      # a rendering of a value, not the value


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every nbval cell item OUTPUT_TIMEOUT_S to deliver its outputs, and compare plain
    text only (nbval's notebook collector keeps the MIME types it skips in `skip_compare`)."""
    for item in items:
        if hasattr(item, "output_timeout"):
            item.output_timeout = OUTPUT_TIMEOUT_S
            notebook = item.parent
            missing = tuple(m for m in NOT_COMPARED if m not in notebook.skip_compare)
            notebook.skip_compare = tuple(notebook.skip_compare) + missing
