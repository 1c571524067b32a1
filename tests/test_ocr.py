"""course_ocr (PP-OCRv4), the waybill extractor, and the CRNN fine-tune wrapper.

Images are rendered here with the shipped font; nothing is downloaded.
Recognition is scored with character accuracy, 1 - edit distance / length.
"""
import json
import os
from pathlib import Path

import numpy as np
import pytest

from paddle_course.common import images as image_io
from paddle_course.common.hub import load_module
from paddle_course.ocr import engine, metrics, render
from paddle_course.ocr.waybill import extract_waybill


@pytest.fixture(scope="module")
def module():
    return load_module("course_ocr")


@pytest.fixture(scope="module")
def waybill_image():
    return render.render_waybill(seed=11)


# ---------------------------------------------------------------- recognition
def test_rendered_lines_are_read_with_at_least_98_percent_char_accuracy(module):
    samples = render.benchmark_images(n=3, seed=5)
    scores = metrics.accuracy_on(samples, lambda images: [r["data"] for r in module.recognize_text(images=images)])
    assert scores["char_accuracy"] >= 0.98, scores


def test_result_has_paddlehub_keys_one_entry_per_image(module, waybill_image):
    image, lines, _ = waybill_image
    results = module.recognize_text(images=[image, image[:, :, 0]])  # a grey copy is accepted too
    assert len(results) == 2
    for result in results:
        assert set(result) == {"save_path", "data"} and result["save_path"] == ""
        assert len(result["data"]) >= len(lines) - 1
        for line in result["data"]:
            assert set(line) == {"text", "confidence", "text_box_position"}
            assert 0.5 <= line["confidence"] <= 1.0
            box = np.array(line["text_box_position"])
            assert box.shape == (4, 2) and box.dtype.kind == "i"
            assert (box[:, 0] <= image.shape[1]).all() and (box[:, 1] <= image.shape[0]).all()
    assert "收件人" in "".join(line["text"] for line in results[0]["data"])


def test_module_metadata_matches_paddlehub_conventions(module):
    assert module.name == "course_ocr"
    assert module.type == "cv/text_recognition"
    assert str(module.version) == "1.0.0"


def test_text_thresh_drops_lines_below_it(module, waybill_image):
    image = waybill_image[0]
    everything = module.recognize_text(images=[image], text_thresh=0.0)[0]["data"]
    strict = module.recognize_text(images=[image], text_thresh=0.999)[0]["data"]
    assert all(line["confidence"] >= 0.999 for line in strict)
    assert len(strict) == sum(line["confidence"] >= 0.999 for line in everything)


def test_visualization_saves_an_annotated_image_named_after_the_input(module, waybill_image, tmp_path):
    path = tmp_path / "waybill.png"
    image_io.save_image(waybill_image[0], path)
    result = module.recognize_text(paths=[str(path)], visualization=True, output_dir=str(tmp_path / "out"))[0]
    saved = Path(result["save_path"])
    assert saved == tmp_path / "out" / "waybill.jpg" and saved.is_file()
    annotated = image_io.read_image(saved)
    assert annotated.shape[1] == 2 * waybill_image[0].shape[1]  # image + text panel
    assert [p.name for p in saved.parent.iterdir()] == ["waybill.jpg"]  # no temporary files left


def test_serving_method_decodes_base64_and_matches_recognize_text(module, waybill_image):
    image = waybill_image[0]
    served = module.serving_method(images=[image_io.encode_base64_image(image)], text_thresh=0.5)
    direct = module.recognize_text(images=[image])
    assert [l["text"] for l in served[0]["data"]] == [l["text"] for l in direct[0]["data"]]
    json.dumps(served)  # what hub serving sends back must be JSON


