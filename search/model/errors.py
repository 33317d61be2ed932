"""Errors the model layer raises with a message that says what to do."""
from search.errors import NewsearchError


class ModelLoadError(NewsearchError):
    """A checkpoint folder is missing, incomplete or corrupt."""
