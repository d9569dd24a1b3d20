"""The one size parser and fit rule (plugins/module_utils/fit.py), and the image order (selection.py) it is used with."""
from __future__ import annotations

import hashlib
import random
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError
from ansible_collections.waldur.cloud.plugins.module_utils.fit import (
    ACCEPTED_SIZES,
    Fit,
    Limits,
    format_size,
    parse_size,
    size_limits,
)
from ansible_collections.waldur.cloud.plugins.module_utils.selection import check_selection, select_images, version_key

FLAVOR = Limits(disk=20480, ram=4096)
FITS = FLAVOR.admits


def parse_fits(fits):
    fit = Fit.parse(fits)
    return None if fit is None else fit.size


def image(name, min_disk=0, min_ram=0, uuid=None):
    return {"uuid": uuid or hashlib.md5(name.encode()).hexdigest(), "name": name, "min_disk": min_disk, "min_ram": min_ram}


def names(images):
    return [row["name"] for row in images]


def refused(function, *args, **kwargs):
    with pytest.raises(WaldurConfigError) as error:
        function(*args, **kwargs)
    return error.value


# --- parse_size: what is accepted -------------------------------------------------------------

@pytest.mark.parametrize("value, mib", [
    (20480, 20480),
    ("20480", 20480),
    (" 20480 ", 20480),
    (2048.0, 2048),
    ("512M", 512),
    ("512m", 512),
    ("512MiB", 512),
    ("512 mib", 512),
    ("4G", 4096),
    ("4g", 4096),
    ("20 GiB", 20480),
    ("20GIB", 20480),
    ("1.5G", 1536),
    ("0.5G", 512),
    ("1T", 1048576),
    ("2 TiB", 2097152),
    ("1024K", 1),
    ("2048 KiB", 2),
    ("020G", 20480),
    ("4Gi", 4096),
    ("512 mi", 512),
    ("1Ti", 1048576),
    ("2048Ki", 2),
    ("1.50G", 1536),
])
def test_parse_size_reads_mib_and_binary_units(value, mib):
    assert parse_size(value, "fits.disk") == mib


# --- parse_size: what is refused, and how it is said -------------------------------------------

@pytest.mark.parametrize("value, says", [
    ("-1G", "'-1G' is negative"),
    ("-512", "'-512' is negative"),
    (-1, "-1 is negative"),
    ("0G", "'0G' is zero"),
    (0, "0 is zero"),
    ("0.0 MiB", "'0.0 MiB' is zero"),
    ("big", "'big' is not a size"),
    ("", "'' is not a size"),
    ("G", "'G' is not a size"),
    ("1.5.2G", "'1.5.2G' is not a size"),
    ("1e3", "'1e3' is not a size"),
    ("+5G", "'+5G' is not a size"),
    ("1,024M", "'1,024M' is not a size"),
    ("20 G B", "'20 G B' is not a size"),
    (".5G", "'.5G' is not a size"),
    ("20GB", "'20GB' is ambiguous: GB may mean powers of 1000 or of 1024; write 20G or 20GiB"),
    ("512mb", "'512mb' is ambiguous: mb may mean powers of 1000 or of 1024; write 512M or 512MiB"),
    ("1 TB", "'1 TB' is ambiguous"),
    ("1024KB", "'1024KB' is ambiguous"),
    ("2P", "'2P' has an unknown unit 'P'"),
    ("20 GiBs", "'20 GiBs' has an unknown unit 'GiBs'"),
    ("4096 bytes", "'4096 bytes' has an unknown unit 'bytes'"),
    ("1.1G", "'1.1G' is not a whole number of MiB (1126.4 MiB)"),
    ("0.5M", "'0.5M' is not a whole number of MiB (0.5 MiB)"),
    ("1000K", "'1000K' is not a whole number of MiB (0.9765625 MiB)"),
    ("1234567890123456789012345678901.5M", "'1234567890123456789012345678901.5M' is not a whole number of MiB"),
    (1.5, "1.5 is not a whole number of MiB"),
    (float("nan"), "nan is not a size"),
    (float("inf"), "inf is not a size"),
    (True, "True is a boolean, not a size"),
    (False, "False is a boolean, not a size"),
    (None, "None (NoneType) is not a size"),
    ([20], "[20] (list) is not a size"),
])
def test_parse_size_refuses_bad_sizes_naming_the_value_and_the_accepted_forms(value, says):
    error = refused(parse_size, value, "fits.disk")
    assert error.option == "fits.disk"
    assert str(error).startswith("fits.disk: " + says), str(error)
    assert str(error).endswith(ACCEPTED_SIZES)


