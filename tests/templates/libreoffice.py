"""Recalculate a workbook in LibreOffice headless and read every sheet back as CSV rows.

LibreOffice keeps the cached values xlsxwriter writes (0 or "") unless its profile sets
OOXMLRecalcMode to 0 ("always recalculate"), so each call uses a dedicated profile that does.
"""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""
# UTF-8, raw values (not as shown), one CSV file per sheet (the last token, -1).
_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
ERROR_VALUES = ("#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#N/A", "#NUM!", "#NULL!", "Err:")


def profile(workdir: Path) -> str:
    user = workdir / "lo-profile" / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(_PROFILE, encoding="utf-8")
    return (workdir / "lo-profile").as_uri()


def convert(path: Path, workdir: Path, target: str) -> Path:
    out = workdir / f"lo-{target.split(':')[0]}"
    out.mkdir(exist_ok=True)
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile(workdir)}",
            "--headless",
            "--convert-to",
            target,
            "--outdir",
            str(out),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return out


def recalculated_sheets(path: Path, workdir: Path) -> dict[str, list[list[str]]]:
    """Sheet name → its rows, every formula recalculated by LibreOffice."""
    out = convert(path, workdir, _CSV)
    sheets = {}
    for file in sorted(out.glob(f"{path.stem}-*.csv")):
        name = file.stem[len(path.stem) + 1 :]
        with file.open(encoding="utf-8", newline="") as fh:
            sheets[name] = list(csv.reader(fh))
    return sheets


def error_cells(sheets: dict[str, list[list[str]]]) -> list[tuple[str, int, int, str]]:
    return [
        (name, r + 1, c + 1, value)
        for name, rows in sheets.items()
        for r, row in enumerate(rows)
        for c, value in enumerate(row)
        if value.startswith(ERROR_VALUES)
    ]
