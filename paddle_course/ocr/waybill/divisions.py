"""China's administrative divisions (province -> city -> district), for the waybill generator.

The table is ``assets/divisions.json``, made by ``tools/make_divisions.py`` from the
``cpca`` wheel (MIT, see ``data/README.md``).  Each division comes with the short
forms people print on a waybill: 广东省 -> 广东, 广西壮族自治区 -> 广西,
深圳市 -> 深圳, 恩施土家族苗族自治州 -> 恩施州.
"""
import functools
import json
import os
from dataclasses import dataclass

ASSET = os.path.join(os.path.dirname(__file__), "assets", "divisions.json")

MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
# autonomous regions and SARs: the short form is the part before the people's name
REGION_SHORT = {"内蒙古自治区": "内蒙古", "广西壮族自治区": "广西", "西藏自治区": "西藏",
                "宁夏回族自治区": "宁夏", "新疆维吾尔自治区": "新疆",
                "香港特别行政区": "香港", "澳门特别行政区": "澳门"}


@dataclass(frozen=True)
class Division:
    """One district (or a city without districts) with the city and province above it."""

    province: str
    city: str | None      # None for a municipality's districts and 省直辖 county-level cities
    district: str | None  # None for a city without districts (东莞市, 中山市, 儋州市, 嘉峪关市)

    @property
    def is_municipality(self):
        return self.province in MUNICIPALITIES


def short_province(name):
    """广东省 -> 广东, 北京市 -> 北京, 新疆维吾尔自治区 -> 新疆."""
    if name in REGION_SHORT:
        return REGION_SHORT[name]
    return name[:-1] if name.endswith(("省", "市")) else name


def short_city(name):
    """深圳市 -> 深圳, 阿克苏地区 -> 阿克苏, 恩施土家族苗族自治州 -> 恩施州 (None when there is none)."""
    if name.endswith("自治州"):
        return name[:2] + "州"
    for suffix in ("地区", "市"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def short_district(name):
    """昌平区 -> 昌平, 昆山市 -> 昆山; one-character stems (城区, 忠县) are kept whole."""
    for suffix in ("新区", "区", "县", "市"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2 and "自治" not in name:
            return name[: -len(suffix)]
    return name


@functools.lru_cache(maxsize=1)
def load_divisions(path=ASSET):
    """Every division as a tuple of :class:`Division` (provinces without cities are skipped)."""
    with open(path, encoding="utf-8") as f:
        table = json.load(f)
    divisions = []
    for province in table["provinces"]:
        for city in province["cities"]:
            if city["districts"]:
                divisions.extend(Division(province["name"], city["name"], d) for d in city["districts"])
            elif city["name"]:
                divisions.append(Division(province["name"], city["name"], None))
    return tuple(divisions)
