"""The HTTP API and the web page, one FastAPI app per process."""
from search.api.app import create_app

__all__ = ["create_app"]
