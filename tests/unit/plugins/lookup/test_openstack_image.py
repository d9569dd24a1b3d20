"""The waldur.cloud.openstack_image lookup against scripted server answers (each exact request, in order)."""
from __future__ import annotations

import sys

import pytest

from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader

from ansible_collections.waldur.cloud.plugins.plugin_utils import client as plugin_client
from ansible_collections.waldur.cloud.tests.unit.helpers import IMAGES, ROOT, TOKEN

CLOUD_A = "e7a0a77afc5244e9a7aee7396d8584fe"
CLOUD_B = "1d79f5d87e9d4a9aa03c58075e3da274"


def image(number, name, min_disk, min_ram, settings=CLOUD_A):
    return {"url": IMAGES + "%032x/" % number, "uuid": "%032x" % number, "name": name, "min_disk": min_disk,
            "min_ram": min_ram, "settings": ROOT + "service-settings/%s/" % settings}


# In the server's order: by name, code point order.
UBUNTU = [
    image(1, "Ubuntu-24.04", 20481, 2048),      # one MiB over a 20 GiB disk
    image(2, "ubuntu-20.04", 10240, 1024),
    image(3, "ubuntu-22.04", 20480, 4096),      # exactly a 20 GiB / 4 GiB flavor
    image(4, "ubuntu-22.04-minimal", 0, 0),
    image(5, "ubuntu-9.04", 4096, 512),
]


class Harness:
    def __init__(self, scripted, monkeypatch, run_tmp):
        # Each test is a run of its own: the listings one run shares live in its local temporary directory.
        monkeypatch.setattr(sys.modules["ansible.constants"], "DEFAULT_LOCAL_TMP", str(run_tmp))
        self.lookup = lookup_loader.get("waldur.cloud.openstack_image")
        self.scripted = scripted
        self.steps = []
        self.transport = None
        self.warnings = []
        self.clients = 0
        real_open_client = plugin_client.open_client

        def open_client(plugin, where=None, overrides=None, **client_options):
            client = real_open_client(plugin, where, overrides, **client_options)
            self.transport = scripted.install(client, self.steps)
            self.clients += 1
            return client

        monkeypatch.setattr(plugin_client, "open_client", open_client)
        monkeypatch.setattr(plugin_client.display, "warning", self.warnings.append)
        for variable in ("WALDUR_API_URL", "WALDUR_API_TOKEN", "WALDUR_AUTH_SCHEME", "WALDUR_TIMEOUT"):
            monkeypatch.delenv(variable, raising=False)

    def expect(self, query, images, status=200):
        body = images if status == 200 else {"detail": "Invalid token."}
        self.steps.append((IMAGES + query, self.scripted.json(body, status=status, total=len(images))))

    def run(self, *terms, **options):
        options.setdefault("api_url", ROOT)
        options.setdefault("api_token", TOKEN)
        return self.lookup.run(list(terms), variables={}, **options)

    def fails(self, *terms, **options):
        # AnsibleLookupError, as a lookup's failures should be (a play can tell them from others).
        with pytest.raises(AnsibleLookupError) as error:
            self.run(*terms, **options)
        return str(error.value)


@pytest.fixture(name="harness")
def fixture_harness(scripted, monkeypatch, tmp_path):
    return Harness(scripted, monkeypatch, tmp_path)


def test_the_newest_fitting_image_by_name_is_returned_by_default(harness):
    harness.expect("?name=ubuntu&page_size=300", UBUNTU)
    result = harness.run(name="ubuntu", fits={"disk": "20G", "ram": "4G"})
    # Ubuntu-24.04 is one MiB too big; version order puts 22.04-minimal after 22.04, and 9.04 below 20.04.
    assert result == [image(4, "ubuntu-22.04-minimal", 0, 0)]
    assert harness.warnings == []


def test_the_requirements_equal_to_the_flavor_fit(harness):
    harness.expect("?name_exact=ubuntu-22.04&page_size=300", [UBUNTU[2]])
    assert harness.run(name_exact="ubuntu-22.04", fits={"disk": 20480, "ram": 4096}) == [UBUNTU[2]]


@pytest.mark.parametrize("sort_by, order, expected", [
    ("min_disk", "desc", 3),       # the largest requirement that still fits
    ("min_disk", "asc", 4),
    ("min_ram", "desc", 3),
    ("name", "desc", 5),           # code point order: "ubuntu-9.04" > "ubuntu-22.04"
    ("name", "asc", 2),
    ("version", "asc", 5),         # ubuntu-9.04 < ubuntu-20.04 once digits are numbers
])
def test_sort_by_and_order_choose_the_first_image(harness, sort_by, order, expected):
    harness.expect("?name=ubuntu&page_size=300", UBUNTU)
    chosen = harness.run(name="ubuntu", fits={"disk": "20 GiB", "ram": "4096M"}, sort_by=sort_by, order=order)
    assert chosen[0]["uuid"] == "%032x" % expected


