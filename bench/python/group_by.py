#!/usr/bin/env python3
"""group-by: count + sum of Feet From Curb (column 37) per value of one column (2 Registration
State: 12 groups; 1 Plate ID: about 1 M groups), in first-appearance order.

Usage: python3 bench/python/group_by.py COLUMN IN.csv OUT.csv

Plain-Python baseline: the csv module and a dict.
"""
import csv
import sys

column = int(sys.argv[1])
groups = {}
with open(sys.argv[2], newline='', encoding='utf-8') as f:
    reader = csv.reader(f)
    next(reader)
    for row in reader:
        group = groups.get(row[column])
        if group is None:
            group = groups[row[column]] = [0, 0.0]
        group[0] += 1
        if row[37] != '':
            group[1] += float(row[37])
with open(sys.argv[3], 'w', newline='', encoding='utf-8') as f:
    writer = csv.writer(f)
    writer.writerow(['key', 'tickets', 'feet'])
    for key, (tickets, feet) in groups.items():
        writer.writerow([key, tickets, feet])
