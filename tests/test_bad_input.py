"""Nothing lost on bad input (issue 11): each damaged file keeps its good part and names the bad one."""

import io
import json
import os
import struct
import subprocess
import sys
import time
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from principals import as_admin

from core import auth, explore
from core.refine.recipe import RecipeError, recipe_from_yaml
from core.sources.ingest import ingest_upload
from core.sources.upload_formats import UploadError, decode_text_reporting, parse_file
from core.store.raw import content_hash

ROOT = Path(__file__).resolve().parent.parent


def _ingest(filename, data):
    return ingest_upload(auth.demo_principal("supplier"), filename, data, app="uploads",
                         dataset=f"bad-{uuid.uuid4().hex[:8]}", license="CC-BY-4.0", origin="university",
                         attested=True)


def _fields(parsed):
    return [{k: v for k, v in r.items() if not k.startswith("_")} for r in parsed.records]


# CSV --------------------------------------------------------------------------------------------------------


def test_unbalanced_quote_is_reported_and_the_rows_after_it_are_kept():
    data = b'title,price,currency\n"Lamp,12,EUR\nChair,30,USD\nDesk,"99",EUR\nTable,5,GBP\n'
    parsed = parse_file("listings.csv", data)
    assert [r["title"] for r in parsed.records] == ["Chair", "Desk", "Table"]
    assert [r["_line"] for r in parsed.records] == [3, 4, 5]
    assert len(parsed.rejected) == 1
    file, line, reason = parsed.rejected[0]
    assert (file, line) == ("listings.csv", 2) and "unbalanced quote" in reason and "2-4" in reason


def test_unbalanced_quote_that_never_closes_does_not_swallow_the_rest_of_the_file():
    parsed = parse_file("rows.csv", b'a,b,c\n1,"open,x\n2,y,z\n3,w,v\n')
    assert _fields(parsed) == [{"a": "2", "b": "y", "c": "z"}, {"a": "3", "b": "w", "c": "v"}]
    assert [(line, "unbalanced quote" in why) for _, line, why in parsed.rejected] == [(2, True)]


def test_quoted_fields_spanning_lines_are_still_one_record():
    parsed = parse_file("notes.csv", b'id,text,lang\n1,"first line\nsecond, line",en\n2,plain,fr\n')
    assert _fields(parsed) == [{"id": "1", "text": "first line\nsecond, line", "lang": "en"},
                               {"id": "2", "text": "plain", "lang": "fr"}]
    assert parsed.rejected == []


# Encodings ---------------------------------------------------------------------------------------------------


def test_one_stray_byte_does_not_turn_a_utf8_file_into_mojibake():
    data = "name,city\ncafé,Köln\nZoë,Malmö\n".encode() + b"Bad\xff,Paris\n" + "Noël,Orléans\n".encode()
    parsed = parse_file("people.csv", data)
    assert [r["name"] for r in parsed.records] == ["café", "Zoë", "Bad\ufffd", "Noël"]
    assert parsed.encoding == "utf-8" and parsed.rejected == []
    assert [(f, line) for f, line, _ in parsed.warnings] == [("people.csv", 4)]
    assert "U+FFFD" in parsed.warnings[0][2]


def test_stray_byte_is_reported_by_ingest(workbench):
    report = _ingest("notes.jsonl", '{"text": "café crème"}\n'.encode() + b'{"text": "bad \xfe byte"}\n')
    assert report.new == 2 and report.rejected == []
    assert [line for _, line, _ in report.warnings] == [2]


def test_a_legacy_encoded_file_is_still_detected():
    decoded = decode_text_reporting("name,city\nJosé,Málaga\nZoë,Köln\n".encode("cp1252"))
    assert "José" in decoded.text and "Köln" in decoded.text and decoded.bad_lines == ()


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_gives_real_column_names(codec):
    parsed = parse_file("people.csv", "name,city\nJosé,Málaga\nZoë,Köln\n".encode(codec))
    assert _fields(parsed) == [{"name": "José", "city": "Málaga"}, {"name": "Zoë", "city": "Köln"}]
    assert parsed.encoding == codec


# JSON and JSONL ----------------------------------------------------------------------------------------------


