"""Search engine, autocomplete, recommendation and index lifecycle, over the bundled library.

The full-library index is built once per session (about 5 s) and shared through the process-wide
cache of search.engine; the lifecycle tests use the small library."""
from __future__ import annotations

import threading
import time

import pytest

from engine.library import BadQuery, NotFound
from graph import open_store
from graph.store import ChangeSet, LoadRecord, Node
from search.engine import SearchService
from search.text import initials_of, syllables

REQUIRED = {"数量", "质量", "时效", "成本", "效益", "满意度"}


@pytest.fixture
def svc(seeded_store) -> SearchService:
    return SearchService(seeded_store)


def test_full_library_index_holds_every_active_indicator(seeded_store) -> None:
    from search.engine import build_index
    idx = build_index(seeded_store)  # built once per session, then shared by the tests below
    assert len(idx.docs) == seeded_store.count("Indicator", {"status": "active"})
    # build time is a benchmark figure (bench/search_bench.py), not a test: shared machines vary


def test_pinyin_initials_find_student_satisfaction_first(svc: SearchService) -> None:
    res = svc.search("xsmyd")
    assert res["query"]["pinyin"] and res["total"] >= 1
    assert res["hits"][0]["name"] == "学生满意度"
    assert "<em>学生满意度</em>" == res["hits"][0]["highlight"]
    assert any("首字母" in w for w in res["hits"][0]["why"])


def test_full_pinyin_and_partial_pinyin(svc: SearchService) -> None:
    assert svc.search("xueshengmanyidu")["hits"][0]["name"] == "学生满意度"
    names = [h["name"] for h in svc.search("manyidu", limit=20)["hits"]]
    assert names and all("满意度" in n for n in names)


def test_characters_synonyms_and_typos(svc: SearchService) -> None:
    assert svc.search("学生满意度")["hits"][0]["name"] == "学生满意度"
    # 满意率 is a synonym of 满意度 (search/data/synonyms.yaml)
    top = svc.search("学生满意率")["hits"][0]
    assert top["name"] == "学生满意度" and any("满意率" in w or "同义" in w for w in top["why"])
    # an input-method typo (同音字) still finds the indicator
    assert svc.search("学生满易度")["hits"][0]["name"] == "学生满意度"
    # library terms stay one word: 培训人次 is matched as a term, not as 培训 + 人次 scattered
    hit = svc.search("培训人次")["hits"][0]
    assert "培训人次" in hit["name"] and "<em>培训人次</em>" in hit["highlight"]


def test_named_project_type_ranks_its_indicators_first(svc: SearchService) -> None:
    res = svc.search("校舍维修改造 验收合格率")
    assert "校舍维修改造" in res["query"]["project_types"]
    top = res["hits"][0]
    assert "校舍维修改造" in top["project_types"] and "验收合格率" in top["name"]
    assert any("项目类型「校舍维修改造」" in w for w in top["why"])
    # a pinyin-initials query naming the project type lists its indicators
    res = svc.search("xswxgz")
    assert res["hits"] and all("校舍维修改造" in h["project_types"] for h in res["hits"])


def test_filters_facets_and_paging(svc: SearchService) -> None:
    res = svc.search("满意度", sector="教育", limit=5)
    assert res["total"] > 5 and len(res["hits"]) == 5
    assert all(h["sector"] == "教育" for h in res["hits"])
    # facets count indicators; total counts hits (indicators sharing a name are one hit)
    assert res["facets"]["sector"] == [{"value": "教育", "count": res["total_indicators"]}]
    assert sum(f["count"] for f in res["facets"]["category"]) == res["total_indicators"]
    assert res["total"] <= res["total_indicators"]
    page2 = svc.search("满意度", sector="205", limit=5, offset=5)
    assert not {h["id"] for h in page2["hits"]} & {h["id"] for h in res["hits"]}
    sat = svc.search("学生", category="满意度")
    assert sat["hits"] and all(h["category_code"] == "SAT-SVC" for h in sat["hits"])
    qual = svc.search("校舍", value_kind="定性")
    assert all(h["value_kind"] == "定性" for h in qual["hits"])


