"""Python's XlsxWriter in constant-memory mode writing the cells `examples/xlsx_ceiling`
left in CELLS.jsonl (issue 14's comparison). Usage: python3 benches/xlsx_python.py
CELLS.jsonl OUT.xlsx. Prints the time spent writing (reading the JSON is not counted)."""
import json
import sys
import time

import xlsxwriter

rows = []
with open(sys.argv[1]) as f:
    for line in f:
        rows.append(json.loads(line))
cells = sum(1 for _, _, row in rows for c in row if c is not None)
start = time.perf_counter()
book = xlsxwriter.Workbook(sys.argv[2], {"constant_memory": True})
sheets = {}
for name, r, row in rows:
    ws = sheets.get(name)
    if ws is None:
        ws = sheets[name] = book.add_worksheet(name)
    for c, value in enumerate(row):
        if value is None:
            continue
        if isinstance(value, bool):
            ws.write_boolean(r, c, value)
        elif isinstance(value, (int, float)):
            ws.write_number(r, c, value)
        else:
            ws.write_string(r, c, value)
book.close()
print(f"Python XlsxWriter (constant memory): {cells} cells in {time.perf_counter() - start:.2f} s")
