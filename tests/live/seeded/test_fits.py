"""fits.flavor keeps exactly the images that Waldur's own InstanceSerializer.validate accepts.

For every tenant x flavor x system volume size of the seeded data: the collection's code (the one the
module, the lookup and the inventory call) asks the real server; Waldur's validation code, run on
its database by oracle.py, decides. A flavor not linked to the tenant is an error for us and
"Flavor is not visible in tenant." for Waldur: no image is accepted.
"""
from __future__ import annotations

from ansible_collections.waldur.cloud.plugins.module_utils.boot import FlavorFit, apply_fit, size_for
from ansible_collections.waldur.cloud.plugins.module_utils.client import WaldurClient
from ansible_collections.waldur.cloud.plugins.module_utils.connection import ConnectionSettings
from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError
from ansible_collections.waldur.cloud.plugins.module_utils.images import ImageQuery
from ansible_collections.waldur.cloud.plugins.module_utils.selection import select_images

# Waldur's smallest system volume, the seeded images' requirements and one between them (MiB).
SIZES = (1024, 2048, 10239, 10240, 20480, 40960)


def test_fits_flavor_is_waldurs_instance_validation(waldur, small, seeded):
    accepted = {(row["tenant"], row["flavor"], row["system_volume_size"]): set(row["images"])
                for row in waldur.waldur_python(small.database, "oracle.py", "accepts", *SIZES)}
    options = {"api_url": small.url, "api_token": small.tokens["staff"]}
    decided = 0
    with WaldurClient(ConnectionSettings.from_options(options, environ={})) as client:
        for tenant in seeded["tenants"]:
            for flavor in seeded["flavors"]:
                try:
                    candidates, _size, _described = apply_fit(client, ImageQuery(tenant_uuid=tenant["uuid"]),
                                                              FlavorFit(flavor["uuid"], None, "fits."))
                except WaldurConfigError as exc:
                    assert exc.option == "fits.flavor" and "not linked to tenant" in str(exc)
                    candidates = None
                for size in SIZES:
                    ours = set() if candidates is None else {
                        image["uuid"] for image in select_images(candidates, size_for(flavor, size))}
                    assert ours == accepted[(tenant["uuid"], flavor["uuid"], size)], (tenant["name"], flavor["name"], size)
                    decided += 1
    assert decided == len(seeded["tenants"]) * len(seeded["flavors"]) * len(SIZES)
    assert any(accepted.values()) and not all(accepted.values())
