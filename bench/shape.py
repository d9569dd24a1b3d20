"""The provider's shape: many tenants on one cloud, each seeing many of its images (issue 24).

Usage: python bench/shape.py PATH [--tenants 1006] [--images 703] [--per-tenant 100]
Writes an emulator data set (``python -m tests.emulator --dataset PATH``) with one OpenStack
service settings, ``images`` images of distinct names (so the default listing shows them all) and
``tenants`` tenants, each linked to ``per_tenant`` of the images, chosen by a seeded draw.
"""
from __future__ import annotations

import argparse
import os
import random
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from tests.emulator.dataset import dump_dataset, generate_dataset  # noqa: E402  pylint: disable=wrong-import-position


def tenants_by_images(tenants, images, per_tenant, seed=1):
    """The data set of the shape, in the emulator's dump format (without its truth)."""
    dataset = generate_dataset(images=0, tenants=tenants, settings=1, seed=seed)
    settings_uuid = dataset["service_settings"][0]["uuid"]
    draw = random.Random(seed)
    rows = []
    for number in range(images):
        rows.append({"uuid": "%032x" % draw.getrandbits(128), "name": "image-%04d" % number, "settings_uuid": settings_uuid,
                     "min_disk": draw.choice((0, 2048, 10240, 20480)), "min_ram": draw.choice((0, 512, 1024, 4096)),
                     "backend_id": "%032x" % draw.getrandbits(128), "tenant_uuids": []})
    for tenant in dataset["tenants"]:
        for row in draw.sample(rows, min(per_tenant, images)):
            row["tenant_uuids"].append(tenant["uuid"])
    dataset["images"] = rows
    for kind in ("flavors", "instances", "visibility", "usage_stats"):
        dataset.pop(kind, None)
    return dataset


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("--tenants", type=int, default=1006)
    parser.add_argument("--images", type=int, default=703)
    parser.add_argument("--per-tenant", type=int, default=100)
    arguments = parser.parse_args()
    dump_dataset(tenants_by_images(arguments.tenants, arguments.images, arguments.per_tenant), arguments.path)


if __name__ == "__main__":
    main()
