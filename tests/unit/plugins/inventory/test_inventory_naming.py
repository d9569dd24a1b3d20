"""The naming rules of the openstack_images inventory: unique, stable, independent of API order."""
from __future__ import annotations

import random

import pytest

from ansible.inventory.group import to_safe_group_name

from ansible_collections.waldur.cloud.plugins.plugin_utils.inventory import (
    clean_host_name,
    flavors_that_fit,
    group_names,
    host_names,
    unique_names,
)

A = "a" * 32
B = "b" * 32
C = "c" * 32
D = "d" * 32


def sanitize(name):
    return to_safe_group_name(name, force=True, silent=True)


@pytest.mark.parametrize("given, expected", [
    ("ubuntu-22.04", "ubuntu-22.04"),
    (" leading space", "leading_space"),
    ("trailing space ", "trailing_space"),
    ("tab\tinside", "tab_inside"),
    ("name with  double  spaces", "name_with_double_spaces"),
    ("line\nbreak\r\nand\x07bell", "line_break_and_bell"),
    ("Ubuntu 日本語", "Ubuntu_日本語"),
    ("rocket 🚀 image", "rocket_🚀_image"),
    ("comma,separated,name", "comma_separated_name"),
    ("ubuntu:22.04 [lts] *new?", "ubuntu_22.04_lts_new_"),
    ("~regex", "_regex"),
    ("!not", "_not"),
    ("&and", "_and"),
    ("@file", "_file"),
    ("a!b&c~d@e", "a!b&c~d@e"),
    ("{{ lookup('pipe', 'id') }}", "_lookup('pipe'_'id')_"),
    ("{% if x %}y{% endif %}", "_%_if_x_%_y_%_endif_%_"),
    ("   ", ""),
    (None, ""),
])
def test_host_names_are_usable_in_host_patterns(given, expected):
    assert clean_host_name(given) == expected


@pytest.mark.parametrize("name", ["Ubuntu 22.04 — LTS (Jammy)", "comma,separated,name", "ubuntu:22.04", "web[1:3]",
                                  "~x", "!x", "a b@cloud c~12345678", "tab\tinside", "x*y?z", "{{ 7 * 7 }}"])
def test_a_cleaned_name_is_one_pattern_that_matches_only_itself(name):
    import fnmatch

    from ansible.inventory.manager import split_host_pattern

    cleaned = clean_host_name(name)
    assert split_host_pattern(cleaned) == [cleaned]
    assert fnmatch.fnmatchcase(cleaned, cleaned)
    assert cleaned[0] not in "~!&@"
    assert "{" not in cleaned and "}" not in cleaned


def test_a_unique_name_is_the_host_name():
    assert host_names({A: ("ubuntu", "cloud-a"), B: ("debian", "cloud-a")}) == {A: "ubuntu", B: "debian"}


def test_the_same_name_in_several_settings_gets_the_settings_name():
    names = host_names({A: ("ubuntu-22.04", "cloud-a"), B: ("ubuntu-22.04", "cloud-b"), C: ("debian", "cloud-a")})
    assert names == {A: "ubuntu-22.04@cloud-a", B: "ubuntu-22.04@cloud-b", C: "debian"}


def test_older_duplicates_in_one_settings_get_a_short_uuid():
    names = host_names({A: ("ubuntu-22.04", "cloud-a"), B: ("ubuntu-22.04", "cloud-a"), C: ("ubuntu-22.04", "cloud-b")})
    assert names == {A: "ubuntu-22.04@cloud-a~aaaaaaaa", B: "ubuntu-22.04@cloud-a~bbbbbbbb", C: "ubuntu-22.04@cloud-b"}


def test_case_makes_distinct_names_white_space_does_not():
    names = host_names({A: (clean_host_name("ubuntu "), "cloud-a"), B: (clean_host_name("ubuntu"), "cloud-b"),
                        C: (clean_host_name("UBUNTU"), "cloud-a")})
    assert names == {A: "ubuntu@cloud-a", B: "ubuntu@cloud-b", C: "UBUNTU"}


def test_a_name_that_looks_like_a_disambiguated_one_is_disambiguated_too():
    names = host_names({A: ("ubuntu", "cloud-a"), B: ("ubuntu", "cloud-b"), C: ("ubuntu@cloud-a", "cloud-c")})
    assert len(set(names.values())) == 3
    assert names[B] == "ubuntu@cloud-b"
    assert names[A] == "ubuntu@cloud-a~aaaaaaaa"
    assert names[C] == "ubuntu@cloud-a@cloud-c"


def test_a_shared_uuid_prefix_falls_back_to_the_whole_uuid():
    first, second = "12345678" + "0" * 24, "12345678" + "f" * 24
    names = host_names({first: ("x", "cloud-a"), second: ("x", "cloud-a")})
    assert names == {first: "x@cloud-a~%s" % first, second: "x@cloud-a~%s" % second}


def test_names_do_not_depend_on_the_order_of_the_api():
    rng = random.Random(7)
    images = {}
    for number in range(300):
        uuid = "%032x" % rng.getrandbits(128)
        images[uuid] = (rng.choice(["ubuntu", "debian", "ubuntu@cloud-a", "centos", "x"]),
                        rng.choice(["cloud-a", "cloud-b", "cloud-c"]))
    expected = host_names(images)
    assert len(set(expected.values())) == len(images)
    for _attempt in range(5):
        keys = list(images)
        rng.shuffle(keys)
        assert host_names({key: images[key] for key in keys}) == expected


def test_group_names_are_sanitised_and_distinct():
    rows = [{"uuid": A, "name": "prod"}, {"uuid": B, "name": "prod"}, {"uuid": C, "name": "dev-1 (test)"},
            {"uuid": D, "name": None}]
    names = group_names(rows, "waldur_tenant_", sanitize)
    assert names == {A: "waldur_tenant_prod_aaaaaaaa", B: "waldur_tenant_prod_bbbbbbbb",
                     C: "waldur_tenant_dev_1__test_", D: "waldur_tenant_dddddddd"}


def test_names_that_sanitise_alike_are_distinct():
    names = group_names([{"uuid": A, "name": "cloud-a"}, {"uuid": B, "name": "cloud_a"}, {"uuid": C, "name": "Ωmega"}],
                        "waldur_settings_", sanitize)
    assert names == {A: "waldur_settings_cloud_a_aaaaaaaa", B: "waldur_settings_cloud_a_bbbbbbbb",
                     C: "waldur_settings_Ωmega"}


def test_names_that_cannot_be_made_unique_are_an_error():
    with pytest.raises(ValueError):
        unique_names(["x", "y"], lambda key, level: "same", 2)


def test_flavors_that_fit_smallest_ram_first_each_name_once():
    flavors = [{"name": "m1.large", "ram": 8192}, {"name": "m1.small", "ram": 2048}, {"name": "m1.tiny", "ram": 512},
               {"name": "m1.small", "ram": 1024}, {"name": "m1.medium", "ram": 4096}]
    assert flavors_that_fit({"min_ram": 2048}, flavors) == ["m1.small", "m1.medium", "m1.large"]
    assert flavors_that_fit({"min_ram": 0}, flavors) == ["m1.tiny", "m1.small", "m1.medium", "m1.large"]
    assert flavors_that_fit({"min_ram": 8193}, flavors) == []
