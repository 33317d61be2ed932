"""The HTTP API and the web page, one FastAPI app per process.

`create_app` (which loads the model, hence torch) is imported on first use, so `serve --help` and the settings
load without it (PEP 562 module `__getattr__`).
"""
from typing import TYPE_CHECKING, Any

from search.api.settings import ServeSettings

if TYPE_CHECKING:
    from search.api.app import create_app

__all__ = ["create_app", "ServeSettings"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from search.api.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
