#!/usr/bin/env python3
"""days-until-expiration: every row plus days from Issue Date to Vehicle Expiration Date.

Usage: python3 bench/python/days_until_expiration.py IN.csv OUT.csv

Plain-Python baseline (stdlib csv + generators, streaming row by row); also the
independent oracle for sluice's pipeline of the same name.
- Issue Date (col 4): first 10 chars as YYYY-MM-DD ('2017-01-05T00:00:00.000' -> 2017-01-05).
- Vehicle Expiration Date (col 12): must match ^[0-9]{8}(\\.0)?$ and be a real
  calendar date YYYYMMDD (year >= 1); '0', '88888888', '20181301', '20190230', '' are invalid.
- days_until_expiration = (expiration - issue).days, or -1 if either date is invalid.
"""
import csv
import re
import sys
from datetime import date

ISSUE_DATE, EXPIRATION_DATE = 4, 12
ISO_DATE = re.compile(r'([0-9]{4})-([0-9]{2})-([0-9]{2})')
COMPACT_DATE = re.compile(r'([0-9]{4})([0-9]{2})([0-9]{2})(?:\.0)?')


def parse_date(pattern, text):
    m = pattern.fullmatch(text)
    if m is None:
        return None
    try:
        return date(*map(int, m.groups()))
    except ValueError:  # month 13, Feb 30, year 0000, ...
        return None


def days_until_expiration(issue, expiration):
    issued = parse_date(ISO_DATE, issue[:10])
    expires = parse_date(COMPACT_DATE, expiration)
    if issued is None or expires is None:
        return -1
    return (expires - issued).days


def with_days(rows):
    for row in rows:
        yield row + [str(days_until_expiration(row[ISSUE_DATE], row[EXPIRATION_DATE]))]


def main(src, dst):
    with open(src, newline='', encoding='utf-8') as f, open(dst, 'w', newline='', encoding='utf-8') as out:
        reader = csv.reader(f)
        writer = csv.writer(out, lineterminator='\n')
        writer.writerow(next(reader) + ['days_until_expiration'])
        writer.writerows(with_days(reader))


if __name__ == '__main__':
    main(*sys.argv[1:3])