def test_bad_parameters_name_valid_choices(svc: SearchService) -> None:
    with pytest.raises(BadQuery) as e:
        svc.search("  ")
    assert e.value.code == "empty_query"
    with pytest.raises(BadQuery) as e:
        svc.search("满意度", sector="宇宙")
    assert "教育" in e.value.choices and "可选" in e.value.message
    with pytest.raises(BadQuery) as e:
        svc.search("满意度", limit=0)
    assert e.value.code == "bad_limit"
    with pytest.raises(BadQuery):
        svc.search("满意度", category="不存在的类别")


def test_suggest_prefixes_in_characters_and_pinyin(svc: SearchService) -> None:
    texts = [s["text"] for s in svc.suggest("学生")["suggestions"]]
    assert "学生满意度" in texts and all(t.startswith("学生") for t in texts[:5])
    py = svc.suggest("xuesheng")["suggestions"]
    assert any(s["text"] == "学生满意度" for s in py)
    assert svc.suggest("jiaoyu")["suggestions"][0] == {**svc.suggest("jiaoyu")["suggestions"][0], "text": "教育",
                                                       "type": "sector"}
    assert any(s["type"] == "project_type" and s["text"] == "校舍维修改造" for s in svc.suggest("xsw")["suggestions"])


def test_recommend_school_repair_covers_every_required_kind(svc: SearchService) -> None:
    res = svc.recommend("校舍维修改造", "对全市5所中小学校舍进行维修改造，消除安全隐患", sector="教育",
                        amount=3_000_000, period="2026")
    assert res["project_types"][0]["name"] == "校舍维修改造" and res["project_types"][0]["selected"]
    assert res["coverage"]["missing"] == [] and set(res["coverage"]["covered"]) == REQUIRED
    items = [i for g in res["groups"] for i in g["indicators"]]
    assert {i["kind"] for i in items} >= REQUIRED
    assert [g["level1"] for g in res["groups"]][0] == "产出指标"
    names = [i["name"] for i in items]
    assert len(names) == len(set(names))
    for i in items:
        assert set(i["score"]) == {"total", "coverage", "fit", "detail", "acceptance"}
        assert i["score"]["acceptance"] == 0.0 and i["reason"] and i["path"]
        assert i["unit"] is not None or i["value_kind"] == "定性"
    assert any(i["suggested_value"] and i["basis"] for i in items)
    timely = [i for i in items if i["unit"] == "年月日"]
    assert all(i["suggested_value"].startswith("2026年") for i in timely)


def test_recommend_infers_sector_and_type_from_text(svc: SearchService) -> None:
    res = svc.recommend("农牧民技能培训", "开展农牧民职业技能培训，促进富余劳动力转移就业")
    assert res["sector"]["inferred"] and res["sector"]["name"] == "社会保障和就业"
    assert res["project_types"][0]["name"] == "农牧民技能培训和转移就业"
    assert not res["coverage"]["missing"]
    with pytest.raises(BadQuery):
        svc.recommend("", "")
    with pytest.raises(BadQuery):
        svc.recommend("校舍维修改造", sector="火星")


def test_recommended_set_has_no_near_duplicates(svc: SearchService) -> None:
    from rapidfuzz import fuzz
    res = svc.recommend("城镇老旧小区改造", "改造老旧管线，新增停车位，加装电梯")
    names = [i["name"] for g in res["groups"] for i in g["indicators"]]
    for a in names:
        for b in names:
            if a < b:
                assert fuzz.ratio(a, b) < 75, (a, b)


def test_similar_indicators(svc: SearchService) -> None:
    hit = svc.search("学生满意度")["hits"][0]
    res = svc.similar(hit["id"])
    assert res["similar"] and all(s["id"] != hit["id"] for s in res["similar"])
    assert "满意度" in res["similar"][0]["name"] and res["similar"][0]["why"]
    with pytest.raises(NotFound):
        svc.similar("IND-NOPE")


