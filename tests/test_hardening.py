"""Bounded work for every input: zip bombs, huge sheets, huge JSON bodies, huge tables, long
queries and wild offsets are refused early, with a Chinese message and a stable code, and the
process's memory goes back near where it was."""
from __future__ import annotations

import asyncio
import threading
import io
import json
import zipfile
from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from api.app import create_app
from engine.library import Library
from graph import GraphStore
from limits import LimitExceeded, mb
from limits.xlsx_guard import check_xlsx

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET = "xl/worksheets/sheet1.xml"


def rss_mb() -> float:
    """Resident memory of this process, from /proc/self/status (VmRSS, in MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def workbook_with_sheet(sheet_parts: Iterator[bytes], level: int = 1) -> bytes:
    """A real .xlsx (openpyxl's own parts) whose first sheet's XML is streamed from ``sheet_parts``."""
    wb = Workbook()
    wb.active["A1"] = "x"
    plain = io.BytesIO()
    wb.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as dst:
        for info in src.infolist():
            if info.filename == SHEET:
                with dst.open(SHEET, "w", force_zip64=True) as fh:
                    for part in sheet_parts:
                        fh.write(part)
            else:
                dst.writestr(info.filename, src.read(info.filename))
    return out.getvalue()


HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
        b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
TAIL = b"</sheetData></worksheet>"


def bomb_parts(total_mb: int) -> Iterator[bytes]:
    """One row whose inline string repeats the same character: inflates to ``total_mb`` MB."""
    yield HEAD + b'<row r="1"><c r="A1" t="inlineStr"><is><t>'
    block = b"A" * (1 << 20)
    for _ in range(total_mb):
        yield block
    yield b"</t></is></c></row>" + TAIL


def million_rows() -> Iterator[bytes]:
    yield HEAD
    for start in range(1, 1_000_001, 10_000):
        yield b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i) for i in range(start, start + 10_000))
    yield TAIL


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = workbook_with_sheet(bomb_parts(400), level=9)
    assert len(data) < 2 * 1024 * 1024   # well under the 5 MB upload limit: only the inflated size is large
    return data


@pytest.fixture(scope="module")
def big_sheet() -> bytes:
    return workbook_with_sheet(million_rows(), level=9)


@pytest.fixture
def client(mini_store: GraphStore):
    with TestClient(create_app(store=mini_store, seed=False)) as c:
        yield c


# --- .xlsx ------------------------------------------------------------------------------------
def test_zip_bomb_is_refused_by_the_api_and_memory_stays(client: TestClient, bomb: bytes) -> None:
    before = rss_mb()
    for _ in range(4):
        r = client.post("/targets/check/xlsx", files={"file": ("申报表.xlsx", bomb, XLSX_MIME)})
        assert r.status_code == 413, r.text
        assert r.json()["code"] == "xlsx_too_large" and "压缩炸弹" in r.json()["message"]
    assert rss_mb() - before < 150, f"RSS grew {rss_mb() - before:.0f} MB"


def test_a_bomb_whose_directory_lies_is_counted_while_reading(tmp_path: Path, bomb: bytes, monkeypatch) -> None:
    """Set the limit between the real size and a forged declared size: the streamed count stops it."""
    monkeypatch.setenv("ZHIBIAO_XLSX_MAX_UNCOMPRESSED_MB", "100")
    with zipfile.ZipFile(io.BytesIO(bomb)) as z:
        real = z.getinfo(SHEET).file_size
    assert real > 100 * 1024 * 1024
    # forge the 64-bit size fields of the sheet entry (zip64 extra in local header and directory)
    forged = bomb.replace(real.to_bytes(8, "little"), (1024).to_bytes(8, "little"))
    assert forged != bomb
    with pytest.raises(LimitExceeded) as info:
        check_xlsx(forged)
    assert info.value.code in ("xlsx_too_large", "too_many_cells")


def test_million_row_sheet_is_refused_while_streaming(client: TestClient, big_sheet: bytes, tmp_path: Path,
                                                      monkeypatch) -> None:
    # the sheet is 7 MB compressed: raise the upload limit so that the row guard, not the size, refuses it
    monkeypatch.setenv("ZHIBIAO_MAX_CHECK_MB", "10")
    before = rss_mb()
    with pytest.raises(LimitExceeded) as info:
        check_xlsx(big_sheet, kind="check")
    assert info.value.code == "too_many_rows" and "5000" in info.value.message
    assert len(big_sheet) <= mb("max_check_mb")
    r = client.post("/targets/check/xlsx", files={"file": ("申报表.xlsx", big_sheet, XLSX_MIME)})
    assert r.status_code == 413 and r.json()["code"] == "too_many_rows", r.text
    # the CLI reads the same way and refuses the same file
    from cli.main import main
    path = tmp_path / "big.xlsx"
    path.write_bytes(big_sheet)
    assert main(["check", str(path), "--store", client.app.state.library.store.url]) == 1
    # the loader has its own, larger row limit and still refuses a million rows before openpyxl
    from loaders import LoadError, load_file
    with pytest.raises(LoadError) as err:
        load_file(path, client.app.state.library.store)
    assert err.value.report.errors[0].code == "too_many_rows"
    assert rss_mb() - before < 150


def test_merged_range_over_the_whole_sheet_is_refused() -> None:
    parts = iter([HEAD + b'<row r="1"><c r="A1"><v>1</v></c></row></sheetData>'
                 b'<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells></worksheet>'])
    with pytest.raises(LimitExceeded) as info:
        check_xlsx(workbook_with_sheet(parts))
    assert info.value.code in ("too_many_cells", "too_many_rows")


def test_far_away_cell_is_refused_before_the_grid_is_built() -> None:
    parts = iter([HEAD + b'<row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>2</v></c></row>'
                 b'<row r="4000"><c r="A4000"><v>3</v></c></row>' + TAIL])
    with pytest.raises(LimitExceeded) as info:
        check_xlsx(workbook_with_sheet(parts))
    assert info.value.code == "too_many_cells" and "16384 列" in info.value.message


def test_too_many_sheets(monkeypatch) -> None:
    monkeypatch.setenv("ZHIBIAO_XLSX_MAX_SHEETS", "3")
    wb = Workbook()
    for i in range(4):
        wb.create_sheet(f"表{i}")
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(LimitExceeded) as info:
        check_xlsx(buf.getvalue())
    assert info.value.code == "too_many_sheets"


def test_an_ordinary_workbook_passes() -> None:
    wb = Workbook()
    for i in range(200):
        wb.active.append(["产出指标", "数量指标", f"指标{i}", "≥95%", "%"])
    wb.active.merge_cells("A1:A200")
    buf = io.BytesIO()
    wb.save(buf)
    check_xlsx(buf.getvalue())


# --- JSON bodies ------------------------------------------------------------------------------
def _asgi_post(app, path: str, chunks: Iterator[bytes], headers: list[tuple[bytes, bytes]]) -> tuple[int, dict, int]:
    """POST straight to the ASGI app, feeding the body chunk by chunk as a server would: returns
    (status, JSON body, bytes the app pulled from the stream)."""
    async def run() -> tuple[int, dict, int]:
        pulled = 0
        sent: list[dict] = []

        async def receive() -> dict:
            nonlocal pulled
            chunk = next(chunks, None)
            if chunk is None:
                return {"type": "http.request", "body": b"", "more_body": False}
            pulled += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": True}

        async def send(message: dict) -> None:
            sent.append(message)
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": headers, "client": ("127.0.0.1", 9), "server": ("127.0.0.1", 80)}
        await app(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return start["status"], json.loads(body), pulled
    # in a thread of its own: a browser test earlier in the session may leave an event loop running in
    # this thread (Playwright's sync API), and asyncio.run refuses to nest in it
    out: list = []
    worker = threading.Thread(target=lambda: out.append(asyncio.run(run())))
    worker.start()
    worker.join()
    return out[0]


def _json_stream(total_mb: int) -> Iterator[bytes]:
    row = json.dumps({"name": "培训人次", "value": "≥1000", "unit": "人次"}, ensure_ascii=False).encode() + b","
    block = row * (65536 // len(row))
    yield b'{"rows": ['
    for _ in range(total_mb * 1024 * 1024 // len(block)):
        yield block
    yield b'{"name": "x"}]}'


def test_150mb_json_body_is_refused_while_read_never_parsed(mini_store: GraphStore) -> None:
    app = create_app(store=mini_store, seed=False)
    app.state.library = Library(mini_store)
    limit = mb("max_body_mb")
    before = rss_mb()
    # chunked: no length declared, counted as it arrives
    status, body, pulled = _asgi_post(app, "/targets/check", _json_stream(150),
                                      [(b"content-type", b"application/json")])
    assert status == 413 and body["code"] == "too_large" and "上限" in body["message"]
    assert pulled <= limit + 65536, f"read {pulled} bytes of a body refused at {limit}"
    # a declared length over the limit: refused before a single byte is read
    status, body, pulled = _asgi_post(app, "/targets/check", _json_stream(150),
                                      [(b"content-type", b"application/json"),
                                       (b"content-length", str(150 * 1024 * 1024).encode())])
    assert status == 413 and pulled == 0
    # a 200 MB upload to the .xlsx route: refused on its declared length, or after the upload limit
    boundary = b"multipart/form-data; boundary=xyz"
    status, body, pulled = _asgi_post(app, "/targets/check/xlsx", iter([b"x" * 65536] * 3200),
                                      [(b"content-type", boundary), (b"content-length", str(200 << 20).encode())])
    assert status == 413 and pulled == 0
    head = (b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.xlsx"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n")
    status, body, pulled = _asgi_post(app, "/targets/check/xlsx", iter([head] + [b"x" * 65536] * 3200),
                                      [(b"content-type", boundary)])
    assert status == 413 and pulled <= mb("max_upload_mb") + 65536
    assert rss_mb() - before < 60


def test_table_with_too_many_rows_is_refused(client: TestClient) -> None:
    rows = [{"name": f"指标{i}", "value": "≥1"} for i in range(1001)]
    r = client.post("/targets/check", json={"rows": rows})
    assert r.status_code == 422 and r.json()["code"] == "too_many_rows" and "1000" in r.json()["message"]


@pytest.mark.parametrize("amount", [False, True, -1, "12", 1e300])
def test_amounts_are_strict_everywhere(client: TestClient, amount) -> None:
    r = client.post("/targets/check", json={"project": {"amount": amount}, "rows": [{"name": "培训人次", "value": "≥1"}]})
    assert r.status_code == 422 and r.json()["code"] == "invalid_parameter", r.text
    assert "amount" in r.json()["message"]
    r = client.post("/recommend", json={"project": "校舍维修改造", "amount": amount})
    assert r.status_code == 422 and r.json()["code"] == "invalid_parameter", r.text


def test_query_length_and_offsets_are_bounded(client: TestClient) -> None:
    for path, params in [("/indicators", {"offset": 9223372036854775808}), ("/indicators", {"offset": -1}),
                         ("/indicators", {"limit": 501}), ("/search", {"q": "学" * 201}), ("/search", {"limit": 1000}),
                         ("/suggest", {"limit": 0}), ("/indicators", {"sector": "教" * 201})]:
        r = client.get(path, params=params)
        code = f"bad_{next(iter(params))}" if next(iter(params)) in ("limit", "offset") else "invalid_parameter"
        assert r.status_code == 422 and r.json()["code"] == code, (path, params, r.text)
        assert "参数不正确" in r.json()["message"]


def test_rows_are_counted_from_one_and_xlsx_rows_as_excel_counts_them(client: TestClient) -> None:
    doc = {"project": {"name": "培训", "sector": "教育"}, "goals": {"annual": "年内培训教师1000人次"},
           "rows": [{"level1": "产出指标", "level2": "数量指标", "name": "培训人次", "value": "≥1000", "unit": "人次"},
                    {"level1": "产出指标", "level2": "质量指标", "name": "培训质量", "value": "进一步提高"}]}
    body = client.post("/targets/check", json=doc).json()
    assert [r["row_number"] for r in body["rows"]] == [1, 2]
    assert all(f["row_number"] == f["row"] + 1 for f in body["flags"] if f["row"] is not None)
    wb = Workbook()
    ws = wb.active
    ws.append(["项目支出绩效目标申报表"])
    ws.append(["项目名称", "教师培训"])
    ws.append(["一级指标", "二级指标", "三级指标", "指标值", "计量单位"])
    for r in doc["rows"]:
        ws.append([r["level1"], r["level2"], r["name"], r["value"], r.get("unit")])
    buf = io.BytesIO()
    wb.save(buf)
    body = client.post("/targets/check/xlsx", files={"file": ("表.xlsx", buf.getvalue(), XLSX_MIME)}).json()
    assert [r["excel_row"] for r in body["rows"]] == [4, 5], body["rows"]
    vague = [f for f in body["flags"] if f["row"] == 1]
    assert vague and vague[0]["excel_row"] == 5 and vague[0]["row_number"] == 2


def test_150mb_json_to_a_real_server_is_cut_off_at_the_limit(mini_store: GraphStore) -> None:
    """The same through uvicorn on a free loopback port, the body sent chunked (no length): the
    server answers 413 after about the limit, and the client is stopped from sending the rest."""
    import http.client
    import socket
    import threading
    import time

    import uvicorn
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(store=mini_store, seed=False), host="127.0.0.1", port=port,
                                          log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.1)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.putrequest("POST", "/targets/check")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        sent = 0
        try:
            for chunk in _json_stream(150):
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = conn.getresponse()
        body = json.loads(r.read())
        assert r.status == 413 and body["code"] == "too_large"
        assert sent < 150 * 1024 * 1024, "the server read the whole body"
        conn.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
