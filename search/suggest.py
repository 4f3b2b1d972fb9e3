"""Prefix autocomplete over indicator names, categories, sectors, fields and project types, typed
in characters, full pinyin or pinyin initials.

Why sorted arrays and bisect: a prefix is a contiguous range of a sorted list, so each keystroke
costs two binary searches whatever the library size; the arrays are built with the index and
replaced with it."""
from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from typing import Any

from ontology.nodes import CATEGORY, FIELD, LEVEL1, PROJECT_TYPE, SECTOR

from .index import SearchIndex
from .text import initials_of, looks_like_pinyin, syllables

TYPE_KEYS = {"indicator": "indicator", PROJECT_TYPE: "project_type", SECTOR: "sector", FIELD: "field",
             CATEGORY: "category", LEVEL1: "level1"}
TYPE_NAMES = {"indicator": "指标", PROJECT_TYPE: "项目类型", SECTOR: "行业", FIELD: "领域",
              CATEGORY: "指标类别", LEVEL1: "一级指标"}
# vocabulary entries first when equally good: they narrow the search the most
TYPE_RANK = {SECTOR: 0, CATEGORY: 1, LEVEL1: 1, PROJECT_TYPE: 2, FIELD: 3, "indicator": 4}


class Suggester:
    def __init__(self, index: SearchIndex):
        self.index = index
        counts = Counter(index.names)  # the name column, without making a Doc per indicator
        entries: list[tuple[str, str, int, str | None]] = [(n, "indicator", c, None) for n, c in counts.items()]
        for c in index.ctx.values():
            entries.append((c.name, c.label, len(index.ctx_doc_array(c.code)), c.id))
        self.entries = entries
        self.by_text = sorted((e[0], i) for i, e in enumerate(entries))
        full, ini = [], []
        for i, e in enumerate(entries):
            syl = syllables(e[0])
            full.append(("".join(syl), i))
            ini.append((initials_of(syl), i))
        self.by_full = sorted(full)
        self.by_initials = sorted(ini)

    @staticmethod
    def _prefix(arr: list[tuple[str, int]], p: str, cap: int = 400) -> list[int]:
        lo = bisect_left(arr, (p, -1))
        out = []
        for k in range(lo, min(len(arr), lo + cap)):
            if not arr[k][0].startswith(p):
                break
            out.append(arr[k][1])
        return out

    def suggest(self, q: str, limit: int = 10) -> dict[str, Any]:
        """Completions ranked by how the prefix matched, the entry type and how many indicators it
        covers (a popular completion is the likely one)."""
        from engine.library import BadQuery
        text = (q or "").strip()
        if not text:
            raise BadQuery("empty_query", "请输入至少一个字或拼音字母，如 学生、xs、xuesheng")
        if not 1 <= limit <= 50:
            raise BadQuery("bad_limit", f"limit 须在 1 到 50 之间（收到 {limit}）")
        found: dict[int, tuple[int, str]] = {}
        if looks_like_pinyin(text):
            p = re.sub(r"[\s']+", "", text.lower())
            for i in self._prefix(self.by_full, p):
                found.setdefault(i, (0, "全拼前缀"))
            for i in self._prefix(self.by_initials, p):
                found.setdefault(i, (1, "首字母前缀"))
        else:
            for i in self._prefix(self.by_text, text):
                found.setdefault(i, (0, "前缀"))
            if len(found) < limit:  # then names that contain the text
                for i, e in enumerate(self.entries):
                    if text in e[0] and i not in found:
                        found[i] = (2, "包含")
                        if len(found) >= 200:
                            break
        ranked = sorted(found.items(), key=lambda t: (t[1][0], TYPE_RANK.get(self.entries[t[0]][1], 5),
                                                      -min(self.entries[t[0]][2], 50) // 10,
                                                      len(self.entries[t[0]][0]), self.entries[t[0]][0]))
        out = []
        seen = set()
        for i, (_, how) in ranked:
            text_, typ, count, cid = self.entries[i]
            if (text_, typ) in seen:
                continue
            seen.add((text_, typ))
            item: dict[str, Any] = {"text": text_, "type": TYPE_KEYS.get(typ, typ),
                                    "type_name": TYPE_NAMES.get(typ, typ), "count": count, "match": how}
            if cid:
                item["id"] = cid
                c = self.index.ctx[cid]
                if c.sector_id and c.label != SECTOR and c.sector_id in self.index.ctx:
                    item["sector"] = self.index.ctx[c.sector_id].name
            out.append(item)
            if len(out) >= limit:
                break
        return {"q": text, "suggestions": out, "library_version": self.index.version}
