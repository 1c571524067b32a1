"""快递单信息抽取 (course 3.2): the recipient's name, phone and address from a waybill's text.

Two extractors, same output ``{"name", "phone", "address"}`` (a field not found is ``None``):

* :func:`extract_fields` -- the trained labeller, batched: a character-level BiGRU-CRF
  (PaddleNLP's course scheme: name, phone, province, city, district, detail, each B/I, plus
  O) trained on seeded generated waybills; reads the unlabelled one-line form too.

      extract_fields(["张三18625584663广东省深圳市南山区学府路东百度国际大厦"])
      # [{"name": "张三", "phone": "18625584663", "address": "广东省深圳市南山区学府路东百度国际大厦"}]

* :func:`extract_waybill` -- the rules (:mod:`.rules`) on a list of OCR lines; the
  fallback for a field the labeller leaves empty.

Rooms: ``rules``, ``network`` (embedding -> BiGRU -> linear -> CRF), ``decode`` (tags ->
fields), ``generator`` / ``addresses`` / ``extras`` / ``chat`` / ``lexicon`` / ``divisions`` (training data),
``dataset`` (vocabulary, batching, JSONL), ``train``, ``finetune`` (hub.Trainer),
``predict``, ``metrics``.  Paddle is imported only when the labeller is loaded.
"""
from .rules import extract_waybill  # noqa: F401  (the rules: lines -> fields)


def extract_fields(texts, batch_size=64):
    """The labeller on a list of texts (one waybill each; OCR lines joined by "\\n") -> one dict per text.

    Empty text gives all-None fields; a non-string is a TypeError, a text over
    :data:`.predict.MAX_CHARS` characters a ValueError.
    """
    from .predict import extract_waybills

    return extract_waybills(texts, batch_size)


def extract_lines(lines_per_image, batch_size=64):
    """OCR lines of each image -> the labeller's fields, the rules filling a field it leaves empty."""
    from .predict import extract_ocr_lines

    return extract_ocr_lines(lines_per_image, fallback=extract_waybill, batch_size=batch_size)
