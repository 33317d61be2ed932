"""The store: SQLite schema (articles, passages, entities, FTS5), the FAISS vector index and their manifest."""
from search.store.errors import StoreError
from search.store.records import ArticleRow, ArticleWrite, Filters, Mention, PassageRow, PassageWrite, article_text
from search.store.store import Store
from search.store.sharded import ShardedStore, open_store
from search.store.vectors import VectorIndex

__all__ = ["StoreError", "ArticleRow", "ArticleWrite", "Filters", "Mention", "PassageRow", "PassageWrite",
           "article_text", "Store", "ShardedStore", "open_store", "VectorIndex"]
