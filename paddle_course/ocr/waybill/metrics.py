"""Field exact match for waybill extraction.

A field is right when it equals the expected value after the normalisation every
system gets alike: name and address compared without whitespace (line breaks and
spaces are OCR layout), phone compared as digits (see ``decode.phone_digits``).
``None`` matches only ``None``.  "all" counts a text whose three fields are all right.
"""
from .decode import phone_digits, squeeze

FIELDS = ("name", "phone", "address")


def normalise_field(field, value):
    if value is None:
        return None
    value = str(value)
    if field == "phone":
        return phone_digits(value)
    return squeeze(value) or None


def field_matches(expected, predicted):
    """{"name": bool, "phone": bool, "address": bool, "all": bool} for one text."""
    hits = {f: normalise_field(f, expected.get(f)) == normalise_field(f, predicted.get(f)) for f in FIELDS}
    hits["all"] = all(hits.values())
    return hits


def exact_match(expected_rows, predicted_rows):
    """Accuracy of each field and of all three over paired lists of dicts, plus the count ``n``."""
    if len(expected_rows) != len(predicted_rows):
        raise ValueError(f"{len(expected_rows)} expected rows but {len(predicted_rows)} predictions")
    totals = dict.fromkeys(FIELDS + ("all",), 0)
    for expected, predicted in zip(expected_rows, predicted_rows):
        for key, hit in field_matches(expected, predicted).items():
            totals[key] += hit
    n = len(expected_rows)
    return {key: (count / n if n else float("nan")) for key, count in totals.items()} | {"n": n}