@pytest.mark.parametrize("body, message", [
    ([], "empty"),
    ("aGVsbG8=", "must be a list"),
    (["not base64 !!"], "images[0]: not valid base64"),
    (["aGVsbG8="], "not an image"),
    ([None], "images[0]: expected a non-empty base64 string"),
])
def test_serving_rejects_bad_bodies_with_clear_value_errors(module, body, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        module.serving_method(images=body)


def test_serving_rejects_unknown_options(module, waybill_image):
    with pytest.raises(ValueError, match="unknown option"):
        module.serving_method(images=[image_io.encode_base64_image(waybill_image[0])], top_k=3)


def test_bad_inputs_to_recognize_text_name_the_problem(module, tmp_path):
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello")
    with pytest.raises(ValueError, match="notes.png: not an image"):
        module.recognize_text(paths=[str(not_image)])
    with pytest.raises(FileNotFoundError, match="missing.png"):
        module.recognize_text(paths=[str(tmp_path / "missing.png")])
    with pytest.raises(ValueError, match="empty"):
        module.recognize_text(images=[])
    with pytest.raises(ValueError, match="give images"):
        module.recognize_text()
    with pytest.raises(ValueError, match="must be a list"):
        module.recognize_text(paths=str(not_image))
    with pytest.raises(ValueError, match=r"images\[0\]: expected shape"):
        module.recognize_text(images=[np.zeros((10, 10, 5), dtype=np.uint8)])
    with pytest.raises(ValueError, match="text_thresh"):
        module.recognize_text(images=[np.zeros((10, 10, 3), dtype=np.uint8)], text_thresh=2)
    with pytest.raises(ValueError, match="CPU"):
        module.recognize_text(images=[np.zeros((10, 10, 3), dtype=np.uint8)], use_gpu=True)


def test_blank_image_gives_an_empty_line_list(module):
    result = module.recognize_text(images=[np.full((64, 64, 3), 255, dtype=np.uint8)])
    assert result == [{"save_path": "", "data": []}]


def test_engine_is_the_pipeline_the_module_wraps(module, waybill_image):
    raw, _ = engine.engine()(waybill_image[0])
    wrapped = module.recognize_text(images=[waybill_image[0]])[0]["data"]
    assert [text for _, text, _ in raw] == [line["text"] for line in wrapped]


def test_rendering_is_reproducible_and_benchmark_texts_are_known():
    a, b = render.benchmark_images(n=2, seed=3), render.benchmark_images(n=2, seed=3)
    assert all(np.array_equal(x[0], y[0]) and x[1] == y[1] for x, y in zip(a, b))
    noisy = render.render_text_image(["运单号 123"], seed=1, noise=10)
    assert np.array_equal(noisy, render.render_text_image(["运单号 123"], seed=1, noise=10))


# ---------------------------------------------------------------- waybill rules
def test_waybill_labelled_fields_and_sender_skipped():
    lines = ["顺丰速运 运单号：876232860129", "收件人：彭华", "电话：17791907483",
             "地址：四川省成都市青羊区科技园路554号", "寄件人：蒋明", "16966697251"]
    assert extract_waybill(lines) == {"name": "彭华", "phone": "17791907483",
                                      "address": "四川省成都市青羊区科技园路554号"}


def test_waybill_name_and_phone_on_one_line_and_wrapped_address():
    lines = ["收件人: 李晓明 13812345678", "收货地址：浙江省杭州市西湖区", "文三路138号3单元"]
    assert extract_waybill(lines) == {"name": "李晓明", "phone": "13812345678",
                                      "address": "浙江省杭州市西湖区文三路138号3单元"}


def test_waybill_unlabelled_lines_and_landline():
    lines = ["中通快递", "王芳", "010-62345678", "北京市海淀区学院路30号"]
    assert extract_waybill(lines) == {"name": "王芳", "phone": "010-62345678",
                                      "address": "北京市海淀区学院路30号"}


def test_waybill_tracking_number_is_not_a_phone_and_missing_fields_are_none():
    fields = extract_waybill(["运单号：138123456789", "京东物流"])
    assert fields == {"name": None, "phone": None, "address": None}


@pytest.mark.parametrize("seed", [1, 2])
def test_waybill_end_to_end_on_a_rendered_image(module, seed):
    image, _, expected = render.render_waybill(seed=seed)
    lines = [line["text"] for line in module.recognize_text(images=[image])[0]["data"]]
    assert extract_waybill(lines) == expected


def test_cli_waybill_prints_json(tmp_path, capsys):
    from paddle_course.cli import main

    path = tmp_path / "wb.png"
    image, _, expected = render.render_waybill(seed=4)
    image_io.save_image(image, path)
    capsys.readouterr()
    assert main(["ocr", "waybill", str(path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert {k: printed[k] for k in expected} == expected
    assert main(["ocr", "waybill", str(tmp_path / "none.png")]) == 2
    assert "none.png: image file not found" in capsys.readouterr().err  # common.images: one wording for every model


# ---------------------------------------------------------------- fine-tune data
@pytest.fixture()
def rec_dir(tmp_path):
    from paddle_course.ocr.lines import write_rendered_dataset

    write_rendered_dataset(tmp_path, n=4, seed=0, font_style="serif", kind="digits")
    return tmp_path


@pytest.mark.parametrize("line, message", [
    ("images/00000.png 123", "no TAB"),
    ("images/none.png\t123", "image not found"),
    ("notes.txt\t123", "not a readable image"),
    ("images/00000.png\t   ", "empty transcription"),
    ("images/00000.png\t12😀3", "characters outside the dictionary"),
])
def test_rec_list_errors_name_the_file_and_line(rec_dir, line, message):
    from paddle_course.ocr.crnn import default_characters
    from paddle_course.ocr.finetune import RecListDataset

    (rec_dir / "notes.txt").write_text("not an image")
    bad = rec_dir / "bad.txt"
    bad.write_text("images/00001.png\t0123\n\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=f"bad.txt:3: .*{message}"):
        RecListDataset(bad, default_characters())


def test_rec_list_reads_images_and_labels(rec_dir):
    from paddle_course.ocr.crnn import HEIGHT, default_characters
    from paddle_course.ocr.finetune import RecListDataset, collate

    dataset = RecListDataset(rec_dir / "labels.txt", default_characters())
    assert len(dataset) == 4 and all(text.replace("-", "").isdigit() for text in dataset.texts)
    images, labels, lengths, _ = collate([dataset[i] for i in range(4)])
    assert images.shape[:3] == (4, 1, HEIGHT) and images.shape[3] % 4 == 0
    assert list(lengths) == [len(t) for t in dataset.texts] and labels.shape[1] == max(lengths)


def test_ctc_greedy_decoding_merges_repeats_and_drops_blanks():
    import paddle

    from paddle_course.ocr.crnn import CRNNRecognizer

    model = CRNNRecognizer(list("ab"))
    steps = [1, 1, 0, 1, 2, 2, 0]  # a a _ a b b _  ->  "aab"
    logits = paddle.to_tensor(np.eye(3, dtype="float32")[steps][None] * 10)
    (text, confidence), = model.decode(logits)
    assert text == "aab" and confidence > 0.99


def test_a_line_reads_the_same_alone_and_in_a_batch_with_much_wider_lines():
    import random

    import paddle

    from paddle_course.ocr.crnn import BASE_CHECKPOINT, CRNNRecognizer, PaddleLineRecognizer, prepare_line_image
    from paddle_course.ocr.finetune import collate
    from paddle_course.ocr.lines import render_line

    model = CRNNRecognizer.load(BASE_CHECKPOINT)
    rng = random.Random(3)
    texts = ["王芳", "浙江省杭州市西湖区文三路138号", "上海市浦东新区科技园路999号", "8762328601291234"]
    crops = [render_line(text, rng) for text in texts]
    images = [prepare_line_image(crop) for crop in crops]
    assert min(image.shape[2] for image in images[1:3]) >= 4 * images[0].shape[2]

    # the confidence too: text_thresh drops lines by it, and padding used to pull it down (0.96 -> 0.81 here)
    alone = model.read(images[:1])[0]
    batched = model.read(images[::-1])[-1]
    assert alone[0] == texts[0] and batched[0] == alone[0] and batched[1] == pytest.approx(alone[1], abs=1e-5)

    # hub.Trainer's validation_step gets the line padded to the widest: it scores it as if alone
    def validate(indices):
        batch = [paddle.to_tensor(a) for a in collate([(images[i], model.encode(texts[i])) for i in indices])]
        return model.validation_step(batch, 0)["metrics"]

    per_line = [validate([i]) for i in range(len(texts))]
    together = validate(range(len(texts)))
    for key in ("acc", "char_acc"):
        assert together[key] == pytest.approx(np.mean([m[key] for m in per_line]), abs=1e-6)

    # the recognizer plugged into the PP-OCRv4 pipeline reads BGR crops in any company alike
    recognizer = PaddleLineRecognizer(BASE_CHECKPOINT)
    bgr = [np.repeat(crop[:, :, None], 3, axis=2) for crop in crops]
    (text_batched, conf_batched), (text_alone, conf_alone) = recognizer(bgr)[0][0], recognizer(bgr[:1])[0][0]
    assert text_batched == text_alone == texts[0] and conf_batched == pytest.approx(conf_alone, abs=1e-5)


def test_shipped_base_crnn_reads_the_held_out_rendered_lines():
    from paddle_course.ocr.crnn import BASE_CHECKPOINT, CRNNRecognizer, prepare_line_image
    from paddle_course.ocr.lines import held_out_crops
    from paddle_course.ocr.metrics import line_metrics

    assert (BASE_CHECKPOINT / "model.safetensors").stat().st_size < 3 * 2**20
    model = CRNNRecognizer.load(BASE_CHECKPOINT)
    held = held_out_crops(300)
    read = model.read([prepare_line_image(crop) for crop, _ in held])
    scores = line_metrics([text for text, _ in read], [text for _, text in held])
    assert scores["acc"] >= 0.9 and scores["char_acc"] >= 0.98, scores


@pytest.mark.parametrize("seed", [1, 2])
def test_module_with_the_base_crnn_reads_a_waybill_in_paddlehub_format(seed):
    import paddlehub as hub

    from paddle_course.ocr.crnn import BASE_CHECKPOINT, PaddleLineRecognizer

    module = hub.Module(directory=str(render.MODULE_DIR), checkpoint=str(BASE_CHECKPOINT))
    assert isinstance(module._engine.text_rec, PaddleLineRecognizer)  # detection PP-OCRv4, reading the CRNN
    image, _, expected = render.render_waybill(seed=seed)
    result = module.recognize_text(images=[image])
    assert len(result) == 1 and set(result[0]) == {"save_path", "data"}
    for line in result[0]["data"]:
        assert set(line) == {"text", "confidence", "text_box_position"} and 0.5 <= line["confidence"] <= 1.0
    assert extract_waybill([line["text"] for line in result[0]["data"]]) == expected


@pytest.mark.slow
def test_tiny_finetune_writes_a_checkpoint_the_module_loads(tmp_path):
    import paddlehub as hub

    from paddle_course.ocr.crnn import BASE_CHECKPOINT, PaddleLineRecognizer
    from paddle_course.ocr.finetune import finetune
    from paddle_course.ocr.lines import write_rendered_dataset

    # DejaVu Serif digits: a font the base CRNN never saw (it reads about 2 lines in 3 of them)
    train = write_rendered_dataset(tmp_path / "train", n=96, seed=1, font_style="serif", kind="digits", noisy=True)
    dev = write_rendered_dataset(tmp_path / "dev", n=32, seed=2, font_style="serif", kind="digits", noisy=True)
    result = finetune(train, dev, out_dir=tmp_path / "ckpt", init=BASE_CHECKPOINT, epochs=2, batch_size=16, lr=1e-3,
                      seed=0, quiet=True)
    assert (tmp_path / "ckpt" / "model.safetensors").is_file()
    assert 0 <= result["after"]["acc"] <= 1 and result["after"]["lines"] == 32
    assert result["after"]["acc"] >= result["before"]["acc"] + 0.2, result
    assert result["after"]["char_acc"] > result["before"]["char_acc"], result
    module = hub.Module(directory=str(render.MODULE_DIR), checkpoint=str(tmp_path / "ckpt"))
    assert isinstance(module._engine.text_rec, PaddleLineRecognizer)
    image, _, _ = render.render_waybill(seed=1)
    data = module.recognize_text(images=[image], text_thresh=0.0)[0]["data"]
    assert data and all(isinstance(line["text"], str) for line in data)
