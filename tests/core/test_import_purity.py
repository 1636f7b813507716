"""The core must stay pure: importing it loads no spreadsheet or cloud library."""

import subprocess
import sys

CODE = """
import importlib, pkgutil, sys
import sync.core
for module in pkgutil.iter_modules(sync.core.__path__):
    importlib.import_module(f"sync.core.{module.name}")
loaded = sorted(m for m in ("openpyxl", "gspread", "xlwings", "python_calamine", "xlsxwriter",
                            "google.auth", "requests") if m in sys.modules)
print(",".join(loaded))
"""


def test_importing_the_core_loads_no_io_library() -> None:
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
