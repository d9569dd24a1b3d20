"""The inventory at a provider's shape (seed.py's provider data: 200 tenants, each seeing 50 of 150 images on
cloud-provider) against the real Waldur: every host's tenants are those in Waldur's database."""
from __future__ import annotations

from tests.integration.harness import ansible_environment
from tests.integration.test_inventory import Listing, ansible_inventory, write_config


def test_every_host_has_the_tenants_waldur_links_it_to(tmp_path, provider, provider_data):
    source = write_config(tmp_path, hostname="uuid", settings="cloud-provider")
    completed = ansible_inventory(source, ansible_environment(provider, "staff"), "--list")
    assert completed.returncode == 0, completed.stderr
    listing = Listing(completed.stdout)
    cloud = next(row["uuid"] for row in provider_data["service_settings"] if row["name"] == "cloud-provider")
    images = {row["uuid"]: row for row in provider_data["images"] if row["settings_uuid"] == cloud}
    tenants = {row["uuid"]: row for row in provider_data["tenants"] if row["service_settings_uuid"] == cloud}
    assert len(tenants) == 200 and set(listing.by_uuid) == set(images)
    for uuid, host in listing.by_uuid.items():
        linked = sorted(images[uuid]["tenant_uuids"], key=lambda tenant: (tenants[tenant]["name"], tenant))
        assert listing.hostvars[host]["waldur_tenant_uuids"] == linked
        for tenant in linked:
            assert host in listing.hosts_of("waldur_tenant_" + tenants[tenant]["name"].replace("-", "_"))
    assert sum(len(row["tenant_uuids"]) for row in images.values()) == 200 * 50
