"""Peak memory of one listing with the collection's client.

Usage: python bench/memory.py URL TOKEN
Prints one JSON line: baseline and peak RSS in bytes (ru_maxrss) and the size of the JSON listed.
The baseline is taken after imports and one small request, so it holds the interpreter,
requests and the client; the peak minus the baseline is what the listing itself cost.
"""
from __future__ import annotations

import json
import os
import resource
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".cache", "collections"))

from ansible_collections.waldur.cloud.plugins.module_utils.client import WaldurClient  # noqa: E402
from ansible_collections.waldur.cloud.plugins.module_utils.connection import ConnectionSettings  # noqa: E402
from ansible_collections.waldur.cloud.plugins.module_utils.images import DUPLICATES_ORDER  # noqa: E402


def peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(url, token):
    client = WaldurClient(ConnectionSettings(url, token))
    client.get_page("openstack-images/", page_size=1)
    baseline = peak_rss()
    # Every image, older duplicates included: the default list keeps only the newest of each name. The order is
    # the collection's: the server sorts by name and its order among equal names is unstable, as in ImageQuery.
    images = client.list_all("openstack-images/", [("show_duplicate_names", "true")], order=DUPLICATES_ORDER)
    peak = peak_rss()
    payload = len(json.dumps(images, separators=(",", ":")).encode())
    sys.stdout.write(json.dumps({"baseline": baseline, "peak": peak, "payload": payload, "images": len(images)}) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
