/**
 * How many times their default cases the property and differential tests run:
 * `SLUICE_PROPERTY_SCALE=10` (or `CSV_FUZZ_SCALE=10`, its older name), and their suites'
 * time limit, scaled alike (a scaled run takes longer, in proportion).
 */
export const propertyScale = Number(process.env.SLUICE_PROPERTY_SCALE ?? process.env.CSV_FUZZ_SCALE ?? 1);

export const scaledTimeout = 30_000 * Math.max(1, propertyScale);
