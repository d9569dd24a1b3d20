"""The fit rule of fits.flavor and boots equals Waldur's own (InstanceSerializer.validate, as waldur_accepts below
spells it out; tests/live/seeded/test_fits.py asks a real Waldur the same).

For generated data sets, every (image, flavor, tenant, system volume size) combination is decided by
the collection's code, talking to the emulator as the modules do, and by a direct implementation of
the three conditions of Waldur's InstanceSerializer.validate.
"""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.waldur.cloud.plugins.module_utils.fit import Fit
from ansible_collections.waldur.cloud.plugins.module_utils.fit_queries import TaskContext, flavors_for_boots, images_for_fit
from ansible_collections.waldur.cloud.plugins.module_utils.client import WaldurClient
from ansible_collections.waldur.cloud.plugins.module_utils.connection import ConnectionSettings
from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError
from ansible_collections.waldur.cloud.plugins.module_utils.images import ImageQuery
from tests.emulator import WaldurEmulator, generate_dataset

UNCHECKED = None  # no system volume given: min_disk is not checked


def waldur_accepts(image, flavor, tenant_uuid, volume):
    """InstanceSerializer.validate: both linked to the tenant, min_ram <= flavor ram, min_disk <= system volume."""
    return (tenant_uuid in flavor["tenant_uuids"] and tenant_uuid in image["tenant_uuids"]
            and image["min_ram"] <= flavor["ram"] and (volume is UNCHECKED or image["min_disk"] <= volume))


def volumes_of(images):
    """The boundaries of every image's min_disk, Waldur's smallest volume, and no volume at all."""
    sizes = {1024}
    for image in images:
        sizes.update(size for size in (image["min_disk"] - 1, image["min_disk"], image["min_disk"] + 1) if size >= 1024)
    return sorted(sizes) + [UNCHECKED]


def images_kept(client, tenant_uuid, flavor, volumes):
    """{volume: uuids} that fits.flavor keeps with ``flavor`` in the tenant, through the client as the
    module calls it; no image at all when the flavor is not linked to the tenant (an error for us)."""
    try:
        query = ImageQuery(tenant_uuid=tenant_uuid)
        listing = images_for_fit(TaskContext.of_query(client, query), query, Fit.parse({"flavor": flavor["uuid"]}))
    except WaldurConfigError as exc:
        assert exc.option == "fits.flavor" and "not linked to tenant" in str(exc)
        return {volume: set() for volume in volumes}
    kept = {}
    for volume in volumes:
        resolved = Fit.parse({"flavor": flavor["uuid"], "disk": volume}).resolved(listing.flavor, listing.tenant_uuid)
        assert resolved.describe().tenant_uuid == tenant_uuid
        kept[volume] = {image["uuid"] for image in resolved.images_that_boot(listing.images)}
    return kept


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2 ** 32), tenants=st.integers(2, 7), clouds=st.integers(1, 4))
def test_the_fit_rule_is_waldurs(seed, tenants, clouds):
    dataset = generate_dataset(images=40, tenants=tenants, settings=clouds, seed=seed)
    listed = set(dataset["visibility"]["staff"]["default_list"])
    images = [image for image in dataset["images"] if image["uuid"] in listed]
    volumes = volumes_of(images)
    with WaldurEmulator(dataset) as emulator:
        options = {"api_url": emulator.url, "api_token": emulator.tokens["staff"]}
        with WaldurClient(ConnectionSettings.from_options(options, environ={})) as client:
            for tenant in dataset["tenants"]:
                for flavor in dataset["flavors"]:
                    kept = images_kept(client, tenant["uuid"], flavor, volumes)
                    for volume in volumes:
                        theirs = {image["uuid"] for image in images if waldur_accepts(image, flavor, tenant["uuid"], volume)}
                        assert kept[volume] == theirs, (tenant["name"], flavor["name"], volume)


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2 ** 32))
def test_boots_lists_the_flavors_waldur_accepts_smallest_first(seed):
    dataset = generate_dataset(images=30, tenants=4, settings=2, seed=seed)
    listed = set(dataset["visibility"]["staff"]["default_list"])
    with WaldurEmulator(dataset) as emulator:
        options = {"api_url": emulator.url, "api_token": emulator.tokens["staff"]}
        with WaldurClient(ConnectionSettings.from_options(options, environ={})) as client:
            for image in dataset["images"]:
                if image["uuid"] not in listed:
                    continue
                for tenant_uuid in image["tenant_uuids"]:
                    for volume in (max(1024, image["min_disk"]), max(1024, image["min_disk"] - 1), UNCHECKED):
                        boots = {"image": image["uuid"], "tenant": tenant_uuid}
                        if volume is not UNCHECKED:
                            boots["disk"] = volume
                        ours = flavors_for_boots(client, boots)
                        theirs = [f for f in dataset["flavors"] if waldur_accepts(image, f, tenant_uuid, volume)]
                        assert {f["uuid"] for f in ours} == {f["uuid"] for f in theirs}
                        assert [f["ram"] for f in ours] == sorted(f["ram"] for f in ours)


def test_an_image_name_with_slashes_is_looked_up_as_a_name():
    dataset = generate_dataset(images=60, tenants=3, settings=1, seed=1)
    image = next(image for image in dataset["images"] if image["name"] == "image/with/slashes")
    tenant_uuid = image["tenant_uuids"][0]
    with WaldurEmulator(dataset) as emulator:
        options = {"api_url": emulator.url, "api_token": emulator.tokens["staff"]}
        with WaldurClient(ConnectionSettings.from_options(options, environ={})) as client:
            ours = flavors_for_boots(client, {"image": image["name"], "tenant": tenant_uuid})
    assert {f["uuid"] for f in ours} == {f["uuid"] for f in dataset["flavors"] if waldur_accepts(image, f, tenant_uuid, None)}
