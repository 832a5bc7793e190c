#!/usr/bin/env python3
"""sort: every row of the parking file, header first, by Vehicle Make (column 7), then
Summons Number (column 0), both as strings; stable.

Usage: python3 bench/python/sort_by_make.py IN.csv OUT.csv

Plain-Python baseline: the csv module and `sorted` (every row in memory, as the generator
approach states it must).
"""
import csv
import sys

with open(sys.argv[1], newline='', encoding='utf-8') as f:
    reader = csv.reader(f)
    header = next(reader)
    rows = sorted(reader, key=lambda row: (row[7], row[0]))
with open(sys.argv[2], 'w', newline='', encoding='utf-8') as f:
    writer = csv.writer(f)
    writer.writerow(header)
    writer.writerows(rows)
