"""The pure core: schema, header binding, parsing, validation and planning.

Nothing here does I/O or imports openpyxl, gspread or xlwings; a test checks it.
"""
