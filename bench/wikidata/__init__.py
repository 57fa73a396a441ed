"""How fast the Wikidata path turns twinning query results into `agreements` rows, at the
size of a real crawl and at ten times that, so we know whether a weekly fetch of every P190
statement (about 40,000 today, growing) stays cheap and whether the path scales linearly.

Input: the 2016 P190 crawl in ../shared/data/wikidata/p190-crawl-2016 (relations.tsv: item
QID, twin QID, 34,182 directed rows; names.tsv: QID, label), read in place. The project keeps
no product code for that TSV format, so the benchmark converts it (untimed) into what a
stored fetch holds: SPARQL JSON pages of the twinning query in the live format, one solution
per directed row with a made-up statement id (a uuid5 of item, twin and how often the row
came before) and normal rank, ordered by statement and paged 10,000 statements a page like
wikidata.fetch_twinning. The 10x size is ten copies of the crawl: copy k maps every Qn, at
both ends of each row, to Q(n + k * 10**9), which no real item has. Every item becomes its
own city ('wd:<QID>', method wikidata_item, confidence 1.0) labelled from names.tsv; its
country 'DE' is a made-up placeholder for timing (the crawl has none, and build_agreements
does not read it).

Measured at each size, each stage run 3 times (--repeats) and reported as min and median
seconds and statements per second:

(a) parsing: parse_sparql_json, twinning_statements and statements_frame over every page
    (plus the snapshot_id column the parsed_wikidata asset adds);
(b) build_wikidata.build_agreements on those statements and places.

It prints the rows in (statements), agreements out, rejected rows by rule, the 10x/1x time
ratio of each stage next to the target (at most 10x: linear), and the process's peak memory
(ru_maxrss). Timings are reported, never asserted. The whole run takes about two minutes.

Run from the project root (../shared/data must be present):

    .venv/bin/python -m bench.wikidata [--data ../shared/data] [--repeats 3]
        [--json bench/wikidata.json]

It writes every figure to bench/wikidata.json (git-ignored).

The package's modules: crawl (reading the crawl, the fake copies, the SPARQL JSON pages and
the places), measure (timing both stages at one size) and run (the command line, the printed
tables and the JSON report); __main__ runs it.
"""
