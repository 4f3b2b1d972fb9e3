"""Search, autocomplete and recommendation of indicators over the library graph.

``SearchService`` (search.engine) is the entry point for the API and the CLI; ``SearchIndex``
(search.index) is the immutable per-version index it swaps in when the library changes."""
from .engine import SearchService, build_index

__all__ = ["SearchService", "build_index"]
