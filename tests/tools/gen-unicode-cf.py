"""Print the ranges of Unicode general category Cf (format characters) as C initialisers, for
the table in lib/escape.c. Run with the newest Python at hand (its unicodedata fixes the Unicode
version, printed first); paste the output between the markers in lib/escape.c.

Usage: python3 tests/tools/gen-unicode-cf.py
"""
import sys
import unicodedata


def ranges(category):
    out, start, prev = [], None, None
    for cp in range(sys.maxunicode + 1):
        if unicodedata.category(chr(cp)) == category:
            if start is None:
                start = cp
            prev = cp
        elif start is not None:
            out.append((start, prev))
            start = None
    if start is not None:
        out.append((start, prev))
    return out


def main():
    cf = ranges("Cf")
    print("/* Unicode %s, general category Cf: %d ranges (tests/tools/gen-unicode-cf.py) */"
          % (unicodedata.unidata_version, len(cf)))
    line = "   "
    for lo, hi in cf:
        item = " {0x%04X, 0x%04X}," % (lo, hi)
        if len(line) + len(item) > 99:
            print(line)
            line = "   "
        line += item
    print(line)


if __name__ == "__main__":
    main()