def test_without_fits_every_matching_image_is_a_candidate(harness):
    harness.expect("?name=ubuntu&page_size=300", UBUNTU)
    assert harness.run(name="ubuntu")[0]["name"] == "Ubuntu-24.04"


def test_connection_options_come_from_the_environment_variables(harness, monkeypatch):
    monkeypatch.setenv("WALDUR_API_URL", "https://waldur.example.com")
    monkeypatch.setenv("WALDUR_API_TOKEN", TOKEN)
    harness.expect("?name=ubuntu&page_size=50", UBUNTU[:3])
    assert harness.lookup.run([], variables={}, name="ubuntu", page_size=50, fits={"ram": "1G"}) == [UBUNTU[1]]
    assert harness.transport.requests[0].headers["Authorization"] == "Token " + TOKEN


def test_none_fitting_fails_naming_the_filters_the_sizes_and_what_each_image_breaks(harness):
    harness.expect("?name=ubuntu&settings_uuid=%s&page_size=300" % CLOUD_A, UBUNTU[:3])
    message = harness.fails(name="ubuntu", settings_uuid=CLOUD_A, fits={"disk": "4G", "ram": "1000M"})
    assert message == (
        "waldur.cloud.openstack_image lookup: none of the 3 images that match name='ubuntu', settings_uuid='%s' fits a "
        "flavor with disk 4096 MiB (4 GiB) and ram 1000 MiB. Why, per image: ubuntu-20.04 (uuid %032x): min_disk 10240 MiB "
        "(10 GiB) is above fits.disk, 4096 MiB (4 GiB) and min_ram 1024 MiB (1 GiB) is above fits.ram, 1000 MiB; "
        "Ubuntu-24.04 (uuid %032x): min_disk 20481 MiB is above fits.disk, 4096 MiB (4 GiB) and min_ram 2048 MiB (2 GiB) is "
        "above fits.ram, 1000 MiB; ubuntu-22.04 (uuid %032x): min_disk 20480 MiB (20 GiB) is above fits.disk, 4096 MiB "
        "(4 GiB) and min_ram 4096 MiB (4 GiB) is above fits.ram, 1000 MiB. Use a larger flavor or other filters, or give "
        "default= to get a value instead of this error" % (CLOUD_A, 2, 1, 3))


def test_no_matching_image_fails_naming_the_filters(harness):
    harness.expect("?name=windows&page_size=300", [])
    assert harness.fails(name="windows", fits={"disk": "20G"}) == (
        "waldur.cloud.openstack_image lookup: no image matches name='windows'")


def test_no_visible_image_at_all_says_so(harness):
    harness.expect("?page_size=300", [])
    assert harness.fails(fits={"disk": "20G"}) == "waldur.cloud.openstack_image lookup: no image is visible to this API token"


def test_an_image_by_uuid_that_does_not_fit_is_reported(harness):
    harness.steps.append((IMAGES + "%032x/" % 1, harness.scripted.json(UBUNTU[0])))
    assert harness.fails(uuid="%032x" % 1, fits={"disk": "20G"}).startswith(
        "waldur.cloud.openstack_image lookup: the 1 image that matches uuid='%032x' does not fit a flavor with disk 20480 MiB "
        "(20 GiB). Why: Ubuntu-24.04 (uuid %032x): min_disk 20481 MiB is above fits.disk, 20480 MiB (20 GiB). Use a larger "
        "flavor" % (1, 1))


@pytest.mark.parametrize("default", [None, "", "cirros"])
def test_default_is_returned_instead_of_failing_when_none_fits(harness, default):
    harness.expect("?name=ubuntu&page_size=300", UBUNTU[:3])
    assert harness.run(name="ubuntu", fits={"ram": "256M"}, default=default) == [default]


def test_default_does_not_hide_a_rejected_token(harness):
    harness.expect("?name=ubuntu&page_size=300", [], status=401)
    message = harness.fails(name="ubuntu", fits={"ram": "256M"}, default=None)
    assert message.startswith("waldur.cloud.openstack_image lookup: ") and "Invalid token." in message


def test_images_of_the_same_name_that_tie_warn_and_the_smallest_uuid_wins(harness):
    twins = [image(9, "ubuntu-22.04", 10240, 1024, CLOUD_B), image(7, "ubuntu-22.04", 10240, 1024, CLOUD_A),
             image(8, "ubuntu-22.04", 10240, 1024, CLOUD_B)]
    harness.expect("?name_exact=ubuntu-22.04&page_size=300", twins)
    assert harness.run(name_exact="ubuntu-22.04", fits={"disk": "20G"}) == [twins[1]]
    label = "ubuntu-22.04 (uuid %032x, min_disk 10240 MiB (10 GiB), min_ram 1024 MiB (1 GiB), settings %s)"
    assert harness.warnings == [
        "waldur.cloud.openstack_image lookup: 2 other images named 'ubuntu-22.04' fit as well (in other service settings, "
        "or older duplicates); returning the one with the smallest uuid: %s. The others: %s; %s. Give settings, tenant, uuid "
        "to choose explicitly." % (label % (7, CLOUD_A), label % (8, CLOUD_B), label % (9, CLOUD_B))]