def test_jsonl_records_are_split_on_newlines_only():
    rows = [{"text": "line\u2028separator"}, {"text": "next\u0085line"}, {"text": "para\u2029graph\x1c"}]
    data = "".join(json.dumps(r, ensure_ascii=False) + "\r\n" for r in rows).encode()
    parsed = parse_file("rows.jsonl", data)
    assert _fields(parsed) == rows and parsed.rejected == []
    assert [r["_line"] for r in parsed.records] == [1, 2, 3]


def test_raw_explorer_export_reingests_without_losing_rows(workbench, raw_store):
    app = f"x{uuid.uuid4().hex[:8]}"
    bodies = [f"record {i} with a raw\u2028line separator and\u0085next line" for i in range(5)]
    raw_store.insert_documents(app, [{"source_id": "alpha", "url": f"https://site.test/{i}",
                                      "fetched_at": datetime.now(UTC), "content_hash": content_hash(body),
                                      "raw_content": body, "metadata": {"kind": "article"}}
                                     for i, body in enumerate(bodies)])
    exported = "".join(explore.iter_export(as_admin(), app, explore.RawFilter(), "jsonl")).encode()
    assert "\u2028".encode() in exported  # written raw, which is valid JSON
    report = _ingest("export.jsonl", exported)
    assert report.rejected == [] and report.new == 5


def test_deeply_nested_jsonl_line_is_rejected_and_the_others_kept():
    deep = "[" * 100_000 + "]" * 100_000
    data = f'{{"text": "before"}}\n{{"deep": {deep}}}\n{{"text": "after"}}\n'.encode()
    parsed = parse_file("rows.jsonl", data)
    assert [r["text"] for r in parsed.records] == ["before", "after"]
    assert [(line, "nested too deeply" in why) for _, line, why in parsed.rejected] == [(2, True)]
    shallow_but_deep = '{"a": ' * 150 + "1" + "}" * 150
    parsed = parse_file("rows.jsonl", f'{shallow_but_deep}\n{{"text": "ok"}}\n'.encode())
    assert len(parsed.records) == 1 and "nested too deeply" in parsed.rejected[0][2]


def test_deeply_nested_json_file_is_a_clear_error():
    with pytest.raises(UploadError, match="nested too deeply"):
        parse_file("dump.json", ("[" * 100_000 + "]" * 100_000).encode())


# ZIP ---------------------------------------------------------------------------------------------------------


