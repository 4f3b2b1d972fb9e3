"""Zhibiao ontology: the vocabulary (categories, sectors, units), the indicator model and the
curated library sources. Everything here is data-driven: the lists live in ``ontology/data`` and
``ontology/catalogue`` so that maintainers can replace them without touching code."""
