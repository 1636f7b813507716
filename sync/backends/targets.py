"""What a target names: a Google Sheet (a URL or a bare id) or else a file. Apart from the
Google backend so that telling the two apart loads neither gspread nor the rules' modules.

>>> parse_spreadsheet_id("https://docs.google.com/spreadsheets/d/1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789/edit#gid=0")
'1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'
>>> parse_spreadsheet_id("report.xlsx") is None
True
"""

from __future__ import annotations

import re

_ID = re.compile(r"^[A-Za-z0-9_-]{25,}$")
_URL = re.compile(r"docs\.google\.com/spreadsheets/(?:u/\d+/)?d/([A-Za-z0-9_-]+)")


def parse_spreadsheet_id(target: str) -> str | None:
    """The spreadsheet id in a Google Sheets URL, or `target` itself when it looks like one."""
    text = target.strip()
    found = _URL.search(text)
    if found:
        return found.group(1)
    return text if _ID.match(text) and "." not in text else None


def is_google_target(target: str) -> bool:
    return parse_spreadsheet_id(target) is not None
