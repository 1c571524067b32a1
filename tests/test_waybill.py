"""The waybill extractor (course 3.2, 快递单信息抽取): tag decoding, the BiGRU-CRF labeller, bad input,
the hand-written evaluation set, the CLI and the hub.Trainer fine-tune."""
import io
import json
import sys
from pathlib import Path

import pytest

from paddle_course.ocr.waybill import extract_fields, extract_waybill
from paddle_course.ocr.waybill.dataset import read_jsonl
from paddle_course.ocr.waybill.decode import TAGS, fields_from_tags, spans
from paddle_course.ocr.waybill.metrics import exact_match

ROOT = Path(__file__).resolve().parents[1]
HANDWRITTEN = ROOT / "data" / "waybill" / "handwritten.jsonl"
ISSUE_TEXT = "张三18625584663广东省深圳市南山区学府路东百度国际大厦"
ISSUE_FIELDS = {"name": "张三", "phone": "18625584663", "address": "广东省深圳市南山区学府路东百度国际大厦"}
# measured with the shipped weights: 180 of 180 all-three exact. The set has become a dev set
# (its errors guided the generator's changes, see data/waybill/README.md), so this is optimistic.
HANDWRITTEN_ALL_THREE = 180
# The later hand-written sets, each 110 + 110 texts by people who saw nothing else, each a locked test once
# and a dev set since (their errors were read): a regression guard at the level the shipped weights
# measure, optimistic, not a test score (the once-only scores are in data/waybill/README.md).
LATER_SETS = {  # name: (files, all-three exact of 220 with the shipped weights)
    "second": (("printed", "typed"), 220),    # locked once: 0.859
    "third": (("mixed", "customer"), 219),    # locked once: 0.923
    "fourth": (("labels", "pasted"), 209),    # locked once: 0.864
    "fifth": (("slips", "messages"), 215),    # locked once: 0.977 (these weights)
    "sixth": (("station", "given"), 215),     # locked once: 0.977 (these weights)
}

def tags_for(text, pieces):
    """Tags for ``text`` from (kind, substring) pieces, B on the first character, I after."""
    tags = ["O"] * len(text)
    for kind, part in pieces:
        start = text.index(part)
        tags[start:start + len(part)] = [f"B-{kind}"] + [f"I-{kind}"] * (len(part) - 1)
    return tags


def test_tag_scheme():
    assert TAGS[0] == "O" and len(TAGS) == 13
    assert {"B-name", "I-phone", "B-province", "I-city", "B-district", "I-detail"} <= set(TAGS)


def test_decode_tags_to_fields():
    text = "张三 186-2558-4663 广东省深圳市南山区学府路1号"
    tags = tags_for(text, [("name", "张三"), ("phone", "186-2558-4663"), ("province", "广东省"),
                           ("city", "深圳市"), ("district", "南山区"), ("detail", "学府路1号")])
    assert fields_from_tags(text, tags) == {"name": "张三", "phone": "18625584663",
                                            "address": "广东省深圳市南山区学府路1号"}
    assert [kind for kind, _, _ in spans(text, tags)] == ["name", "phone", "province", "city", "district", "detail"]


def test_decode_wrapped_address_and_empty_tags():
    text = "地址：北京市朝阳区\n建国路88号"
    tags = tags_for(text, [("province", "北京市"), ("district", "朝阳区"), ("detail", "建国路88号")])
    assert fields_from_tags(text, tags)["address"] == "北京市朝阳区建国路88号"
    assert fields_from_tags(text, ["O"] * len(text)) == {"name": None, "phone": None, "address": None}


def test_decoded_name_drops_punctuation_glued_to_its_ends():
    text = "禚洪涛-13869628810-山东省临沂市兰山区通达路18号"
    tags = tags_for(text, [("name", "禚洪涛-"), ("phone", "13869628810"), ("province", "山东省"),
                           ("detail", "临沂市兰山区通达路18号")])
    assert fields_from_tags(text, tags)["name"] == "禚洪涛"
    uyghur = "阿依·古丽 13800138000"
    assert fields_from_tags(uyghur, tags_for(uyghur, [("name", "阿依·古丽")]))["name"] == "阿依·古丽"
    assert fields_from_tags("-- 1", ["B-name", "I-name", "O", "O"])["name"] is None


def test_issue_one_line_example():
    assert extract_fields([ISSUE_TEXT]) == [ISSUE_FIELDS]


def test_batched_labelled_compound_surname_and_order():
    texts = ["收件人：欧阳娜娜\n电话：13800138000\n地址：北京市朝阳区建国路88号2栋301室",
             "广西壮族自治区南宁市青秀区民族大道100号3单元502室 上官云 13912345678",
             ISSUE_TEXT]
    results = extract_fields(texts)
    assert results[0] == {"name": "欧阳娜娜", "phone": "13800138000", "address": "北京市朝阳区建国路88号2栋301室"}
    assert results[1]["name"] == "上官云" and results[1]["phone"] == "13912345678"
    assert results[1]["address"].startswith("广西壮族自治区南宁市青秀区") and results[1]["address"].endswith("502室")
    assert results[2] == ISSUE_FIELDS


