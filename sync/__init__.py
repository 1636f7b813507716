"""salesync: a managed sales pipeline that stays in the team's spreadsheet."""

__version__ = "0.1.0"
