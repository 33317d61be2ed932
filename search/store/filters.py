"""Filters as SQL over the `articles` table (aliased `a`), shared by lexical search, allow-lists and facets."""
from __future__ import annotations

from datetime import date, datetime

from typing import TYPE_CHECKING

from search.store.records import Filters
from search.terms import lexical_text

if TYPE_CHECKING:
    from search.store.names import Names


def article_conditions(filters: Filters, names: Names | None = None) -> tuple[str, list]:
    """A WHERE fragment ("1" when empty) and its parameters; values inside a field match any. Entity values are
    matched by their canonical name under `names` (`entity=U.S.` finds "United States")."""
    parts: list[str] = []
    params: list = []
    for column, values in (("a.topic", filters.topics), ("a.source", filters.sources)):
        if values:
            parts.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    if filters.entities:
        # the value as given and its canonical name: a store indexed before a name rule or alias keeps old names
        entities = sorted({*filters.entities, *(names.canonical(v) for v in filters.entities)} if names
                          else set(filters.entities))
        # ASCII names through the NOCASE index; others casefolded (NOCASE folds ASCII only: "Örebro" ≠ "örebro")
        plain = [v for v in entities if v.isascii()]
        other = [v.casefold() for v in entities if not v.isascii()]
        match = " OR ".join(([f"e.name IN ({', '.join('?' * len(plain))})"] if plain else []) +
                            ([f"casefold(e.name) IN ({', '.join('?' * len(other))})"] if other else []))
        parts.append(f"""a.id IN (SELECT ae.article_id FROM article_entities ae JOIN entities e ON e.id = ae.entity_id
                         WHERE {match})""")
        params.extend(plain + other)
    if filters.excluded:  # an article is left out when any passage (title included) holds any excluded phrase
        parts.append("""a.id NOT IN (SELECT px.article_id FROM passages_fts JOIN passages px
                         ON px.id = passages_fts.rowid WHERE passages_fts MATCH ?)""")
        params.append(" OR ".join('"' + lexical_text(e).replace('"', '""') + '"' for e in filters.excluded))
    if filters.date_from:
        parts.append("a.published_date >= ?")
        params.append(iso_date(filters.date_from))
    if filters.date_to:
        parts.append("a.published_date <= ?")
        params.append(iso_date(filters.date_to))
    return (" AND ".join(parts) or "1"), params


def iso_date(value: str) -> str:
    """`YYYY-MM-DD` from an ISO date or datetime; ValueError with the bad value otherwise.

    Accepts what request validation accepts (`search.pipeline.recency.parse_date`): surrounding spaces, a
    basic-format datetime such as `20240501T0930`, a trailing `Z`.
    """
    text = value.strip()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        raise ValueError(f"not an ISO date: {value!r} (use YYYY-MM-DD)") from None
