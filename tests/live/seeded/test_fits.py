"""fits.flavor keeps exactly the images that Waldur's own InstanceSerializer.validate accepts.

For every tenant x flavor x system volume size of the seeded data: the collection's code (the one the
module, the lookup and the inventory call) asks the real server; Waldur's validation code, run on
its database by oracle.py, decides. A flavor not linked to the tenant is an error for us and
"Flavor is not visible in tenant." for Waldur: no image is accepted.
"""
from __future__ import annotations

from ansible_collections.waldur.cloud.plugins.module_utils.client import WaldurClient
from ansible_collections.waldur.cloud.plugins.module_utils.connection import ConnectionSettings
from tests.integration.test_boot_rule import images_kept


def test_fits_flavor_is_waldurs_instance_validation(small, seeded, accepted):
    sizes = sorted({size for _tenant, _flavor, size in accepted})  # the conftest's VOLUME_SIZES
    options = {"api_url": small.url, "api_token": small.tokens["staff"]}
    decided = 0
    with WaldurClient(ConnectionSettings.from_options(options, environ={})) as client:
        for tenant in seeded["tenants"]:
            for flavor in seeded["flavors"]:
                kept = images_kept(client, tenant["uuid"], flavor, sizes)
                for size in sizes:
                    assert kept[size] == accepted[(tenant["uuid"], flavor["uuid"], size)], (tenant["name"], flavor["name"], size)
                    decided += 1
    assert decided == len(seeded["tenants"]) * len(seeded["flavors"]) * len(sizes)
    assert any(accepted.values()) and not all(accepted.values())
