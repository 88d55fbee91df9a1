"""Settings for benchmarks/load.py's servers: the app's own settings, and a URLconf that adds the bare
view. Only the benchmark imports this module (gunicorn gets `--pythonpath benchmarks`), so the product
never ships a benchmark endpoint."""

from alliance.settings import *  # noqa: F403

ROOT_URLCONF = "load_urls"
