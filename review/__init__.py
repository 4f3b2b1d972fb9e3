"""Target review (目标审核): flags vague and weak performance targets with the reason and a fix.

    from review import check_table, read_workbook
    result = check_table(doc, library)   # doc: {"project", "goals", "rows"}

Rules, word lists and thresholds are data in review/data/; docs/review_rules.md lists every code."""
from .checker import BadDocument, check_table
from .xlsx import XlsxError, read_workbook

__all__ = ["BadDocument", "XlsxError", "check_table", "read_workbook"]