def test_the_accepted_forms_are_spelled_out():
    assert ACCEPTED_SIZES == ("a whole number of MiB above 0 (e.g. 20480) or a number with a binary unit K/KiB, M/MiB, "
                              "G/GiB or T/TiB (e.g. 512M, 20 GiB, 1.5G)")


def test_zero_is_only_accepted_when_asked_for():
    assert parse_size("0G", allow_zero=True) == 0


# --- parse_size: properties --------------------------------------------------------------------

UNIT_MIB = {"": 1, "m": 1, "mib": 1, "mi": 1, "g": 1024, "gib": 1024, "gi": 1024, "t": 1024 ** 2, "tib": 1024 ** 2,
            "ti": 1024 ** 2}
UNIT_KIB = dict({"k": 1, "kib": 1, "ki": 1}, **{unit: mib * 1024 for unit, mib in UNIT_MIB.items()})
STRICT = re.compile(r"^(?P<number>[0-9]+(\.[0-9]+)?)\s*(?P<unit>k|kib|ki|m|mib|mi|g|gib|gi|t|tib|ti)?$", re.IGNORECASE)


@given(st.integers(min_value=1, max_value=10 ** 12), st.sampled_from(sorted(UNIT_MIB)),
       st.sampled_from(["", " ", "  "]), st.sampled_from([str.lower, str.upper, lambda u: u[:1].upper() + u[1:]]))
def test_a_whole_number_of_any_unit_round_trips(number, unit, space, case):
    text = "%d%s%s" % (number, space if unit else "", case(unit))
    assert parse_size(text) == number * UNIT_MIB[unit]


@given(st.integers(min_value=1, max_value=10 ** 9))
def test_kib_round_trip_when_whole_mib(mib):
    assert parse_size("%dK" % (mib * 1024)) == mib
    assert parse_size("%d KiB" % (mib * 1024)) == mib


@given(st.integers(min_value=1, max_value=10 ** 6), st.sampled_from([("G", 1024), ("T", 1024 ** 2)]))
def test_decimal_sizes_that_give_whole_mib_round_trip(mib, unit):
    # mib / factor written as a decimal: exact, since the factor is a power of two.
    letter, factor = unit
    text = format(Decimal(mib) / factor, "f")
    assert parse_size(text + letter) == mib


@given(st.integers(min_value=1, max_value=10 ** 6), st.integers(min_value=1, max_value=1023))
def test_a_size_that_is_not_whole_mib_is_refused(mib, extra_kib):
    with pytest.raises(WaldurConfigError, match="is not a whole number of MiB"):
        parse_size("%dK" % (mib * 1024 + extra_kib))


@given(st.integers(min_value=1, max_value=10 ** 9))
def test_format_size_and_parse_size_agree(mib):
    shown = format_size(mib)
    assert parse_size(shown.split(" (")[0]) == mib
    if " (" in shown:
        assert parse_size(shown.split(" (")[1].rstrip(")")) == mib


