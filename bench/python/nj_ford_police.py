#!/usr/bin/env python3
"""nj-ford-police: NJ-registered FORDs ticketed by the police, with a one-line address.

Usage: python3 bench/python/nj_ford_police.py IN.csv OUT.csv

Plain-Python baseline (stdlib csv + generators, streaming row by row); also the
independent oracle for sluice's pipeline of the same name.
Columns (0-based): 2 Registration State, 7 Vehicle Make, 8 Issuing Agency,
23 House Number, 24 Street Name. Matching is exact (no trimming, case-sensitive).
"""
import csv
import sys

STATE, MAKE, AGENCY, HOUSE, STREET = 2, 7, 8, 23, 24


def read_rows(path):
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.reader(f)
        next(reader, None)  # header
        yield from reader


def nj_ford_police(rows):
    for row in rows:
        if row[STATE] == 'NJ' and row[MAKE] == 'FORD' and row[AGENCY] == 'P':
            yield [row[MAKE], 'police', ', '.join((row[HOUSE], row[STREET], row[STATE]))]


def main(src, dst):
    with open(dst, 'w', newline='', encoding='utf-8') as out:
        writer = csv.writer(out, lineterminator='\n')
        writer.writerow(['vehicle_make', 'issuing_agency', 'address'])
        writer.writerows(nj_ford_police(read_rows(src)))


if __name__ == '__main__':
    main(*sys.argv[1:3])
