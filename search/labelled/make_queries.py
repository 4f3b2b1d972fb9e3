"""How the generated part of queries.yaml was made (kept so it can be re-made and reviewed).

    python -m search.labelled.make_queries LIBRARY.json > /tmp/generated.yaml

Generated queries are variants of real indicator names drawn with a fixed seed, spread over all
sectors: the exact name in characters, its full pinyin, its initials, an input-method typo (one
character replaced by another character of the library with the same pinyin, as IMEs produce) and
a dropped character. The relevant set of each is every indicator carrying the source name. The
hand-written part (colloquial wording, project type + indicator, partial keywords) is in
queries.yaml under ``source: hand``; this script does not touch it."""
from __future__ import annotations

import json
import random
import sys
from collections import defaultdict

from pypinyin import lazy_pinyin

from search.text import initials_of, syllables

KINDS = {"chars": 35, "pinyin": 25, "initials": 25, "typo": 25, "drop": 10}


def main(path: str) -> None:
    nodes = json.load(open(path, encoding="utf-8"))["nodes"]
    by_sector: dict[str, list[str]] = defaultdict(list)
    for n in nodes:
        if n["label"] == "Indicator" and n["props"].get("scope") == "industry":
            sec = dict(n["edges"]).get("IN_SECTOR", "")
            name = n["props"]["name"]
            if 4 <= len(name) <= 10 and name.isascii() is False and all("\u4e00" <= c <= "\u9fff" for c in name):
                by_sector[sec].append(name)
    chars_by_py: dict[str, set[str]] = defaultdict(set)
    for names in by_sector.values():
        for nm in names:
            for c in nm:
                chars_by_py[lazy_pinyin(c)[0]].add(c)
    rng = random.Random(20260401)
    sectors = sorted(by_sector)
    used: set[str] = set()
    out = []
    for kind, count in KINDS.items():
        made = 0
        while made < count:
            sec = sectors[(made + len(out)) % len(sectors)]
            name = rng.choice(sorted(set(by_sector[sec])))
            if name in used:
                continue
            syl = syllables(name)
            if kind == "chars":
                q = name
            elif kind == "pinyin":
                q = "".join(syl)
            elif kind == "initials":
                if len(name) < 5:
                    continue
                q = initials_of(syl)
            elif kind == "typo":
                i = rng.randrange(1, len(name))
                alts = sorted(chars_by_py[lazy_pinyin(name[i])[0]] - {name[i]})
                if not alts:
                    continue
                q = name[:i] + rng.choice(alts) + name[i + 1:]
            else:
                i = rng.randrange(1, len(name) - 1)
                q = name[:i] + name[i + 1:]
            used.add(name)
            out.append({"q": q, "kind": kind, "names": [name], "source": "generated"})
            made += 1
    for e in out:
        print(f"- {json.dumps(e, ensure_ascii=False)}")


if __name__ == "__main__":
    main(sys.argv[1])