@settings(max_examples=400)
@given(st.one_of(st.text(), st.text(alphabet="0123456789.-+ kKmMgGtTiIbB,eE_", max_size=12)))
def test_parse_size_never_accepts_garbage(text):
    try:
        mib = parse_size(text)
    except WaldurConfigError as error:
        assert str(error).startswith("size: ")
        return
    # Whatever is accepted is a plain decimal with a known binary unit, and means what it says.
    match = STRICT.match(text.strip())
    assert match, text
    kib = UNIT_KIB[(match.group("unit") or "").lower()]
    assert isinstance(mib, int) and mib >= 1
    assert Decimal(mib) * 1024 == Decimal(match.group("number")) * kib


# --- the fit rule --------------------------------------------------------------------------------

@pytest.mark.parametrize("min_disk, min_ram, fits", [
    (0, 0, True),               # no requirement fits every flavor
    (0, 4096, True),
    (20480, 0, True),
    (20480, 4096, True),        # equal to the flavor fits
    (20481, 4096, False),       # one MiB over does not
    (20480, 4097, False),
    (20481, 4097, False),
    (1, 1, True),
])
def test_an_image_fits_when_each_requirement_is_at_most_the_flavor(min_disk, min_ram, fits):
    assert FLAVOR.admits(image("x", min_disk, min_ram)) is fits


def test_a_dimension_not_given_is_not_checked_and_need_not_be_in_the_image():
    assert Limits(disk=10, ram=None).admits({"name": "x", "min_disk": 10}) is True
    assert Limits(disk=None, ram=999999).admits({"name": "x", "min_ram": 999999}) is True
    assert Limits(disk=None, ram=10).admits({"name": "x", "min_ram": 11}) is False


@given(st.integers(0, 10 ** 6), st.integers(0, 10 ** 6), st.integers(1, 10 ** 6), st.integers(1, 10 ** 6))
def test_the_fit_rule_is_min_disk_at_most_disk_and_min_ram_at_most_ram(min_disk, min_ram, disk, ram):
    assert Limits(disk, ram).admits(image("x", min_disk, min_ram)) == (min_disk <= disk and min_ram <= ram)


# --- fits as given by users ------------------------------------------------------------------------

def test_parse_fits_reads_either_or_both_sizes():
    assert parse_fits(None) is None
    assert parse_fits({"disk": "20G", "ram": 4096}) == Limits(20480, 4096)
    assert parse_fits({"disk": "20G"}) == Limits(20480, None)
    assert parse_fits({"ram": "4 GiB", "disk": None}) == Limits(None, 4096)
    assert str(parse_fits({"disk": "20G", "ram": 1000})) == "disk 20480 MiB (20 GiB) and ram 1000 MiB"


@pytest.mark.parametrize("fits, option, message", [
    ({"dsik": "20G"}, "fits", "fits: unknown key 'dsik' (did you mean disk?); fits takes disk and ram (a flavor's size), "
                              "or flavor and disk (a flavor, and the size of the volume the instance boots from)"),
    ({"flavour": "m1.small"}, "fits", "fits: unknown key 'flavour' (did you mean flavor?); fits takes disk and ram"),
    ({"disk": "1G", "cpu": 2, "Ram": 1}, "fits", "fits: unknown keys 'Ram' (did you mean ram?), 'cpu'; fits takes disk and "
                                                 "ram"),
    ({"flavor": "m1.small", "dsk": 2}, "fits", "fits: unknown key 'dsk' (did you mean disk?); with flavor, fits takes "
                                               "flavor and disk"),
    ({}, "fits", "fits: neither disk nor ram is given; give one or both, e.g. disk 20G and ram 4G"),
    ({"disk": None, "ram": None}, "fits", "fits: neither disk nor ram is given"),
    ("20G", "fits", "fits: '20G' is not a dictionary; give disk, ram or both, e.g. {disk: 20G, ram: 4G}"),
    ({"disk": "20GB"}, "fits.disk", "fits.disk: '20GB' is ambiguous"),
    ({"ram": "-4G"}, "fits.ram", "fits.ram: '-4G' is negative"),
    ({"disk": "0G"}, "fits.disk", "fits.disk: '0G' is zero; a flavor with a disk of 0 boots from a volume and nova does "
                                  "not check min_disk for it: leave fits.disk out to keep images of any min_disk. Give a "
                                  "whole number of MiB above 0"),
    ({"ram": 0}, "fits.ram", "fits.ram: 0 is zero; no flavor has 0 RAM. Give a whole number of MiB above 0"),
])
def test_bad_fits_are_refused_naming_the_key(fits, option, message):
    error = refused(parse_fits, fits)
    assert error.option == option
    assert str(error).startswith(message), str(error)


