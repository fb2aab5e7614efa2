"""One command that reproduces the paper's claims.

    python -m reproduce [--quick] [--out DIR]

runs the benchmark's run configs through ``benchopt run`` (:mod:`.studies`),
computes the analytic curves from the library (:mod:`.theory`), then reads
every parquet file back to draw the figures (:mod:`.figures`) and to write
``REPRODUCTION.md`` (:mod:`.report`), whose verdicts :mod:`.verdicts`
computes from the parquet data alone.
"""
