"""salesync in Excel cells: SALES_* functions and macros through xlwings (extra `excel`)."""