def test_pinyin_alignment() -> None:
    assert syllables("学生满意率") == ("xue", "sheng", "man", "yi", "lv")
    assert initials_of(syllables("5G基站")) == "5gjz"


# --- index lifecycle (small library) ----------------------------------------------------------

def _extra_indicator(store) -> Node:
    """A copy of an existing indicator under a new name, written as another process would."""
    from ontology.nodes import INDICATOR
    base = next(n for n in store.iter_label(INDICATOR) if n.props.get("scope") == "industry")
    props = dict(base.props, name="高原牦牛奶酪品鉴会举办场次", synonyms=["奶酪品鉴会场次"])
    return Node("IND-TEST-CHEESE", INDICATOR, props, list(base.edges))


def test_index_follows_loads_from_another_process_without_blocking(mini_store) -> None:
    svc = SearchService(mini_store, check_interval=0.0)
    before = svc.search("奶酪品鉴会")
    assert before["total"] == 0
    v0 = svc.index().version
    # another process (its own connection) loads a new indicator
    other = open_store(mini_store.url)
    try:
        other.apply(ChangeSet([_extra_indicator(other)]), LoadRecord("test", "x" * 64, "json", {"created": 1}))
    finally:
        other.close()
    # readers keep being answered from the old index while the new one is built
    old = svc.index()
    assert old.version == v0  # answered from the old index: the call did not wait for the rebuild
    idx = svc.refresh(wait=True)
    assert idx.version == v0 + 1
    hit = svc.search("奶酪品鉴会")["hits"][0]
    assert hit["id"] == "IND-TEST-CHEESE" and svc.search("nlpjh")["hits"][0]["id"] == "IND-TEST-CHEESE"


def test_version_is_checked_at_most_once_per_interval(mini_store) -> None:
    calls = []
    svc = SearchService(mini_store, check_interval=60.0)
    svc.index()
    real = mini_store.version
    mini_store.version = lambda: calls.append(1) or real()  # type: ignore[method-assign]
    try:
        for _ in range(50):
            svc.search("满意度")
    finally:
        del mini_store.version
    assert len(calls) == 0


def test_concurrent_readers_during_rebuild(mini_store) -> None:
    svc = SearchService(mini_store, check_interval=0.0)
    svc.index()
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                svc.search("满意度")
            except BaseException as e:  # noqa: BLE001
                errors.append(e)
            time.sleep(0.002)
    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    other = open_store(mini_store.url)
    try:
        other.apply(ChangeSet([_extra_indicator(other)]), LoadRecord("test", "y" * 64, "json", {"created": 1}))
    finally:
        other.close()
    svc.refresh(wait=True)
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert svc.search("奶酪品鉴会")["total"] >= 1


# --- compact index: segmentation without jieba, the .npy cache, grouping ------------------------

def test_segmenter_matches_jieba_on_the_same_dictionary() -> None:
    """Queries segment with the index's stored (hashed) dictionary exactly as jieba does with the
    same words, without loading jieba's dictionary at query time."""
    import jieba

    from search.text import HashTable, Segmenter, library_dictionary
    words = ["培训人次", "危房改造", "学生满意度", "校舍维修改造", "农牧民技能培训和转移就业"]
    freq, total = library_dictionary(words)
    tk = jieba.Tokenizer()
    tk.initialize()
    for w in sorted(words):
        tk.add_word(w, freq=max(1000, 50 * len(w)))
    assert tk.total == total
    hashed = Segmenter(HashTable.build(freq), total)
    for t in ["农牧民培训人次", "危房改造户数", "看病满意不满意", "校舍维修改造 验收合格率", "abc 5G基站 3.5%以上",
              "蒸蒸日上的鬼鬼祟祟", "（一）、群众满意率"]:
        assert hashed.cut_for_search(t) == tk.lcut_for_search(t), t


