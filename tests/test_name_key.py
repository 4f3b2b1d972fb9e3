"""One name key (search/text.py name_key) fills the review classifier's tables and reads them, so a
library name written with 《》 is found as a library name instead of silently missing."""
from __future__ import annotations

from review.classify import index_for, predict
from review.rules import _norm
from search.text import name_key

NAME = "库房建设符合《档案馆建筑设计规范》比例"   # a bundled library indicator


def test_name_key_drops_title_marks_and_punctuation() -> None:
    assert name_key(NAME) == name_key("库房建设符合档案馆建筑设计规范比例") == "库房建设符合档案馆建筑设计规范比例"
    assert name_key(" 培训（人次）；") == "培训人次"


def test_a_library_name_with_title_marks_is_found_by_the_rules() -> None:
    idx = index_for(None)                       # the bundled catalogue
    assert idx.exact.get(_norm(NAME)) is not None
    assert predict(NAME, idx).source == "library"
    assert predict("库房建设符合档案馆建筑设计规范比例", idx).source == "library"
