"""The base of newsearch's own errors: each one's message says what to fix, so a CLI prints it and exits 2 (3 for
a ResourceError) and the API turns it into a 4xx. Kept free of imports so that any command can catch it cheaply."""


class NewsearchError(Exception):
    """A problem with the user's input or files (a missing checkpoint, a store made by another model...)."""


class ResourceError(NewsearchError):
    """A store or a model that cannot be used as it is (the CLIs exit 3 on it, as against 2 for bad input)."""
