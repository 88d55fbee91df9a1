"""Settings for benchmarks/load.py's servers: the app's own settings, and a URLconf that adds the bare
view. Only the benchmark imports this module (gunicorn gets `--pythonpath benchmarks`), so the product
never ships a benchmark endpoint."""

from alliance.settings import *  # noqa: F403

ROOT_URLCONF = "load_urls"

# No scheduler runs beside the benchmark's gunicorn; without this, a web process would stand in for it
# (alliance.operations.standin) and queue the built clinic's alert emails in the middle of a run.
ALLIANCE_SCHEDULER_STANDIN = False
