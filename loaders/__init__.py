"""Loaders: read maintainers' files (CSV, XLSX, JSON, Turtle/JSON-LD), validate everything first,
then apply one atomic change set to a graph store. Readers are pure functions of a file; the
ingest step alone touches the store."""
from .ingest import LoadError, LoadReport, load_file, seed_bundled_library

__all__ = ["LoadError", "LoadReport", "load_file", "seed_bundled_library"]