def test_cache_is_npy_files_mapped_read_only_and_old_versions_are_pruned(mini_store, tmp_path, monkeypatch) -> None:
    """The on-disk index is .npy arrays + a JSON manifest (no pickle), opened memory-mapped; a
    store keeps its current cache folder and the previous one."""
    import numpy as np

    from engine.snapshot import forget
    from search import engine
    tmp_path = tmp_path / "cache"
    tmp_path.mkdir()
    monkeypatch.setenv("ZHIBIAO_SEARCH_CACHE_DIR", str(tmp_path))
    (tmp_path / "search-0123.pkl").write_bytes(b"old pickle cache")
    forget(mini_store)
    first = engine.build_index(mini_store)
    [folder] = [p for p in tmp_path.iterdir() if p.name.startswith("search-")]
    assert {p.suffix for p in folder.iterdir()} == {".npy", ".json"}
    forget(mini_store)
    again = engine.build_index(mini_store)  # from disk this time
    post = again._arrays["post_doc"]
    assert again is not first and isinstance(post.base, np.memmap) and not post.flags.writeable
    assert again.search("满意度")["hits"] == first.search("满意度")["hits"]
    for n in range(3):  # three more loads: only the newest two folders remain
        other = open_store(mini_store.url)
        try:
            node = _extra_indicator(other)
            node = Node(f"{node.id}-{n}", node.label, dict(node.props, name=f"奶酪品鉴会{n}号场次"), node.edges)
            other.apply(ChangeSet([node]), LoadRecord("test", str(n) * 64, "json", {"created": 1}))
        finally:
            other.close()
        engine.build_index(mini_store)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 2 and not any(p.endswith(".pkl") for p in left)
    forget(mini_store)


def test_damaged_cache_is_rebuilt_not_trusted(mini_store, tmp_path, monkeypatch) -> None:
    from engine.snapshot import forget
    from search import engine
    monkeypatch.setenv("ZHIBIAO_SEARCH_CACHE_DIR", str(tmp_path / "cache"))
    forget(mini_store)
    engine.build_index(mini_store)
    [folder] = list((tmp_path / "cache").iterdir())
    (folder / "post_doc.npy").write_bytes(b"\x93NUMPY garbage")
    forget(mini_store)
    idx = engine.build_index(mini_store)
    assert idx.search("满意度")["total"] > 0
    forget(mini_store)


def test_identical_names_are_one_hit_with_their_project_types(svc: SearchService) -> None:
    grouped = svc.search("按期完工率", limit=20)
    flat = svc.search("按期完工率", limit=20, group=False)
    names = [h["name"] for h in grouped["hits"]]
    assert len(names) == len(set(names))
    top = grouped["hits"][0]
    assert top["name"] == "按期完工率" and top["variant_count"] == len(top["variants"]) > 1
    assert {v["id"] for v in top["variants"]} == {h["id"] for h in svc.search("按期完工率", limit=100, group=False)["hits"]
                                                 if h["name"] == "按期完工率"}
    assert set(top["project_types"]) == {p for v in top["variants"] for p in v["project_types"]}
    assert len(top["project_types"]) > 1
    assert grouped["total"] < flat["total"] == grouped["total_indicators"]
    # the grouped hit is a superset of the flat one
    assert set(flat["hits"][0]) < set(top)


def test_a_search_page_makes_no_store_round_trips(fresh_store, mini_library) -> None:
    """Hits are made from the index alone: once it is built, pages of any size (grouped or not,
    with facets) call the store zero times, on every backend (on Neo4j: zero queries)."""
    from loaders import load_file
    load_file(mini_library, fresh_store)
    svc = SearchService(fresh_store, check_interval=3600.0)
    svc.index()
    calls: list[str] = []
    names = [n for n in dir(type(fresh_store)) if not n.startswith("_") and callable(getattr(fresh_store, n))]
    for name in names:
        real = getattr(fresh_store, name)
        setattr(fresh_store, name, lambda *a, _n=name, _f=real, **k: calls.append(_n) or _f(*a, **k))
    try:
        for limit in (1, 10, 100):
            for group in (True, False):
                res = svc.search("满意度", limit=limit, group=group)
                assert res["hits"]
        svc.search("xsmyd", limit=50)
    finally:
        for name in names:
            delattr(fresh_store, name)
    assert calls == []