def test_with_settings_and_tenant_given_only_the_uuid_tells_tied_images_apart(harness):
    twins = [image(7, "ubuntu-22.04", 10240, 1024, CLOUD_A), image(8, "ubuntu-22.04", 10240, 1024, CLOUD_A)]
    harness.expect("?name_exact=ubuntu-22.04&settings_uuid=%s&tenant_uuid=%s&page_size=300" % (CLOUD_A, "c" * 32), twins)
    harness.run(name_exact="ubuntu-22.04", settings_uuid=CLOUD_A, tenant_uuid="c" * 32, show_duplicate_names=False)
    assert harness.warnings[0].endswith("Give uuid (settings and tenant are given already) to choose explicitly.")


def test_equal_requirements_of_different_names_do_not_warn(harness):
    harness.expect("?name=ubuntu&page_size=300", [image(1, "ubuntu-a", 1024, 1024), image(2, "ubuntu-b", 1024, 1024)])
    assert harness.run(name="ubuntu", sort_by="min_disk")[0]["name"] == "ubuntu-a"
    assert harness.warnings == []


@pytest.mark.parametrize("options, message", [
    ({"fits": {"disk": "20GB"}}, "waldur.cloud.openstack_image lookup: fits.disk: '20GB' is ambiguous"),
    ({"fits": {"disk": "0"}}, "waldur.cloud.openstack_image lookup: fits.disk: '0' is zero; a flavor with a disk of 0"),
    ({"fits": {"ram": "-2G"}}, "waldur.cloud.openstack_image lookup: fits.ram: '-2G' is negative"),
    ({"fits": {"ram": "2 gigs"}}, "waldur.cloud.openstack_image lookup: fits.ram: '2 gigs' has an unknown unit 'gigs'"),
    ({"fits": {"dsik": "20G"}}, "waldur.cloud.openstack_image lookup: fits: unknown key 'dsik' (did you mean disk?); fits "
                                "takes disk and ram (a flavor's size), or flavor and disk"),
    ({"fits": {"flavour": "m1.medium"}}, "waldur.cloud.openstack_image lookup: fits: unknown key 'flavour' (did you mean "
                                         "flavor?); fits takes disk and ram (a flavor's size), or flavor and disk"),
    ({"fits": {}}, "waldur.cloud.openstack_image lookup: fits: neither disk nor ram is given"),
    ({"uuid": "nope"}, "waldur.cloud.openstack_image lookup: uuid: 'nope' is not a uuid"),
    ({"fit": {"disk": "20G"}}, "waldur.cloud.openstack_image lookup: unknown option fit (did you mean fits?); the options are described by: "
                               "ansible-doc -t lookup waldur.cloud.openstack_image"),
    ({"api_url": "ftp://x"}, "waldur.cloud.openstack_image lookup: api_url: 'ftp://x' is not an http:// or https:// URL"),
    ({"show_duplicate_names": "maybe"}, "waldur.cloud.openstack_image lookup: show_duplicate_names: 'maybe' is not a boolean"),
])
def test_bad_options_fail_before_any_request(harness, options, message):
    assert harness.fails(**options).startswith(message)
    assert harness.transport is None or harness.transport.requests == []


def test_terms_are_refused(harness):
    assert harness.fails("ubuntu") == (
        "waldur.cloud.openstack_image lookup: takes no terms (got 'ubuntu'); give the filters as keywords, e.g. name='ubuntu'")
    assert harness.clients == 0


def test_bad_fits_are_reported_before_the_connection_is_checked(harness):
    message = harness.fails(fits={"disk": "1.5.2G"}, api_token=None)
    assert message.startswith("waldur.cloud.openstack_image lookup: fits.disk: '1.5.2G' is not a size")
    assert harness.clients == 0


def test_name_exact_with_surrounding_space_warns(harness):
    harness.expect("?name=leading+space&page_size=300", [image(1, " leading space", 1, 1), image(2, "leading space", 1, 1)])
    assert harness.run(name_exact=" leading space", fits={"disk": 1})[0]["uuid"] == "%032x" % 1
    assert any("has surrounding white space" in warning for warning in harness.warnings)


