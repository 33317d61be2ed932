"""The one error type the store raises, so callers can turn it into a clear message or a 4xx."""
from search.errors import ResourceError


class StoreError(ResourceError):
    """No store at the path, a store made by another model or schema, or a vector file that cannot be read."""
