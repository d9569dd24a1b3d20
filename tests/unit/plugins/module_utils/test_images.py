from __future__ import annotations

import pytest

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError, WaldurNotFoundError
from ansible_collections.waldur.cloud.plugins.module_utils.images import ImageQuery
from ansible_collections.waldur.cloud.plugins.module_utils.resources import normalize_uuid, uuid_in_url
from ansible_collections.waldur.cloud.tests.unit.helpers import IMAGES, ROOT, SETTINGS, TENANTS, make_client

CLOUD_A = "e7a0a77afc5244e9a7aee7396d8584fe"
CLOUD_B = "1d79f5d87e9d4a9aa03c58075e3da274"
TENANT_1 = "698b368adf624509ba3268e389742938"


def image(uuid, name, settings=CLOUD_A, **extra):
    return dict({"uuid": uuid, "name": name, "settings": ROOT + "service-settings/%s/" % settings}, **extra)


def directory_steps(scripted, settings_rows, tenant_rows):
    return [(SETTINGS, scripted.json(settings_rows, total=len(settings_rows))),
            (TENANTS, scripted.json(tenant_rows, total=len(tenant_rows)))]


def test_uuid_forms():
    assert normalize_uuid("BD849B42-F13F-4D2B-BD7C-BFD4C305F3EA", "uuid") == "bd849b42f13f4d2bbd7cbfd4c305f3ea"
    assert uuid_in_url("https://x/api/service-settings/%s/" % CLOUD_A, "service-settings") == CLOUD_A
    assert uuid_in_url("/api/openstack-tenants/%s/" % TENANT_1, "openstack-tenants") == TENANT_1
    assert uuid_in_url("/api/openstack-tenants/%s/" % TENANT_1, "service-settings") is None


@pytest.mark.parametrize("options, option, fragment", [
    ({"uuid": "not-a-uuid"}, "uuid", "32 hex digits"),
    ({"uuid": "bd849b42f13f4d2bbd7cbfd4c305f3e"}, "uuid", "not a uuid"),
    ({"settings_uuid": "xyz"}, "settings_uuid", "not a uuid"),
    ({"tenant_uuid": "123"}, "tenant_uuid", "not a uuid"),
    ({"offering_uuid": "g" * 32}, "offering_uuid", "not a uuid"),
    ({"uuid": CLOUD_A, "name": "ubuntu"}, "uuid", "cannot be combined with the list filters name"),
    ({"uuid": CLOUD_A, "show_duplicate_names": True}, "uuid", "show_duplicate_names"),
    ({"settings": "cloud-a", "settings_uuid": CLOUD_A}, "settings", "settings_uuid"),
    ({"tenant": "t", "tenant_uuid": TENANT_1}, "tenant", "tenant_uuid"),
    ({"show_duplicate_names": True, "tenant_uuid": TENANT_1}, "show_duplicate_names", "tenant_uuid"),
])
def test_bad_queries_fail_before_any_request(options, option, fragment):
    with pytest.raises(WaldurConfigError) as error:
        ImageQuery.from_options(options)
    assert error.value.option == option
    assert fragment in str(error.value)


def test_filters_become_server_parameters(scripted):
    c = make_client()
    url = IMAGES + ("?name=ubuntu&name_exact=ubuntu-22.04&settings_uuid=%s&tenant_uuid=%s&offering_uuid=%s"
                    "&is_rescue_image=false&page_size=300") % (CLOUD_A, TENANT_1, CLOUD_B)
    scripted.install(c, [(url, scripted.json([], total=0))])
    query = ImageQuery.from_options({"name": " ubuntu ", "name_exact": "ubuntu-22.04", "settings_uuid": CLOUD_A.upper(),
                                     "tenant_uuid": TENANT_1, "offering_uuid": CLOUD_B, "is_rescue_image": False})
    assert query.run(c) == []


def test_settings_and_tenant_urls_need_no_lookup(scripted):
    c = make_client()
    url = IMAGES + "?settings_uuid=%s&tenant_uuid=%s&page_size=300" % (CLOUD_A, TENANT_1)
    scripted.install(c, [(url, scripted.json([], total=0))])
    ImageQuery.from_options({"settings": "https://other-host/api/service-settings/%s/" % CLOUD_A,
                             "tenant": "https://w/api/openstack-tenants/%s/" % TENANT_1}).run(c)


