"""Facet counts (topics, entities, sources) over the candidate set, for the sidebar that narrows a search."""
from __future__ import annotations

from typing import Sequence

from search.pipeline.records import FacetValue
from search.store import Store

FACET_LIMIT = 15  # values per facet; the sidebar shows the most frequent


def candidate_facets(store: Store, passage_ids: Sequence[int] | None, limit: int = FACET_LIMIT
                     ) -> dict[str, list[FacetValue]]:
    """Article counts for the given passages' articles (None = the whole store), most frequent first."""
    counts = store.facets(list(passage_ids) if passage_ids is not None else None, limit=limit)
    return {name: [FacetValue(str(value), int(count)) for value, count in values] for name, values in counts.items()}
