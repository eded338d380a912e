"""gunicorn settings for ``bench/http_load.py``: count each worker's SQL (``bench/sql_counter.py``)
into ``$SAYGAC_BENCH_SQL_DIR``. Everything else is given on gunicorn's command line."""

import os


def post_fork(_server, _worker):
    from bench import sql_counter

    sql_counter.install(os.environ["SAYGAC_BENCH_SQL_DIR"])