def _zip(members, compression=zipfile.ZIP_STORED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return bytearray(buffer.getvalue())


def test_zip_member_with_a_bad_crc_is_named_and_the_others_kept():
    data = _zip({"good.txt": b"good text here", "bad.txt": b"DAMAGED payload " * 20})
    data[data.find(b"DAMAGED")] = ord("X")
    parsed = parse_file("batch.zip", bytes(data))
    assert [r["text"] for r in parsed.records] == ["good text here"]
    assert [(f, "damaged" in why) for f, _, why in parsed.rejected] == [("bad.txt", True)]


def test_zip_member_with_lying_sizes_is_named_and_the_others_kept():
    data = _zip({"good.txt": b"good text here", "liar.txt": b"some text " * 500}, zipfile.ZIP_DEFLATED)
    entry = data.rfind(b"PK\x01\x02")  # central directory entry of the last member
    data[entry + 24:entry + 28] = struct.pack("<I", 10)  # claims 10 bytes uncompressed
    parsed = parse_file("batch.zip", bytes(data))
    assert [r["text"] for r in parsed.records] == ["good text here"]
    assert [f for f, _, _ in parsed.rejected] == ["liar.txt"]


def test_zip_whose_every_member_is_damaged_is_a_clear_upload_error(workbench):
    data = _zip({"only.txt": b"DAMAGED payload " * 20})
    data[data.find(b"DAMAGED")] = ord("X")
    with pytest.raises(UploadError, match="no usable records.*damaged"):
        _ingest("batch.zip", bytes(data))


def test_zip_bomb_with_a_lying_size_header_is_stopped():
    data = _zip({"zeros.txt": b"\0" * (40 * 1024 * 1024)}, zipfile.ZIP_DEFLATED)
    entry = data.rfind(b"PK\x01\x02")
    data[entry + 24:entry + 28] = struct.pack("<I", 1000)  # hides the real size from the ratio check
    started = time.perf_counter()
    parsed = parse_file("bomb.zip", bytes(data))
    assert parsed.records == [] and parsed.rejected[0][0] == "zeros.txt"
    assert time.perf_counter() - started < 5


# Empty text --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"   \n\t\r\n  "])
def test_empty_text_file_is_refused(workbench, content):
    with pytest.raises(UploadError, match="empty"):
        parse_file("notes.txt", content)
    with pytest.raises(UploadError, match="empty"):
        _ingest("notes.txt", content)


def test_empty_text_member_of_a_zip_is_named_and_the_others_kept():
    parsed = parse_file("batch.zip", bytes(_zip({"empty.txt": b"  \n", "full.txt": b"some words"})))
    assert [r["text"] for r in parsed.records] == ["some words"]
    assert [(f, "empty" in why) for f, _, why in parsed.rejected] == [("empty.txt", True)]


# Recipes -----------------------------------------------------------------------------------------------------

LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{c}: &{c} [{','.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
    + ["name: laughs", "rules: *i"]) + "\n"


def test_recipe_with_nested_aliases_fails_fast_with_a_clear_message():
    assert len(LAUGHS.encode()) < 500
    started = time.perf_counter()
    with pytest.raises(RecipeError, match="alias") as refused:
        recipe_from_yaml(LAUGHS)
    assert time.perf_counter() - started < 0.5
    assert len(str(refused.value)) < 300


def test_recipe_size_nesting_and_message_length_are_bounded():
    with pytest.raises(RecipeError, match="limit"):
        recipe_from_yaml("name: big\n# " + "x" * 70_000 + "\nrules: []\n")
    with pytest.raises(RecipeError, match="nested too deeply"):
        recipe_from_yaml("name: deep\nrules: " + "[" * 30_000 + "]" * 30_000)
    with pytest.raises(RecipeError) as refused:
        recipe_from_yaml("name: long\nrules:\n  - min_length: [" + ", ".join(["word" * 50] * 300) + "]\n")
    assert len(str(refused.value)) <= 500
    assert recipe_from_yaml("name: ok\nrules:\n  - min_length: 10\n").rules[0].min == 10


# Raw Explorer search and the CLI -----------------------------------------------------------------------------


def test_nul_in_the_raw_explorer_search_does_not_crash(workbench, raw_store):
    app = f"x{uuid.uuid4().hex[:8]}"
    raw_store.insert_documents(app, [{"source_id": "alpha", "url": "https://site.test/1",
                                      "fetched_at": datetime.now(UTC), "content_hash": content_hash("solar"),
                                      "raw_content": "solar power", "metadata": {}}])
    for flt in (explore.RawFilter(text="solar\x00"), explore.RawFilter(text="\x00"),
                explore.RawFilter(source_id="alpha\x00"), explore.RawFilter(has_field="title\x00")):
        assert "\x00" not in json.dumps(flt.query())
        explore.raw_page(as_admin(), app, flt)  # no exception
        "".join(explore.iter_export(as_admin(), app, flt, "jsonl"))


def _cli_ingest(tmp_path, app: str, dataset: str) -> subprocess.CompletedProcess:
    path = tmp_path / "rows.csv"
    path.write_text("title,text\nA,alpha text\n")
    return subprocess.run([sys.executable, "-m", "core", "ingest", str(path), "--app", app, "--dataset", dataset,
                           "--license", "MIT", "--attest"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "DATA_DIR": str(tmp_path / "data")}, timeout=120)


def test_cli_invalid_app_is_one_clear_line_and_exit_2(tmp_path):
    result = _cli_ingest(tmp_path, "Bad App!", "cli-bad-app")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "Bad App!" in result.stderr


def test_cli_bad_dataset_name_is_refused_clearly(tmp_path):
    result = _cli_ingest(tmp_path, "uploads", "../../escaped")
    assert result.returncode == 2 and "Traceback" not in result.stderr and "dataset name" in result.stderr
    assert not (tmp_path / "escaped").exists()