def test_bad_inputs_give_null_fields_or_a_clear_error():
    empty = {"name": None, "phone": None, "address": None}
    results = extract_fields(["", "   \n ", "hello world, no waybill here", "The quick brown fox 42"])
    assert results[:2] == [empty, empty]
    for fields in results[2:]:
        assert set(fields) == {"name", "phone", "address"} and fields["phone"] is None
    no_phone = extract_fields(["收件人：张三 地址：广东省深圳市南山区学府路1号"])[0]
    assert no_phone["phone"] is None and no_phone["name"] == "张三"
    with pytest.raises(ValueError, match="at most"):
        extract_fields(["张" * 10_000])
    with pytest.raises(TypeError):
        extract_fields([None])
    with pytest.raises(TypeError):
        extract_fields(ISSUE_TEXT)  # one str, not a list


def test_rules_stay_as_fallback():
    lines = ["收件人：张三", "电话：18625584663", "地址：广东省深圳市南山区学府路1号"]
    assert extract_waybill(lines) == {"name": "张三", "phone": "18625584663", "address": "广东省深圳市南山区学府路1号"}
    from paddle_course.ocr.waybill.predict import with_fallback

    assert with_fallback({"name": "李四", "phone": None, "address": None},
                         {"name": "x", "phone": "110", "address": None}) == {"name": "李四", "phone": "110",
                                                                              "address": None}


def test_handwritten_set_all_three_exact():
    rows = read_jsonl(HANDWRITTEN)
    assert len(rows) == 180
    score = exact_match(rows, extract_fields([r["text"] for r in rows]))
    # a regression guard at the measured level (a dev set now: the locked hand-written set is the real test)
    assert round(score["all"] * score["n"]) >= HANDWRITTEN_ALL_THREE, score
    assert score["name"] >= 0.99 and score["phone"] >= 0.99 and score["address"] >= 0.99, score


@pytest.mark.parametrize("name", LATER_SETS)
def test_later_handwritten_sets_all_three_exact(name):
    parts, guard = LATER_SETS[name]
    rows = [row for part in parts for row in read_jsonl(ROOT / "data" / "waybill" / f"handwritten_{part}.jsonl")]
    assert len(rows) == 220
    score = exact_match(rows, extract_fields([r["text"] for r in rows]))
    assert round(score["all"] * score["n"]) >= guard, score


def test_cli_waybill_extract_json(monkeypatch, capsys, tmp_path):
    from paddle_course.cli import main

    assert main(["waybill", "extract", ISSUE_TEXT]) == 0
    assert json.loads(capsys.readouterr().out) == ISSUE_FIELDS

    monkeypatch.setattr(sys, "stdin", io.StringIO(ISSUE_TEXT + "\n"))
    assert main(["waybill", "extract", "-"]) == 0
    assert json.loads(capsys.readouterr().out) == ISSUE_FIELDS

    lines = tmp_path / "texts.txt"
    lines.write_text(ISSUE_TEXT + "\n\n李四13912345678上海市浦东新区世纪大道100号\n", encoding="utf-8")
    assert main(["waybill", "extract", "--file", str(lines)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(out) == 2 and out[0] == {"text": ISSUE_TEXT, **ISSUE_FIELDS}
    assert out[1]["name"] == "李四" and out[1]["phone"] == "13912345678"

    assert main(["waybill", "extract", "张" * 10_000]) == 2
    assert "at most" in capsys.readouterr().err


def test_heldout_split_is_seeded():
    from paddle_course.ocr.waybill.generator import heldout_examples

    a, b = heldout_examples(20), heldout_examples(20)
    assert [x["text"] for x in a] == [x["text"] for x in b]
    assert all(set(x) >= {"text", "name", "phone", "address", "format"} for x in a)


def test_finetune_reports_dev_accuracy_before_and_after(tmp_path):
    from paddle_course.ocr.waybill.finetune import finetune
    from paddle_course.ocr.waybill.generator import WaybillGenerator
    from paddle_course.ocr.waybill.predict import WaybillLabeller

    # the format a user writes by hand: text + its fields (generated here, plus two written rows)
    rows = [{"text": "收货人:司马光 电话:0371-65432100 地址:河南省郑州市金水区花园路12号3栋2单元501",
             "name": "司马光", "phone": "037165432100", "address": "河南省郑州市金水区花园路12号3栋2单元501"},
            {"text": "13700001111 王小明 四川省成都市武侯区科华北路65号", "name": "王小明",
             "phone": "13700001111", "address": "四川省成都市武侯区科华北路65号"}]
    rows += [r for r in WaybillGenerator(seed=123).samples(40) if "\n" not in r["text"]][:14]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps({k: r[k] for k in ("text", "name", "phone", "address")},
                                                             ensure_ascii=False) + "\n" for r in rows),
                                          encoding="utf-8")
    (tmp_path / "dev.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[:2]),
                                        encoding="utf-8")
    report = finetune(tmp_path / "train.jsonl", tmp_path / "dev.jsonl", out_dir=tmp_path / "out", epochs=1,
                      batch_size=8, checkpoint_dir=str(tmp_path / "ckpt"))
    assert report["n_train"] == len(rows) and report["n_dev"] == 2
    for when in ("before", "after"):
        assert set(report[when]) >= {"name", "phone", "address", "all", "n"} and 0 <= report[when]["all"] <= 1
    assert (tmp_path / "out" / "model.safetensors").is_file()
    assert WaybillLabeller(tmp_path / "out").extract([ISSUE_TEXT])[0]["phone"] == "18625584663"


