"""Where the real data sets live for the tests that train or evaluate on them (CI has `../shared/data`)."""
import os
from pathlib import Path

import pytest

SHARED_DATA = Path(os.environ.get("NEWSEARCH_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))

needs_shared_data = pytest.mark.skipif(not (SHARED_DATA / "README.md").exists(),
                                       reason=f"real data sets not found at {SHARED_DATA} (set NEWSEARCH_DATA)")