def test_none_fitting_without_filters_counts_the_visible_images(harness):
    harness.expect("?page_size=300", UBUNTU[:2])
    assert harness.fails(fits={"ram": "512M"}) == (
        "waldur.cloud.openstack_image lookup: none of the 2 images visible to this API token fits a flavor with ram 512 MiB. "
        "Why, per image: ubuntu-20.04 (uuid %032x): min_ram 1024 MiB (1 GiB) is above fits.ram, 512 MiB; Ubuntu-24.04 (uuid "
        "%032x): min_ram 2048 MiB (2 GiB) is above fits.ram, 512 MiB. Use a larger flavor or other filters, or give default= "
        "to get a value instead of this error" % (2, 1))


def test_evaluations_of_one_run_share_one_listing(harness):
    """As for each host of a play: the same filters list once; fits and sort_by apply at each evaluation."""
    harness.expect("?name=ubuntu&page_size=300", UBUNTU)
    assert harness.run(name="ubuntu", fits={"disk": "20G", "ram": "4G"})[0]["uuid"] == "%032x" % 4
    harness.steps.clear()  # from here on, any request fails the test
    assert harness.run(name="ubuntu", fits={"disk": "4G"}, sort_by="min_disk")[0]["uuid"] == "%032x" % 5
    assert harness.run(name="ubuntu")[0]["name"] == "Ubuntu-24.04"
    assert sum(len(transport.requests) for transport in harness.scripted.transports) == 1


@pytest.mark.parametrize("other", [{"name": "ubuntu-2"}, {"name": "ubuntu", "api_token": TOKEN[::-1]},
                                   {"name": "ubuntu", "cache_lifetime": 0}])
def test_other_filters_another_token_or_lifetime_0_list_again(harness, other):
    harness.expect("?name=ubuntu&page_size=300", UBUNTU)
    harness.run(name="ubuntu")
    harness.steps.clear()
    harness.expect("?name=%s&page_size=300" % other["name"], UBUNTU[1:4])
    assert harness.run(**other)[0]["uuid"] == "%032x" % 4  # not Ubuntu-24.04 (1): listed anew


def test_a_failed_listing_is_not_shared(harness):
    harness.expect("?name=ubuntu&page_size=300", [], status=401)
    assert "rejected the API token" in harness.fails(name="ubuntu")
    harness.steps.clear()
    harness.expect("?name=ubuntu&page_size=300", UBUNTU)
    assert harness.run(name="ubuntu")[0]["name"] == "Ubuntu-24.04"


def flavor(name, ram, settings=CLOUD_A):
    return {"uuid": "f" * 32, "name": name, "settings": "%sservice-settings/%s/" % (ROOT, settings), "cores": 8, "ram": ram,
            "disk": 0}


def test_when_the_system_volume_is_what_is_too_small_the_message_says_so_with_the_size_that_fits(harness):
    tenant = "c" * 32
    harness.steps.append(("%sopenstack-flavors/?name_exact=m1.xlarge&tenant_uuid=%s&page_size=300" % (ROOT, tenant),
                          harness.scripted.json([flavor("m1.xlarge", 16384)], total=1)))
    harness.expect("?tenant_uuid=%s&page_size=300" % tenant, [image(1, "ubuntu-24.04", 40960, 1024)])
    message = harness.fails(tenant_uuid=tenant, fits={"flavor": "m1.xlarge", "disk": "20G"})
    assert message.endswith("Why: ubuntu-24.04 (uuid %032x): min_disk 40960 MiB (40 GiB) is above the system volume "
                            "(fits.disk), 20480 MiB (20 GiB). The flavor's RAM is enough for 1 of them, and the system volume "
                            "of 20480 MiB (20 GiB) is what is too small: a system volume of 40960 MiB (40 GiB) (fits.disk) "
                            "fits the smallest, or give default= to get a value instead of this error" % 1)


def test_a_tenant_given_by_name_is_named_so_in_messages(harness):
    tenant = "c" * 32
    harness.steps.append(("%sopenstack-tenants/?field=uuid&field=name&field=service_settings_uuid&field=service_name"
                          "&field=project_uuid&field=project_name&field=customer&field=customer_name&page_size=300" % ROOT,
                          harness.scripted.json([{"uuid": tenant, "name": "tenant-b1"}], total=1)))
    harness.steps.append(("%sopenstack-flavors/?name_exact=m1.large&tenant_uuid=%s&page_size=300" % (ROOT, tenant),
                          harness.scripted.json([], total=0)))
    harness.steps.append(("%sopenstack-flavors/?tenant_uuid=%s&page_size=300" % (ROOT, tenant),
                          harness.scripted.json([flavor("m1.small", 2048)], total=1)))
    message = harness.fails(tenant="tenant-b1", fits={"flavor": "m1.large"})
    assert "no flavor named 'm1.large' is linked to tenant 'tenant-b1' (%s); flavors there: 'm1.small'" % tenant in message
