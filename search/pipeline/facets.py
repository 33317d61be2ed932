"""Facet counts (topics, entities, sources) over a search's candidate set or over what filters allow, for the
sidebar that narrows a search."""
from __future__ import annotations

from typing import Sequence

from search.pipeline.records import FacetValue
from search.store import Filters, Store

FACET_LIMIT = 15  # values per facet; the sidebar shows the most frequent


def candidate_facets(store: Store, passage_ids: Sequence[int] | None, limit: int = FACET_LIMIT
                     ) -> dict[str, list[FacetValue]]:
    """Article counts for the given passages' articles (None = the whole store), most frequent first."""
    return _facet_values(store.facets(list(passage_ids) if passage_ids is not None else None, limit=limit))


def filtered_facets(store: Store, filters: Filters, limit: int = FACET_LIMIT) -> dict[str, list[FacetValue]]:
    """Article counts over the articles `filters` allow (the whole store when empty), most frequent first."""
    return _facet_values(store.facets(None, limit=limit, filters=filters))


def _facet_values(counts: dict[str, list[tuple[str, int]]]) -> dict[str, list[FacetValue]]:
    """The store's (value, count) pairs as records."""
    return {name: [FacetValue(str(value), int(count)) for value, count in values] for name, values in counts.items()}