def test_finetune_rejects_a_row_whose_fields_are_not_in_its_text(tmp_path):
    from paddle_course.ocr.waybill.finetune import finetune

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "张三13800138000", "name": "李四", "phone": "13800138000",
                               "address": None}, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(ValueError):
        finetune(bad, bad, out_dir=tmp_path / "out")


def test_training_tags_find_a_name_that_also_occurs_inside_the_address():
    from paddle_course.ocr.waybill.dataset import tags_from_fields

    text = "金山17783042196重庆市渝北区鸳鸯街道金山大道1号"
    tags = tags_from_fields(text, "金山", "17783042196", "重庆市渝北区鸳鸯街道金山大道1号")
    assert tags[:2] == ["B-name", "I-name"] and fields_from_tags(text, tags)["address"].endswith("金山大道1号")
    phone = "收件：潘玉珍，手机139.7025.8143，海南省儋州市那大镇中兴大街152号"
    assert fields_from_tags(phone, tags_from_fields(phone, "潘玉珍", "13970258143", "海南省儋州市那大镇中兴大街152号"))[
        "phone"] == "13970258143"


def test_training_mixes_hand_written_texts_and_names_a_bad_row(tmp_path):
    from paddle_course.ocr.waybill.predict import WaybillLabeller
    from paddle_course.ocr.waybill.train import train

    written = tmp_path / "written.jsonl"
    written.write_text(json.dumps({"text": "宋佳明（收件人）\n15251930762（手机）\n江苏省南京市江宁区胜太路68号（地址）",
                                   "name": "宋佳明", "phone": "15251930762", "address": "江苏省南京市江宁区胜太路68号"},
                                  ensure_ascii=False) + "\n", encoding="utf-8")
    log = train(tmp_path / "out", n_train=48, n_dev=8, epochs=1, batch_size=16, hidden=8, emb_dim=8,
                log=lambda *_: None, handwritten=[str(written)], handwritten_repeat=3)
    assert log["n_handwritten"] == 1 and log["handwritten_repeat"] == 3 and log["handwritten"] == ["written.jsonl"]
    assert WaybillLabeller(tmp_path / "out").extract(["x"])[0].keys() >= {"name", "phone", "address"}

    written.write_text(json.dumps({"text": "张三13800138000", "name": "李四", "phone": "13800138000",
                                   "address": None}, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"written.jsonl\[0\]: name '李四' is not in the text"):
        train(tmp_path / "out2", n_train=8, n_dev=4, epochs=1, log=lambda *_: None, handwritten=[str(written)])


def test_train_cli_names_a_missing_file_and_weights_of_another_size(tmp_path, capsys):
    from paddle_course.ocr.waybill.train import main, train

    with pytest.raises(SystemExit) as exit_info:
        main(["--handwritten", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2 and "missing.jsonl: no such file" in capsys.readouterr().err
    train(tmp_path / "small", n_train=16, n_dev=4, epochs=1, hidden=8, emb_dim=8, log=lambda *_: None)
    with pytest.raises(SystemExit):
        main(["--init", str(tmp_path / "small"), "--n-train", "8", "--n-dev", "4", "--out", str(tmp_path / "out")])
    assert "weights of another size or network" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_course_ocr_module_extract_waybill():
    from paddle_course.common.hub import load_module

    module = load_module("course_ocr")
    assert module.extract_waybill(texts=[ISSUE_TEXT]) == [ISSUE_FIELDS]
    with pytest.raises(ValueError, match="list"):
        module.extract_waybill(texts=ISSUE_TEXT)
    assert module.serving_func_name == "serving_method"  # the image serving method is unchanged


def test_decoded_address_drops_a_tables_borders_at_its_ends():
    from paddle_course.ocr.waybill.decode import TAG_INDEX, fields_from_ids

    text = "┃收┃李明 13672084519┃\n┃ ┃河北省廊坊市三河市燕郊镇1号┃"
    tags = tags_for(text, [("name", "李明"), ("phone", "13672084519┃"), ("province", "河北省"), ("city", "廊坊市"),
                           ("district", "三河市"), ("detail", "燕郊镇1号┃")])
    want = {"name": "李明", "phone": "13672084519", "address": "河北省廊坊市三河市燕郊镇1号"}
    assert fields_from_tags(text, tags) == want
    assert fields_from_ids(text, [TAG_INDEX[t] for t in tags]) == want  # the NumPy path decodes the same
    assert fields_from_tags("┃│", ["B-detail", "I-detail"])["address"] is None


def test_generator_pickup_points_id_numbers_and_borders():
    from paddle_course.ocr.waybill.generator import WaybillGenerator

    gen = WaybillGenerator(seed=13)
    for _ in range(30):
        tail = gen.pickup_tail()  # 酒店前台: printed as the end of the address
        assert tail and "\n" not in tail and not any(ch.isspace() for ch in tail)
        number = gen.id_number()
        assert len(number) == 18 and number[:17].isdigit() and number[0] != "0"
    seen = {"id": 0, "border": 0}
    for example in gen.samples(1500):
        if "身份证" in example["text"]:  # an ID number near the recipient is never the phone
            seen["id"] += 1
            assert example["phone"] is None or len(example["phone"]) <= 12, example
        if example["text"].startswith(("┃", "│")):  # a table's borders are O
            seen["border"] += 1
            assert not any(ch in "┃│" for f in ("name", "address") for ch in (example[f] or "")), example
    assert seen["id"] and seen["border"], seen


def test_generator_layouts_take_the_recipient_not_the_sender():
    from paddle_course.ocr.waybill.decode import phone_digits
    from paddle_course.ocr.waybill.generator import WaybillGenerator

    gen = WaybillGenerator(seed=11)
    for _ in range(40):
        example = gen._finish(gen.two_columns(), "two-column")
        header, first_row = example["text"].split("\n")[:2]
        recipient_left = header.startswith(("收", "To"))
        assert (first_row.index(example["name"]) == 0) == recipient_left, example["text"]
        pieces = gen.landline_with_extension()
        assert pieces[0][1] == "phone" and pieces[1][1] is None  # the extension is not part of the phone
        assert phone_digits(pieces[0][0]) and len(phone_digits(pieces[0][0])) in (11, 12)


def test_decode_joins_an_address_printed_as_region_and_detail():
    text = "收货人：潘雨\n所在地区：广东省 佛山市 顺德区 大良街道\n详细地址：凤山中路28号3座906"
    tags = tags_for(text, [("name", "潘雨"), ("province", "广东省"), ("city", "佛山市"), ("district", "顺德区"),
                           ("detail", "大良街道"), ("detail", "凤山中路28号3座906")])
    assert fields_from_tags(text, tags)["address"] == "广东省佛山市顺德区大良街道凤山中路28号3座906"


def test_generator_chat_titles_and_split_region_keep_the_recipient():
    from paddle_course.ocr.waybill.generator import WaybillGenerator

    gen = WaybillGenerator(seed=12)
    for _ in range(60):
        lines = gen.chat_message()
        example = gen._finish(lines, "chat")
        for field in ("name", "address"):  # the chat words around a field are O, the field is whole
            if example[field]:
                assert example[field] in "".join(example["text"].split()), example
        title, station = gen.header_line(), gen.station_line()
        assert title and station and "\n" not in title + station
        pieces = gen.address()
        region, rest = gen.split_region(pieces)
        # every printed character of 所在地区 and 详细地址 is the address's (a 街道 may be added to the region)
        assert all(k or not t.strip() for t, k in region + rest), (region, rest)
        detail = "".join(t for t, k in rest)
        assert detail and "".join(t for t, k in pieces if k).replace(" ", "").endswith(detail.replace(" ", ""))


def test_recipe_samples_are_dispatch_slips_the_shipped_labeller_misreads():
    from paddle_course.ocr.waybill.dataset import labelled_examples
    from paddle_course.ocr.waybill.samples import dispatch_slips
    from paddle_course.samples import SAMPLE_SEED

    rows = dispatch_slips(100, SAMPLE_SEED + 1)  # wb_dev.jsonl of `paddle-course samples`
    assert rows == dispatch_slips(100, SAMPLE_SEED + 1) and len(labelled_examples(rows)) == 100
    score = exact_match(rows, extract_fields([r["text"] for r in rows]))
    assert score["all"] < 0.8, score  # the driver comes first: the recipe has a shift to show
