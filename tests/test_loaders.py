"""Every bad input is refused with a located error and leaves the library version unchanged."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from openpyxl import Workbook

from graph import GraphStore
from loaders import LoadError, load_file

HEADER = "二级指标,三级指标,计量单位,指标值,指标解释,计算公式,行业,项目类型,指标值设定依据\n"
GOOD_ROW = "质量指标,幼儿园食堂食品安全检查合格率,%,≥98%,食堂食品安全检查合格的园所占比,合格园所数/检查园所数×100%,教育,普惠性幼儿园建设,行业标准\n"


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def _refused(path: Path, store: GraphStore) -> LoadError:
    before = store.version()
    with pytest.raises(LoadError) as info:
        load_file(path, store)
    assert store.version() == before
    assert info.value.report.errors
    return info.value


def test_valid_csv_loads_and_twice_changes_nothing(tmp_path: Path, mini_store: GraphStore) -> None:
    p = _write(tmp_path, "new.csv", HEADER + GOOD_ROW)
    v0 = mini_store.version()
    r = load_file(p, mini_store)
    assert r.version_after == v0 + 1 and r.counts["created"] == 1
    ind = mini_store.list("Indicator", {"name": "幼儿园食堂食品安全检查合格率"}).items[0]
    assert ind.props["direction"] == "≥" and ind.props["typical_value"] == "98" and ind.props["unit"] == "%"
    r2 = load_file(p, mini_store)
    assert r2.version_after == v0 + 1 and r2.counts["created"] == 0 and r2.counts["unchanged"] >= 1
    assert r2.record.counts["written"] == 0
    assert mini_store.version() == v0 + 1
    assert len(mini_store.history()) == 3  # seed + two loads, all recorded


def test_missing_required_column(tmp_path: Path, mini_store: GraphStore) -> None:
    p = _write(tmp_path, "nocol.csv", "二级指标,三级指标,指标解释,行业,项目类型\n质量指标,某合格率,说明文字,教育,普惠性幼儿园建设\n")
    err = _refused(p, mini_store)
    e = err.report.errors[0]
    assert e.code == "missing_column" and e.file == "nocol.csv" and e.row == 1 and "计量单位" in e.message


def test_bad_unit_is_located(tmp_path: Path, mini_store: GraphStore) -> None:
    p = _write(tmp_path, "unit.csv", HEADER + GOOD_ROW.replace(",%,", ",公斤米,"))
    e = _refused(p, mini_store).report.errors[0]
    assert (e.code, e.row, e.field) == ("bad_unit", 2, "unit") and e.column.startswith("C")


def test_bad_value_kind_is_located(tmp_path: Path, mini_store: GraphStore) -> None:
    text = "二级指标,三级指标,计量单位,指标值类型,指标值,指标解释,计算公式,行业,项目类型,指标值设定依据\n" \
           "质量指标,园舍安全检查合格率,%,半定量,98,安全检查合格园所占比,合格数/总数×100%,教育,普惠性幼儿园建设,行业标准\n"
    e = _refused(_write(tmp_path, "kind.csv", text), mini_store).report.errors[0]
    assert (e.code, e.row, e.field) == ("bad_value_kind", 2, "value_kind")


def test_duplicate_id(tmp_path: Path, mini_store: GraphStore) -> None:
    text = "指标编码," + HEADER + "X-1," + GOOD_ROW + "X-1," + GOOD_ROW.replace("食堂", "厨房")
    e = _refused(_write(tmp_path, "dup.csv", text), mini_store).report.errors[0]
    assert (e.code, e.row) == ("duplicate_id", 3) and "第 2 行" in e.message


def test_gbk_file_is_read_and_its_errors_located(tmp_path: Path, mini_store: GraphStore) -> None:
    good = _write(tmp_path, "good_gbk.csv", HEADER + GOOD_ROW, "gbk")
    r = load_file(good, mini_store, dry_run=True)
    assert r.encoding == "gb18030" and not r.errors
    bad = _write(tmp_path, "bad_gbk.csv", HEADER + GOOD_ROW.replace("≥98%", "≥180%"), "gbk")
    e = _refused(bad, mini_store).report.errors[0]
    assert (e.code, e.file, e.row, e.field) == ("out_of_range", "bad_gbk.csv", 2, "typical_value")


def test_utf8_bom_and_header_detection(tmp_path: Path, mini_store: GraphStore) -> None:
    text = "市级预算绩效指标库（2025 年修订）\n填报单位：市教育局,,\n" + HEADER + GOOD_ROW
    r = load_file(_write(tmp_path, "bom.csv", "\ufeff" + text), mini_store, dry_run=True)
    assert not r.errors and r.counts["created"] >= 1


def test_empty_file(tmp_path: Path, mini_store: GraphStore) -> None:
    e = _refused(_write(tmp_path, "empty.csv", ""), mini_store).report.errors[0]
    assert (e.code, e.file) == ("empty_file", "empty.csv")


def test_non_table_file(tmp_path: Path, mini_store: GraphStore) -> None:
    p = tmp_path / "picture.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2048))
    assert _refused(p, mini_store).report.errors[0].code == "unsupported_format"
    prose = _write(tmp_path, "notes.csv", "这是一段会议纪要，不是表格。\n第二段文字。\n")
    assert _refused(prose, mini_store).report.errors[0].code == "no_header"
    binary = tmp_path / "junk.csv"
    binary.write_bytes(os.urandom(4096))
    assert _refused(binary, mini_store).report.errors[0].code in ("not_a_table", "bad_encoding")


def test_50mb_junk_is_refused_before_reading(tmp_path: Path, mini_store: GraphStore) -> None:
    p = tmp_path / "huge.csv"
    with p.open("wb") as fh:
        fh.seek(50 * 1024 * 1024 - 1)
        fh.write(b"\0")
    e = _refused(p, mini_store).report.errors[0]
    assert e.code == "file_too_large" and e.file == "huge.csv"


def test_malformed_json_and_turtle(tmp_path: Path, mini_store: GraphStore) -> None:
    e = _refused(_write(tmp_path, "bad.json", '{"nodes": [\n{"id": 1,,}]}'), mini_store).report.errors[0]
    assert e.code == "malformed_json" and e.row == 2
    e = _refused(_write(tmp_path, "bad.ttl", "@prefix zb: <x#> .\nzb:a zb:b"), mini_store).report.errors[0]
    assert e.code == "malformed_rdf"


def test_injection_and_control_characters_are_refused(tmp_path: Path, mini_store: GraphStore) -> None:
    text = "指标编码," + HEADER + "x' OR 1=1 --," + GOOD_ROW
    assert _refused(_write(tmp_path, "inj.csv", text), mini_store).report.errors[0].code == "bad_id"
    rlo = GOOD_ROW.replace("幼儿园食堂", "幼儿园\u202e食堂")
    assert _refused(_write(tmp_path, "rlo.csv", HEADER + rlo), mini_store).report.errors[0].code == "invalid_characters"


def test_xlsx_with_merged_cells_and_title_rows(tmp_path: Path, mini_store: GraphStore) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["行业专用指标补充（教育）"])
    ws.append([])
    ws.append(["一级指标", "二级指标", "三级指标", "计量单位", "指标值", "指标解释", "计算公式", "行业", "项目类型", "指标值设定依据"])
    ws.append(["产出指标", "质量指标", "幼儿园保健室配备达标率", "%", "≥95%", "保健室按标准配备的园所占比", "达标园所数/园所总数×100%", "教育", "普惠性幼儿园建设", "行业标准"])
    ws.append([None, None, "幼儿园消防设施完好率", "%", "100%", "消防设施完好的园所占比", "完好园所数/园所总数×100%", "教育", "普惠性幼儿园建设", "行业标准"])
    ws.merge_cells("A4:A5")
    ws.merge_cells("B4:B5")
    p = tmp_path / "extra.xlsx"
    wb.save(p)
    r = load_file(p, mini_store)
    assert r.counts["created"] == 2 and not r.errors
    assert mini_store.list("Indicator", {"name": "幼儿园消防设施完好率"}).items[0].edges[0] == ("APPLIES_TO", mini_store.list(
        "ProjectType", {"name": "普惠性幼儿园建设"}).items[0].id)


def test_explicit_deprecation(tmp_path: Path, mini_store: GraphStore) -> None:
    load_file(_write(tmp_path, "a.csv", HEADER + GOOD_ROW), mini_store)
    text = HEADER.rstrip("\n") + ",状态\n" + GOOD_ROW.rstrip("\n") + ",停用\n"
    r = load_file(_write(tmp_path, "b.csv", text), mini_store)
    assert r.counts["deprecated"] == 1 and r.counts["updated"] == 1
    ind = mini_store.list("Indicator", {"name": "幼儿园食堂食品安全检查合格率"}).items[0]
    assert ind.props["status"] == "deprecated"  # kept, not deleted


def test_near_duplicate_warning(tmp_path: Path, mini_store: GraphStore) -> None:
    row = GOOD_ROW.replace("幼儿园食堂食品安全检查合格率", "新建改扩建幼儿园的数量").replace("质量指标", "数量指标") \
        .replace(",%,≥98%,", ",所,≥3,")
    r = load_file(_write(tmp_path, "near.csv", HEADER + row), mini_store, dry_run=True)
    assert any(w.code == "near_duplicate" and "新建改扩建幼儿园数量" in w.message for w in r.warnings)


def test_dry_run_writes_nothing(tmp_path: Path, mini_store: GraphStore) -> None:
    v = mini_store.version()
    n = len(mini_store.history())
    r = load_file(_write(tmp_path, "d.csv", HEADER + GOOD_ROW), mini_store, dry_run=True)
    assert r.counts["created"] == 1 and mini_store.version() == v and len(mini_store.history()) == n


def test_killed_load_leaves_previous_version(tmp_path: Path, mini_library: Path) -> None:
    """A process SIGKILLed while its load transaction is open: the previous library stays intact."""
    from graph import open_store
    db = tmp_path / "kill.db"
    with open_store(f"sqlite:///{db}") as store:
        load_file(mini_library, store)
        v, nodes_before = store.snapshot()
    big = tmp_path / "big.csv"
    rows = [HEADER] + [GOOD_ROW.replace("幼儿园食堂食品安全检查合格率", f"第{i}号园区食堂检查合格率") for i in range(3000)]
    big.write_text("".join(rows), encoding="utf-8")
    script = textwrap.dedent(f"""
        import sys, time
        from graph import open_store
        from loaders import load_file
        store = open_store("sqlite:///{db}")
        def progress(done, total):
            if done >= 1000:
                print("MID", flush=True)
                time.sleep(60)
        load_file("{big}", store, progress=progress, shacl=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    try:
        assert proc.stdout.readline().strip() == "MID"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with open_store(f"sqlite:///{db}") as store:
        assert store.version() == v
        assert len(store.snapshot()[1]) == len(nodes_before)
        r = load_file(big, store, shacl=False)
        assert r.version_after == v + 1 and r.counts["created"] == 3000