def test_a_url_of_another_kind_is_refused():
    with pytest.raises(WaldurConfigError) as error:
        ImageQuery.from_options({"settings": "https://w/api/projects/%s/" % CLOUD_A}).run(make_client())
    assert error.value.option == "settings"
    assert "not a service settings URL" in str(error.value)


def test_settings_name_resolves_through_settings_and_tenants(scripted):
    c = make_client()
    steps = directory_steps(scripted, [{"uuid": CLOUD_A, "name": "cloud-a", "shared": False}],
                            [{"uuid": TENANT_1, "name": "t1", "service_settings_uuid": CLOUD_B, "service_name": "cloud-b",
                              "project_name": "p"}])
    steps.append((IMAGES + "?settings_uuid=%s&page_size=300" % CLOUD_B, scripted.json([image("1" * 32, "x", CLOUD_B)], total=1)))
    scripted.install(c, steps)
    assert len(ImageQuery.from_options({"settings": "cloud-b"}).run(c)) == 1


def test_unknown_settings_name_lists_the_candidates(scripted):
    c = make_client()
    scripted.install(c, directory_steps(scripted, [{"uuid": CLOUD_A, "name": "cloud-a", "shared": False}], []))
    with pytest.raises(WaldurConfigError) as error:
        ImageQuery.from_options({"settings": "cloud-z"}).run(c)
    assert error.value.option == "settings"
    assert "cloud-a (%s)" % CLOUD_A in str(error.value)


def test_ambiguous_tenant_name_lists_both(scripted):
    c = make_client()
    tenants = [{"uuid": TENANT_1, "name": "dev", "project_name": "alpha"},
               {"uuid": CLOUD_B, "name": "dev", "project_name": "beta"}]
    scripted.install(c, [(TENANTS, scripted.json(tenants, total=2))])
    with pytest.raises(WaldurConfigError) as error:
        ImageQuery.from_options({"tenant": "dev"}).run(c)
    message = str(error.value)
    assert "ambiguous" in message and "project alpha" in message and "project beta" in message


def test_name_exact_with_spaces_warns_and_still_matches(scripted):
    c = make_client()
    scripted.install(c, [(IMAGES + "?name=leading+space&page_size=300",
                          scripted.json([image("1" * 32, " leading space"), image("2" * 32, "leading space")], total=2))])
    query = ImageQuery.from_options({"name_exact": " leading space"})
    assert [i["uuid"] for i in query.run(c)] == ["1" * 32]
    assert "strips" in query.warnings[0]


def test_show_duplicate_names_applies_the_filters_the_server_drops(scripted):
    c = make_client()
    rows = [image("1" * 32, "Ubuntu-22.04"), image("2" * 32, "ubuntu-22.04", CLOUD_B), image("3" * 32, "debian"),
            image("4" * 32, "ubuntu-20.04", is_rescue_image=True)]
    scripted.install(c, [(IMAGES + "?show_duplicate_names=true&page_size=300", scripted.json(rows, total=4))])
    query = ImageQuery.from_options({"show_duplicate_names": True, "name": "UBUNTU", "settings_uuid": CLOUD_A,
                                     "is_rescue_image": False})
    assert [i["uuid"] for i in query.run(c)] == ["1" * 32]


def test_retrieve_by_dashed_uuid(scripted):
    c = make_client()
    uuid = "bd849b42f13f4d2bbd7cbfd4c305f3ea"
    scripted.install(c, [(IMAGES + uuid + "/", scripted.json(image(uuid, "x")))])
    assert ImageQuery.from_options({"uuid": "bd849b42-f13f-4d2b-bd7c-bfd4c305f3ea"}).run(c)[0]["uuid"] == uuid


def test_retrieve_of_a_missing_image_is_an_empty_list(scripted):
    c = make_client()
    scripted.install(c, [(IMAGES + "0" * 32 + "/", scripted.json({"detail": "No Image matches the given query."}, status=404))])
    assert ImageQuery.from_options({"uuid": "0" * 32}).run(c) == []


def test_retrieve_404_html_is_a_wrong_api_url_not_an_empty_result(scripted):
    c = make_client()
    scripted.install(c, [(IMAGES + "0" * 32 + "/", (404, {"Content-Type": "text/html"}, b"<h1>Not Found</h1>"))])
    with pytest.raises(WaldurNotFoundError):
        ImageQuery.from_options({"uuid": "0" * 32}).run(c)
