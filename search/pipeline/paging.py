"""Stage 5: pagination over the final result list (1-based pages)."""
from __future__ import annotations

import math
from typing import Sequence, TypeVar

T = TypeVar("T")


def paginate(items: Sequence[T], page: int, size: int) -> tuple[list[T], int]:
    """(the items of `page`, number of pages); a page past the end is empty, not an error."""
    start = (page - 1) * size
    return list(items[start:start + size]), paginate_count(len(items), size)


def paginate_count(total: int, size: int) -> int:
    """Pages of `size` that `total` items fill (0 for none), for lists paged in SQL."""
    return math.ceil(total / size) if total else 0
