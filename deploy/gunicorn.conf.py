"""gunicorn settings for deploy/alliance-web.service (`gunicorn -c deploy/gunicorn.conf.py`).

Mirrors what `alliance serve` passes on the command line; tests/operations/test_deploy_files.py
keeps the two, the proxies and the units consistent.
"""

import os

wsgi_app = "alliance.wsgi:application"
# Loopback only: the TLS proxy (deploy/Caddyfile or deploy/nginx.conf) is the way in.
bind = os.environ.get("ALLIANCE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# As `alliance serve`: threads overlap one request's database wait with another's work.
worker_class = "gthread"
threads = int(os.environ.get("ALLIANCE_THREADS", "4"))
# A listening socket per worker (SO_REUSEPORT), so that the kernel spreads the proxy's kept-alive
# connections across the workers rather than the first worker to wake taking them all (serve.py).
reuse_port = True
# Trust X-Forwarded-* only from the proxy on this machine (with ALLIANCE_BEHIND_PROXY=1, Django
# reads X-Forwarded-Proto to know the request came over HTTPS).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# No access log: gunicorn's line holds the full path, check-in tokens included. Alliance logs every
# request itself (alliance.request), token redacted, with its request id.
accesslog = None
errorlog = "-"
# Not used by Alliance; it would live in $HOME, which the hardened unit makes read-only.
control_socket_disable = True
timeout = 60  # a PDF or a first chart drawing can take a few seconds; nothing takes a minute
graceful_timeout = 30