def test_size_limits_names_the_arguments_of_a_front_without_fits():
    error = refused(size_limits, None, None, option="arguments")
    assert str(error) == "arguments: neither disk nor ram is given; give one or both, e.g. disk 20G and ram 4G"
    assert refused(size_limits, "1x", None).option == "disk"


# --- selection and order -------------------------------------------------------------------------

SERVER_ORDER = [
    image("alpine-3.19", 512, 256, "a" * 32),
    image("debian-12", 20480, 1024, "b" * 32),
    image("debian-9", 10240, 4096, "c" * 32),
    image("ubuntu-22.04", 20480, 2048, "e" * 32),
    image("ubuntu-22.04", 20480, 2048, "d" * 32),     # the same image in another cloud
    image("ubuntu-24.04", 20481, 4096, "f" * 32),     # one MiB over the flavor's disk
    image("Ubuntu-24.10", 10240, 4097, "1" * 32),     # one MiB over the flavor's RAM
    image("windows", 40960, 8192, "2" * 32),
]


def test_without_sort_by_the_given_order_is_kept():
    assert names(select_images(SERVER_ORDER, FITS)) == ["alpine-3.19", "debian-12", "debian-9", "ubuntu-22.04", "ubuntu-22.04"]
    assert select_images(SERVER_ORDER) == SERVER_ORDER


def test_nothing_fits_is_an_empty_list():
    assert select_images(SERVER_ORDER, Limits(disk=100, ram=None).admits) == []
    assert select_images([], FITS, sort_by="name") == []


@pytest.mark.parametrize("sort_by, order, expected", [
    ("name", "asc", ["alpine-3.19", "debian-12", "debian-9", "ubuntu-22.04:d", "ubuntu-22.04:e"]),
    ("name", "desc", ["ubuntu-22.04:d", "ubuntu-22.04:e", "debian-9", "debian-12", "alpine-3.19"]),
    ("version", "asc", ["alpine-3.19", "debian-9", "debian-12", "ubuntu-22.04:d", "ubuntu-22.04:e"]),
    ("version", "desc", ["ubuntu-22.04:d", "ubuntu-22.04:e", "debian-12", "debian-9", "alpine-3.19"]),
    ("min_disk", "asc", ["alpine-3.19", "debian-9", "debian-12", "ubuntu-22.04:d", "ubuntu-22.04:e"]),
    ("min_disk", "desc", ["debian-12", "ubuntu-22.04:d", "ubuntu-22.04:e", "debian-9", "alpine-3.19"]),
    ("min_ram", "asc", ["alpine-3.19", "debian-12", "ubuntu-22.04:d", "ubuntu-22.04:e", "debian-9"]),
    ("min_ram", "desc", ["debian-9", "ubuntu-22.04:d", "ubuntu-22.04:e", "debian-12", "alpine-3.19"]),
])
def test_sorting_orders_by_the_key_and_breaks_ties_by_name_then_uuid_ascending(sort_by, order, expected):
    chosen = select_images(SERVER_ORDER, FITS, sort_by=sort_by, order=order)
    shown = [row["name"] + (":" + row["uuid"][0] if row["name"] == "ubuntu-22.04" else "") for row in chosen]
    assert shown == expected


