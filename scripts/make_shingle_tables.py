"""Write curation/data/shingle_tables.npz: the per-code-point fold/slow/class tables of dedup/shingles.py,
precomputed so that worker processes load them (~15 ms) instead of building them (a loop over 1.1M code
points). The file records the Unicode version it was built with; other versions rebuild at run time.

    python scripts/make_shingle_tables.py
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from curation.dedup.shingles import _TABLES_FILE, save_tables

OUT = Path(__file__).resolve().parents[1] / "curation" / "data" / _TABLES_FILE


def main() -> None:
    save_tables(str(OUT))
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, Unicode {unicodedata.unidata_version})")


if __name__ == "__main__":
    main()
