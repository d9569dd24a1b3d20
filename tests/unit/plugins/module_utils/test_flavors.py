from __future__ import annotations

import random

import pytest

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError
from ansible_collections.waldur.cloud.plugins.module_utils.fit_queries import URL_STARTS
from ansible_collections.waldur.cloud.plugins.module_utils.flavors import FlavorQuery, check_iregex
from ansible_collections.waldur.cloud.plugins.module_utils.resources import Scope, uuid_given
from ansible_collections.waldur.cloud.plugins.module_utils.selection import order_flavors

TENANT = "698b368adf624509ba3268e389742938"


def test_query_parameters_name_the_server_lookups():
    query = FlavorQuery(name=" m1 ", name_iregex=" ^m1\\. ", ram_min="4G", ram_max=16384, disk=0, cores=2)
    assert query.server_params(Scope(tenant_uuid=TENANT)) == [
        ("name", "m1"), ("name_iregex", "^m1\\."), ("tenant_uuid", TENANT),
        ("cores", "2"), ("ram__gte", "4096"), ("ram__lte", "16384"), ("disk", "0")]


def test_a_name_exact_with_spaces_is_asked_as_a_substring():
    query = FlavorQuery(name_exact=" m1.small")
    assert query.server_params(Scope()) == [("name", "m1.small")]
    assert query.warnings


@pytest.mark.parametrize("pattern", ["(", "[a-", "a{2", "x{1,", "*m1"])
def test_regexes_postgresql_rejects_are_refused(pattern):
    with pytest.raises(WaldurConfigError) as caught:
        check_iregex(pattern)
    assert caught.value.option == "name_iregex"


@pytest.mark.parametrize("pattern", ["^m1\\.", "a{2}", "a{2,}", "a{2,3}", "a\\{2", "{x", "hpc large \u2014"])
def test_valid_regexes_pass(pattern):
    assert check_iregex(" %s " % pattern) == pattern


def test_sorting_is_total_whatever_the_input_order():
    flavors = [{"uuid": "%032x" % n, "name": "m1.small" if n % 2 else "m1.tiny", "settings": "s%d" % (n % 3),
                "cores": n % 2 + 1, "ram": 1024 * (n % 3), "disk": 0} for n in range(12)]
    shuffled = list(flavors)
    random.Random(3).shuffle(shuffled)
    for sort_by in ("name", "cores", "ram", "disk"):
        for order in ("asc", "desc"):
            assert order_flavors(flavors, sort_by, order) == order_flavors(shuffled, sort_by, order)
    by_ram = order_flavors(shuffled, "ram", "desc", limit=3)
    assert [f["ram"] for f in by_ram] == [2048, 2048, 2048]
    # Ties: cores, disk, name, settings, uuid, all ascending even with order desc.
    assert [(f["cores"], f["name"], f["settings"]) for f in by_ram] == [(1, "m1.tiny", "s2"), (1, "m1.tiny", "s2"),
                                                                        (2, "m1.small", "s2")]
    assert by_ram[0]["uuid"] < by_ram[1]["uuid"]


def test_a_flavor_without_the_sort_field_is_an_error():
    with pytest.raises(WaldurConfigError) as caught:
        order_flavors([{"uuid": "x", "name": "a"}], "ram")
    assert caught.value.option == "sort_by"


def test_a_name_with_slashes_is_a_name_and_a_url_of_another_kind_is_an_error():
    assert not "image/with/slashes".startswith(URL_STARTS)
    assert uuid_given("https://w.example.com/api/openstack-flavors/%s/" % TENANT, "openstack-flavors", "flavor", "f") == TENANT
    with pytest.raises(WaldurConfigError) as caught:
        uuid_given("/api/openstack-images/%s/" % TENANT, "openstack-flavors", "flavor", "fits.flavor")
    assert caught.value.option == "fits.flavor" and "is not a flavor URL" in str(caught.value)