def test_version_order_compares_numbers_and_ignores_case():
    ordered = sorted(["ubuntu-9.10", "Ubuntu-24.04", "ubuntu-22.04", "ubuntu-22.04.1", "ubuntu", "debian-12", "debian-9"],
                     key=version_key)
    assert ordered == ["debian-9", "debian-12", "ubuntu", "ubuntu-9.10", "ubuntu-22.04", "ubuntu-22.04.1", "Ubuntu-24.04"]


def test_the_newest_by_name_is_version_descending():
    rows = [image("ubuntu-9.04"), image("ubuntu-22.04"), image("Ubuntu-24.04"), image("ubuntu-20.04")]
    assert names(select_images(rows, sort_by="version", order="desc", limit=1)) == ["Ubuntu-24.04"]
    # Code point order would have put the lower-case names last and 9 after 24.
    assert names(select_images(rows, sort_by="name", order="desc", limit=1)) == ["ubuntu-9.04"]


def test_the_largest_requirement_that_still_fits_is_first_with_min_disk_descending():
    assert names(select_images(SERVER_ORDER, FITS, sort_by="min_disk", order="desc", limit=1)) == ["debian-12"]


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "B", "a-2", "a-10"]), st.integers(0, 3), st.integers(0, 3),
                          st.integers(0, 99).map("%032x".__mod__)), max_size=12, unique_by=lambda row: row[3]),
       st.sampled_from(["name", "version", "min_disk", "min_ram"]), st.sampled_from(["asc", "desc"]), st.randoms())
def test_sorting_does_not_depend_on_the_input_order(rows, sort_by, order, rng):
    images = [image(name, disk, ram, uuid) for name, disk, ram, uuid in rows]
    shuffled = list(images)
    rng.shuffle(shuffled)
    assert select_images(shuffled, sort_by=sort_by, order=order) == select_images(images, sort_by=sort_by, order=order)


def test_limit_cuts_after_fits_and_sorting():
    assert names(select_images(SERVER_ORDER, FITS, sort_by="min_ram", order="desc", limit=2)) == ["debian-9", "ubuntu-22.04"]
    assert len(select_images(SERVER_ORDER, limit=100)) == len(SERVER_ORDER)


@pytest.mark.parametrize("arguments, message", [
    ({"sort_by": "size"}, "sort_by: 'size' is not one of name, version, min_disk, min_ram"),
    ({"order": "descending"}, "order: 'descending' is not one of asc, desc"),
    ({"limit": 0}, "limit: 0 must be a whole number of at least 1"),
    ({"limit": True}, "limit: True must be a whole number of at least 1"),
])
def test_bad_order_options_are_refused(arguments, message):
    assert str(refused(check_selection, **arguments)) == message


# --- malformed image lists -----------------------------------------------------------------------

@pytest.mark.parametrize("images, arguments, message", [
    ([image("a"), {"name": "b", "min_ram": 0}], {"keep": FITS},
     "images[1]: the image 'b' has no min_disk; give image dicts with min_disk and min_ram in MiB, as "
     "waldur.cloud.openstack_image_info returns them"),
    ([{"min_disk": 0}], {"keep": FITS}, "images[0]: the image without a name has no min_ram"),
    ([image("a", min_disk="2048")], {"keep": FITS},
     "images[0]: the image 'a' has min_disk '2048', which is not a whole number of MiB (0 or more)"),
    ([image("a", min_ram=-1)], {"keep": FITS}, "images[0]: the image 'a' has min_ram -1, which is not a whole number"),
    ([image("a", min_ram=None)], {"keep": FITS}, "images[0]: the image 'a' has min_ram None"),
    ([image("a", min_disk=True)], {"keep": FITS}, "images[0]: the image 'a' has min_disk True"),
    ([image("a"), "ubuntu"], {"keep": FITS}, "images[1]: is a str ('ubuntu'), not an image dict"),
    ({"images": [], "changed": False}, {"keep": FITS},
     "images: is a dict, not a list of image dicts; pass its images list, e.g. result.images"),
    ("ubuntu", {"keep": FITS}, "images: 'ubuntu' is not a list of image dicts"),
    (None, {"keep": FITS}, "images: None is not a list of image dicts"),
    ([{"min_disk": 1, "min_ram": 1}], {"sort_by": "name"}, "images[0]: the image has no name to sort by (name is None)"),
    ([{"name": "a"}], {"sort_by": "min_ram"}, "images[0]: the image 'a' has no min_ram"),
])
def test_malformed_images_are_errors_naming_the_item(images, arguments, message):
    assert str(refused(select_images, images, **arguments)).startswith(message)


