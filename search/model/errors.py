"""Errors the model layer raises with a message that says what to do."""


class ModelLoadError(RuntimeError):
    """A checkpoint folder is missing, incomplete or corrupt."""
