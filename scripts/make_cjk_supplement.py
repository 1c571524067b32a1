"""Build ``paddle_course/common/fonts/course-cjk-supplement.otf`` (run once; the result is committed).

The CJK font the course already ships (``hub_modules/course_ocr/assets/fonts/wqy-microhei-ppocr.ttf``)
holds only the 6613 characters the PP-OCRv4 recognizer knows. Figures that show what a learner
typed (the sentiment chart) need more: this script cuts from Noto Sans S Chinese Regular the
characters of GB2312, of Big5 level 1 (the common traditional characters) and of the CJK
punctuation, fullwidth, kana and box-drawing blocks that the shipped font lacks (3543 glyphs,
about 0.9 MB), and renames the family (the OFL reserves the name "Noto Sans" for unmodified fonts).

Source: ``fonts/NotoSansHans-Regular.otf`` of the npm package ``@embedpdf/fonts-sc@1.0.0``
(``npm pack @embedpdf/fonts-sc@1.0.0``); see data/README.md for the licence.

    python scripts/make_cjk_supplement.py path/to/NotoSansHans-Regular.otf
"""
import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "paddle_course" / "hub_modules" / "course_ocr" / "assets" / "fonts" / "wqy-microhei-ppocr.ttf"
TARGET = ROOT / "paddle_course" / "common" / "fonts" / "course-cjk-supplement.otf"
FAMILY = "Course CJK Supplement"
BIG5_LEVEL1 = (0xA440, 0xC67E)  # Big5's frequently used characters (常用字)
SYMBOL_BLOCKS = [(0x2000, 0x2070), (0x2500, 0x2580), (0x3000, 0x3100), (0xFF00, 0xFFF0)]


def _encodes(codepoint, codec):
    try:
        return chr(codepoint).encode(codec)
    except UnicodeEncodeError:
        return None


def wanted_codepoints():
    """GB2312, Big5 level 1 and the symbol blocks above, as a set of code points."""
    wanted = {cp for cp in range(0x80, 0x10000) if _encodes(cp, "gb2312")}
    for cp in range(0x4E00, 0xA000):
        encoded = _encodes(cp, "big5")
        if encoded and len(encoded) == 2 and BIG5_LEVEL1[0] <= int.from_bytes(encoded, "big") <= BIG5_LEVEL1[1]:
            wanted.add(cp)
    for start, stop in SYMBOL_BLOCKS:
        wanted.update(range(start, stop))
    return wanted


def rename(font, family):
    """Set every family / full / PostScript name of ``font`` to ``family``."""
    postscript = family.replace(" ", "")
    for record in font["name"].names:
        if record.nameID in (1, 4, 16):
            record.string = family
        elif record.nameID == 3:
            record.string = f"{postscript};subset"
        elif record.nameID == 6:
            record.string = postscript
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [postscript]
        top = cff.topDictIndex[0]
        top.FullName = top.FamilyName = family


def main(argv=None):
    from fontTools import subset
    from fontTools.ttLib import TTFont

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("noto", type=Path, help="NotoSansHans-Regular.otf from @embedpdf/fonts-sc@1.0.0")
    parser.add_argument("--out", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    have = set(TTFont(SHIPPED).getBestCmap())
    font = TTFont(args.noto)
    needed = (wanted_codepoints() - have) & set(font.getBestCmap())
    options = subset.Options()
    options.name_IDs = ["*"]
    options.layout_features = []
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(needed))
    subsetter.subset(font)
    rename(font, FAMILY)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    font.save(tmp)
    tmp.replace(args.out)
    print(f"{args.out}: {len(needed)} glyphs, {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
