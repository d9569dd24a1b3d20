from __future__ import annotations

import pytest

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError
from ansible_collections.waldur.cloud.plugins.module_utils.usage import UsageReport, usage_by_name
from ansible_collections.waldur.cloud.tests.unit.helpers import ROOT, SETTINGS, TENANTS, make_client

USAGE = ROOT + "openstack-images/usage_stats/"
A = "a" * 32
B = "b" * 32


def row(name, running, created):
    return {"name": name, "running_instances_count": running, "created_instances_count": created}


def directory(scripted, settings, tenants, page_size=300):
    size = "page_size=%d" % page_size
    return [(SETTINGS.replace("page_size=300", size), scripted.json(settings, total=len(settings))),
            (TENANTS.replace("page_size=300", size), scripted.json(tenants, total=len(tenants)))]


def test_every_page_is_read_with_the_providers_and_rows_are_sorted(scripted):
    c = make_client(page_size=2)
    steps = directory(scripted, [{"uuid": A, "name": "cloud-a", "shared": True}],
                      [{"uuid": "c" * 32, "name": "t", "service_settings_uuid": B, "service_name": "cloud-b"}], page_size=2)
    query = "service_provider=%s&service_provider=%s&page_size=2" % (A, B)
    steps += [(USAGE + "?" + query, scripted.json([row("b", 1, 2), row("a", 0, 5)], total=3)),
              (USAGE + "?" + query + "&page=2", scripted.json([row("c", 3, 3)], total=3))]
    scripted.install(c, steps)
    result = UsageReport(sort_by="running", order="desc").run(c)
    assert [r["name"] for r in result["stats"]] == ["c", "b", "a"]
    assert result["totals"] == {"images": 3, "running_instances": 4, "created_instances": 10}
    assert result["service_providers"] == [{"uuid": A, "name": "cloud-a", "shared": True},
                                           {"uuid": B, "name": "cloud-b", "shared": False}]


def test_shared_false_keeps_private_settings_only(scripted):
    c = make_client()
    steps = directory(scripted, [{"uuid": A, "name": "cloud-a", "shared": True}, {"uuid": B, "name": "cloud-b", "shared": False}], [])
    steps.append((USAGE + "?service_provider=%s&page_size=300" % B, scripted.json([row("x", 1, 1)], total=1)))
    scripted.install(c, steps)
    assert UsageReport(shared=False).run(c)["service_providers"] == [{"uuid": B, "name": "cloud-b", "shared": False}]


def test_no_visible_settings_is_a_plain_error_not_ten_rows(scripted):
    c = make_client()
    scripted.install(c, directory(scripted, [], []))
    with pytest.raises(WaldurConfigError) as error:
        UsageReport().run(c)
    assert error.value.option == "service_provider"
    assert "first page of 10 rows" in str(error.value)


def test_an_unknown_uuid_is_refused_when_settings_are_visible(scripted):
    c = make_client()
    scripted.install(c, directory(scripted, [{"uuid": A, "name": "cloud-a", "shared": False}], []))
    with pytest.raises(WaldurConfigError) as error:
        UsageReport(service_provider=[B]).run(c)
    assert "silently answer zeros" in str(error.value) and "cloud-a (%s)" % A in str(error.value)


def test_an_uncheckable_uuid_goes_through_with_a_warning(scripted):
    c = make_client()
    steps = directory(scripted, [], [])
    steps.append((USAGE + "?service_provider=%s&page_size=300" % B, scripted.json([row("x", 0, 1)], total=1)))
    scripted.install(c, steps)
    report = UsageReport(service_provider=[B])
    assert report.run(c)["stats"] == [row("x", 0, 1)]
    assert "cannot be checked" in report.warnings[0]


def test_usage_by_name_for_the_inventory(scripted):
    c = make_client()
    steps = directory(scripted, [{"uuid": A, "name": "cloud-a", "shared": False}], [])
    steps.append((USAGE + "?service_provider=%s&page_size=300" % A, scripted.json([row("x", 2, 3)], total=1)))
    scripted.install(c, steps)
    assert usage_by_name(c, None) == {"x": {"running_instances_count": 2, "created_instances_count": 3}}


@pytest.mark.parametrize("options, option", [
    ({"sort_by": "size"}, "sort_by"),
    ({"order": "random"}, "order"),
    ({"service_provider": []}, "service_provider"),
])
def test_bad_options(options, option):
    with pytest.raises(WaldurConfigError) as error:
        UsageReport(**options)
    assert error.value.option == option
