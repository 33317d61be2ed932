"""Errors the model layer raises with a message that says what to do."""
from search.errors import ResourceError


class ModelLoadError(ResourceError):
    """A checkpoint folder is missing, incomplete or corrupt."""
