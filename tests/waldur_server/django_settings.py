"""Django settings of the real Waldur the tests start (module ``django_settings``, run in Waldur's venv).

Waldur ships only ``settings.py.example``; this is the smallest working equivalent for the read
API: PostgreSQL through the private cluster's socket directory, an in-process cache, Celery
tasks run eagerly in memory (no Redis, no RabbitMQ), JSON responses only. server.py passes the
database and the writable directory in the environment.
"""

import os

from waldur_core.server import base_settings
from waldur_core.server.base_settings import *  # noqa: F401,F403 pylint: disable=wildcard-import,unused-wildcard-import

DEBUG = False
SECRET_KEY = "waldur.cloud tests: a loopback-only server, not a secret"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ["WALDUR_TEST_DB_NAME"],
        "USER": os.environ["WALDUR_TEST_DB_USER"],
        "HOST": os.environ["WALDUR_TEST_DB_SOCKET_DIR"],
        "PORT": os.environ["WALDUR_TEST_DB_PORT"],
    }
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = True

MEDIA_ROOT = os.path.join(os.environ["WALDUR_TEST_STATE_DIR"], "media")
STATIC_ROOT = os.path.join(os.environ["WALDUR_TEST_STATE_DIR"], "static")

REST_FRAMEWORK = dict(base_settings.REST_FRAMEWORK, DEFAULT_RENDERER_CLASSES=("rest_framework.renderers.JSONRenderer",))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
