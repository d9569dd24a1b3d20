"""The waldur.cloud.fitting_images filter, called as Jinja calls it."""
from __future__ import annotations

import pytest

from ansible.errors import AnsibleError, AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import filter_loader
from ansible.template import Templar

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19: every template string is trusted
    def trust_as_template(text):
        return text

IMAGES = [
    {"uuid": "1" * 32, "name": "cirros", "min_disk": 0, "min_ram": 0},
    {"uuid": "2" * 32, "name": "debian-12", "min_disk": 20480, "min_ram": 1024},
    {"uuid": "3" * 32, "name": "debian-9", "min_disk": 20481, "min_ram": 1024},
    {"uuid": "4" * 32, "name": "ubuntu-22.04", "min_disk": 10240, "min_ram": 4096},
    {"uuid": "5" * 32, "name": "ubuntu-24.04", "min_disk": 10240, "min_ram": 4097},
]


@pytest.fixture(name="fitting_images")
def fixture_fitting_images():
    return filter_loader.get("waldur.cloud.fitting_images").j2_function


def render(expression, **variables):
    templar = Templar(loader=DataLoader(), variables=dict({"images": IMAGES}, **variables))
    return templar.template(trust_as_template("{{ %s }}" % expression))


def names(images):
    return [image["name"] for image in images]


def test_the_filter_is_found_by_its_collection_name(fitting_images):
    assert fitting_images.__name__ == "fitting_images"


def test_images_at_the_flavor_size_fit_and_one_mib_more_does_not(fitting_images):
    assert names(fitting_images(IMAGES, disk="20G", ram="4G")) == ["cirros", "debian-12", "ubuntu-22.04"]
    assert names(fitting_images(IMAGES, disk=20480, ram=4096)) == ["cirros", "debian-12", "ubuntu-22.04"]


def test_only_the_given_dimension_is_checked(fitting_images):
    assert names(fitting_images(IMAGES, disk="20 GiB")) == ["cirros", "debian-12", "ubuntu-22.04", "ubuntu-24.04"]
    assert names(fitting_images(IMAGES, ram="1024M")) == ["cirros", "debian-12", "debian-9"]


def test_the_images_are_returned_unchanged(fitting_images):
    assert fitting_images(IMAGES, disk="1T") == IMAGES


def test_nothing_fits_gives_an_empty_list(fitting_images):
    assert fitting_images(IMAGES[1:], disk="1G", ram="1G") == []
    assert fitting_images([], disk="1G") == []


def test_sort_by_and_order_in_a_template():
    assert names(render("images | waldur.cloud.fitting_images(disk='20G', ram='4G', sort_by='min_disk', order='desc')")) == [
        "debian-12", "ubuntu-22.04", "cirros"]
    assert render("images | waldur.cloud.fitting_images(ram='8G', sort_by='version', order='desc') | map(attribute='name') | first") == (
        "ubuntu-24.04")
    assert names(render("images | waldur.cloud.fitting_images(disk=flavor.disk, ram=flavor.ram, sort_by='name')",
                        flavor={"disk": 20480, "ram": 1024})) == ["cirros", "debian-12"]


def test_a_selectattr_generator_is_accepted():
    assert names(render("images | selectattr('min_ram', 'le', 1024) | waldur.cloud.fitting_images(disk='20G')")) == [
        "cirros", "debian-12"]


@pytest.mark.parametrize("arguments, message", [
    ({"disk": "20GB"}, "fitting_images: disk: '20GB' is ambiguous: GB may mean powers of 1000 or of 1024; write 20G or "
                       "20GiB for binary units"),
    ({"ram": "-1G"}, "fitting_images: ram: '-1G' is negative; give a whole number of MiB above 0"),
    ({"disk": "0G"}, "fitting_images: disk: '0G' is zero; a flavor with a disk of 0 boots from a volume"),
    ({"disk": "lots"}, "fitting_images: disk: 'lots' is not a size; give a whole number of MiB above 0 (e.g. 20480) or a "
                       "number with a binary unit K/KiB, M/MiB, G/GiB or T/TiB (e.g. 512M, 20 GiB, 1.5G)"),
    ({"disk": "1.5.2G"}, "fitting_images: disk: '1.5.2G' is not a size"),
    ({"ram": "4 GB"}, "fitting_images: ram: '4 GB' is ambiguous"),
    ({"ram": "4X"}, "fitting_images: ram: '4X' has an unknown unit 'X'"),
    ({"ram": True}, "fitting_images: ram: True is a boolean, not a size"),
    ({}, "fitting_images: arguments: neither disk nor ram is given; give one or both, e.g. disk 20G and ram 4G"),
    ({"disk": "1G", "sort_by": "size"}, "fitting_images: sort_by: 'size' is not one of name, version, min_disk, min_ram"),
    ({"disk": "1G", "order": "down"}, "fitting_images: order: 'down' is not one of asc, desc"),
    ({"disk": "1G", "dsik": "1G"}, "fitting_images: unknown argument 'dsik' (did you mean disk?); the filter takes disk and "
                                   "ram (a flavor's size), or flavor and disk (a flavor, and the size of the volume the "
                                   "instance boots from), and sort_by and order; see ansible-doc -t filter "
                                   "waldur.cloud.fitting_images"),
    ({"flavour": {"name": "m1.small", "ram": 2048}}, "fitting_images: unknown argument 'flavour' (did you mean flavor?); "
                                                     "the filter takes disk and ram (a flavor's size), or flavor and disk"),
    ({"disk": "1G", "fits": {}, "limit": 1}, "fitting_images: unknown arguments 'fits', 'limit'; the filter takes "),
])
def test_bad_arguments_are_filter_errors_naming_the_value(fitting_images, arguments, message):
    with pytest.raises(AnsibleFilterError) as error:
        fitting_images(IMAGES, **arguments)
    assert str(error.value).startswith(message), str(error.value)


@pytest.mark.parametrize("images, message", [
    ([{"name": "x", "min_ram": 0}], "fitting_images: images[0]: the image 'x' has no min_disk; give image dicts with "
                                    "min_disk and min_ram in MiB, as waldur.cloud.openstack_image_info returns them"),
    (IMAGES + [{"name": "y", "min_disk": 0}], "fitting_images: images[5]: the image 'y' has no min_ram"),
    ([{"name": "x", "min_disk": "10G", "min_ram": 0}], "fitting_images: images[0]: the image 'x' has min_disk '10G', "
                                                       "which is not a whole number of MiB (0 or more)"),
    (["ubuntu"], "fitting_images: images[0]: is a str ('ubuntu'), not an image dict"),
    ({"images": IMAGES, "changed": False}, "fitting_images: images: is a dict, not a list of image dicts; pass its images "
                                           "list, e.g. result.images"),
])
def test_malformed_image_lists_are_filter_errors_naming_the_item(fitting_images, images, message):
    with pytest.raises(AnsibleFilterError) as error:
        fitting_images(images, disk="20G", ram="4G")
    assert str(error.value) == message or str(error.value).startswith(message), str(error.value)


def test_a_registered_result_instead_of_its_images_is_a_clear_template_error():
    with pytest.raises(AnsibleError, match="pass its images list, e.g. result.images"):
        render("result | waldur.cloud.fitting_images(disk='1G')", result={"images": IMAGES, "changed": False})
