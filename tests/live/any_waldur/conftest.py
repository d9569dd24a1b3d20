"""`make test-live`: does this collection work against my Waldur? (docs/guides/live-tests.md)

Runs against the Waldur given by WALDUR_API_URL and WALDUR_API_TOKEN, whatever data it holds.
Read-only: the tests and the collection only send GET and HEAD requests. What a token cannot show
(no image, no tenant, no flavor visible to it) is reported as a skipped check with its reason.
"""
from __future__ import annotations

import os

import pytest
import requests

from ansible_collections.waldur.cloud.plugins.module_utils.connection import normalize_api_url


class Target:
    """The Waldur under test, shaped like the emulator for ``ansible_environment(target, "operator")``."""

    def __init__(self, url, token):
        self.url = url
        self.api_root = normalize_api_url(url)
        self.tokens = {"operator": token}
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Token " + token
        self.session.verify = os.environ.get("WALDUR_CA_PATH") or \
            os.environ.get("WALDUR_VALIDATE_CERTS", "true").lower() not in ("false", "no", "0")

    def get(self, path, **params):
        reply = self.session.get(self.api_root + path, params=params, timeout=60)
        reply.raise_for_status()
        return reply

    def count(self, path, **params):
        """The listing's total as the server announces it (X-Result-Count of a one-item page)."""
        return int(self.get(path, page_size=1, **params).headers["X-Result-Count"])


@pytest.fixture(scope="session")
def target():
    url, token = os.environ.get("WALDUR_API_URL"), os.environ.get("WALDUR_API_TOKEN")
    if not url or not token:
        pytest.exit("make test-live needs WALDUR_API_URL and WALDUR_API_TOKEN (see docs/guides/live-tests.md)", returncode=4)
    return Target(url, token)


@pytest.fixture(scope="session")
def first_image(target):
    images = target.get("openstack-images/", page_size=1).json()
    if not images:
        pytest.skip("could not check: this token sees no image")
    return images[0]


@pytest.fixture(scope="session")
def tenant_with_flavors(target):
    """A visible tenant that has flavors linked to it, with one of them."""
    for tenant in target.get("openstack-tenants/", page_size=50, field=["uuid", "name"]).json():
        flavors = target.get("openstack-flavors/", tenant_uuid=tenant["uuid"], page_size=1).json()
        if flavors:
            return tenant, flavors[0]
    pytest.skip("could not check: this token sees no tenant with a flavor linked to it (among its first 50 tenants)")
