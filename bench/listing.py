"""One listing of every image by one strategy, timed inside the process.

Usage: python bench/listing.py STRATEGY URL TOKEN
Prints one JSON line: {"seconds": wall time of the listing, "images": count, "payload": bytes of JSON}.
Run by bench/run.py, each strategy in a fresh process so imports and caches do not leak between them.
Every strategy lists every image, older duplicates included (show_duplicate_names=true), so all of
them read the same rows.
"""
from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def collection_client(url, token):
    """Our client, as the modules and the inventory use it."""
    sys.path.insert(0, os.path.join(ROOT, ".cache", "collections"))
    from ansible_collections.waldur.cloud.plugins.module_utils.client import WaldurClient
    from ansible_collections.waldur.cloud.plugins.module_utils.connection import ConnectionSettings

    client = WaldurClient(ConnectionSettings(url, token))
    return client.list_all("openstack-images/", [("show_duplicate_names", "true")])


def collection_default(url, token):
    """Our client on the default list (the newest image of each name and cloud), as the module lists it."""
    sys.path.insert(0, os.path.join(ROOT, ".cache", "collections"))
    from ansible_collections.waldur.cloud.plugins.module_utils.client import WaldurClient
    from ansible_collections.waldur.cloud.plugins.module_utils.connection import ConnectionSettings
    from ansible_collections.waldur.cloud.plugins.module_utils.images import ImageQuery

    return ImageQuery().run(WaldurClient(ConnectionSettings(url, token)))


def floor(url, token):
    """The least a client can do: 300 per page, one keep-alive session, pages 2.. in parallel."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = "Token " + token
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=4)
    session.mount("http://", adapter)
    endpoint = url + "/api/openstack-images/"
    query = {"show_duplicate_names": "true", "page_size": 300}
    first = session.get(endpoint, params=query)
    total = int(first.headers["X-Result-Count"])
    pages = range(2, -(-total // 300) + 1)
    with ThreadPoolExecutor(4) as pool:
        rest = list(pool.map(lambda n: session.get(endpoint, params=dict(query, page=n)).json(), pages))
    return first.json() + [image for page in rest for image in page]


def inventory_floor(url, token):
    """The requests of the openstack_images inventory, made as plainly as they can be (its floor): the service
    settings, tenants and images, then every tenant's image pages, 4 at a time, on one keep-alive session."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = "Token " + token
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=4))

    def every_page(path, query):
        rows, page = [], 1
        while True:
            response = session.get(url + path, params=dict(query, page_size=300, page=page))
            rows += response.json()
            if 'rel="next"' not in response.headers.get("Link", ""):
                return rows
            page += 1

    with ThreadPoolExecutor(4) as pool:
        settings, tenants, images = pool.map(lambda args: every_page(*args), [
            ("/api/service-settings/", {"type": "OpenStack", "field": ["uuid", "name"]}),
            ("/api/openstack-tenants/", {"field": ["uuid", "name", "service_settings_uuid", "project_uuid"]}),
            ("/api/openstack-images/", {})])
        links = list(pool.map(lambda tenant: every_page("/api/openstack-images/", {"tenant_uuid": tenant["uuid"]}), tenants))
    assert settings
    return images + [image for rows in links for image in rows]


def link_walk(url, token):
    """Waldur's generated Ansible modules: follow Link rel=next at the default page size, a new connection each time."""
    import requests

    images = []
    next_url = url + "/api/openstack-images/?show_duplicate_names=true"
    while next_url:
        response = requests.get(next_url, headers={"Authorization": "Token " + token})
        images.extend(response.json())
        next_url = response.links.get("next", {}).get("url")
    return images


def sync_all(url, token):
    """The waldur-api-client package (installed in the bench environment only)."""
    from waldur_api_client.api.openstack_images import openstack_images_list
    from waldur_api_client.client import AuthenticatedClient

    client = AuthenticatedClient(base_url=url, token=token)
    return openstack_images_list.sync_all(client=client, show_duplicate_names=True)


STRATEGIES = {"collection": collection_client, "collection_default": collection_default, "floor": floor,
              "inventory_floor": inventory_floor,
              "link_walk": link_walk, "sync_all": sync_all}


def main(strategy, url, token):
    started = time.perf_counter()
    images = STRATEGIES[strategy](url, token)
    seconds = time.perf_counter() - started
    sys.stdout.write(json.dumps({"seconds": seconds, "images": len(images)}) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:4])
