"""The value grammar moved to ``ontology/values.py`` (one parser for loaders, field rules, review,
recommend and the loop). This name stays importable for code written against it."""
from ontology.values import (KINDS, ParsedValue, chinese_number, clean_name, lexicon, named_standard,  # noqa: F401
                             normalise_unit, parse_value, plain_number, plain_range, stored_value)
