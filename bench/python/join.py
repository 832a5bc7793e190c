#!/usr/bin/env python3
"""Join baselines for bench/join.ts (stdlib csv, dicts).

Usage: python3 bench/python/join.py lookup IN.csv CODES.csv OUT.csv
       python3 bench/python/join.py hash IN.csv PAYMENTS.csv OUT.csv

lookup: every ticket with its fine appended (a dict of the codes table; '' when missing).
hash: tickets inner-joined with payments on the summons number (column 0 of both): a dict
of every payment row (all of one side in memory), then the tickets streamed.
"""
import csv
import sys


def main(mode, src, other, dst):
    with open(other, newline='', encoding='utf-8') as f:
        reader = csv.reader(f)
        header = next(reader)
        table = {}
        for row in reader:
            table.setdefault(row[0], []).append(row)
    with open(src, newline='', encoding='utf-8') as f, open(dst, 'w', newline='', encoding='utf-8') as out:
        reader = csv.reader(f)
        writer = csv.writer(out, lineterminator='\n')
        first = next(reader)
        if mode == 'lookup':
            writer.writerow(first + ['fine'])
            for row in reader:
                found = table.get(row[5])
                writer.writerow(row + [found[0][1] if found else ''])
        else:
            writer.writerow(first + header[1:])
            for row in reader:
                for match in table.get(row[0], ()):
                    writer.writerow(row + match[1:])


if __name__ == '__main__':
    main(*sys.argv[1:5])