def test_a_malformed_image_is_reported_even_when_an_earlier_requirement_fails():
    rows = [image("a"), {"name": "b", "min_disk": 999999999}]
    assert str(refused(select_images, rows, FITS)).startswith("images[1]: the image 'b' has no min_ram")


def test_only_the_fields_in_use_are_required():
    rows = [{"name": "b", "min_ram": 10}, {"name": "a", "min_ram": 5}]
    assert names(select_images(rows, Limits(None, 10).admits, sort_by="name")) == ["a", "b"]


def test_tuples_and_generators_of_images_are_accepted():
    rows = (row for row in SERVER_ORDER[:3])
    assert names(select_images(rows, FITS)) == ["alpine-3.19", "debian-12", "debian-9"]


def test_why_not_names_each_limit_an_image_breaks_with_its_own_figures():
    rule = Fit.parse({"disk": "20G", "ram": "4G"}).resolved()
    assert rule.why_not(image("a", 20480, 4096)) is None
    assert rule.why_not(image("a", 30720, 4096)) == "min_disk 30720 MiB (30 GiB) is above fits.disk, 20480 MiB (20 GiB)"
    assert rule.why_not(image("a", 30720, 5000)) == ("min_disk 30720 MiB (30 GiB) is above fits.disk, 20480 MiB (20 GiB) "
                                                     "and min_ram 5000 MiB is above fits.ram, 4096 MiB (4 GiB)")


def test_why_not_of_the_flavor_form_names_the_flavor_and_the_system_volume():
    flavor = {"name": "m1.small", "ram": 2048}
    rule = Fit.parse({"flavor": flavor, "disk": "10G"}).resolved(flavor)
    assert rule.why_not(image("a", 20480, 4096)) == (
        "min_disk 20480 MiB (20 GiB) is above the system volume (fits.disk), 10240 MiB (10 GiB) and min_ram 4096 MiB (4 GiB) "
        "is above the RAM of flavor 'm1.small', 2048 MiB (2 GiB)")


def test_the_closest_misses_come_first_fewest_limits_then_fewest_mib():
    rule = Fit.parse({"disk": "20G", "ram": "4G"}).resolved()
    rows = [image("both", 20481, 4097), image("ram-far", 0, 8192), image("fits", 0, 0), image("disk-near", 20481, 0)]
    assert rule.closest_misses(rows, 2) == [
        "disk-near (uuid %s): min_disk 20481 MiB is above fits.disk, 20480 MiB (20 GiB)" % rows[3]["uuid"],
        "ram-far (uuid %s): min_ram 8192 MiB (8 GiB) is above fits.ram, 4096 MiB (4 GiB)" % rows[1]["uuid"]]


def test_format_size_shows_the_largest_whole_binary_unit():
    assert [format_size(n) for n in (1, 1024, 1536, 1048576)] == [
        "1 MiB", "1024 MiB (1 GiB)", "1536 MiB", "1048576 MiB (1 TiB)"]


def test_the_image_order_is_not_changed_in_place():
    rows = list(SERVER_ORDER)
    random.Random(3).shuffle(rows)
    before = list(rows)
    select_images(rows, FITS, sort_by="name")
    assert rows == before
