"""gunicorn settings of the real Waldur the tests start (``gunicorn -c gunicorn_conf.py``).

The app is loaded once in the master (``preload_app``) so workers start in a fraction of a
second; Django's database connections are closed around the fork, or the workers would share
the master's socket to PostgreSQL.
"""

preload_app = True
workers = 3
timeout = 120
graceful_timeout = 5
accesslog = None


def _close_database_connections():
    from django.db import connections  # pylint: disable=import-outside-toplevel  # Waldur's venv only

    connections.close_all()


def pre_fork(_server, _worker):
    _close_database_connections()


def post_fork(_server, _worker):
    _close_database_connections()
