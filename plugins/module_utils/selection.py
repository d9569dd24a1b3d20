# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ordering and limits, of images and of flavors, in one place: the lists checked, the keys read, one tie-break.

Pure Python. What is kept is decided by the caller (the fit rule, fit.py); ties are always broken
ascending by fields that tell every item apart, so a result never depends on the order the items
came in. Bad input raises WaldurConfigError(option, message); each front reports it in its own way.
"""

from __future__ import annotations

import re

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError

IMAGE_SORT_KEYS = ("name", "version", "min_disk", "min_ram")
FLAVOR_SORT_KEYS = ("name", "cores", "ram", "disk")
ORDERS = ("asc", "desc")
_DIGITS = re.compile(r"([0-9]+)")
# Every field that can differ, the uuid last, so no two items are ever equal.
IMAGE_TIES = (("name", "uuid"), ())
FLAVOR_TIES = (("name", "settings", "uuid"), ("ram", "cores", "disk"))


def version_key(name):
    """Version order of a name: runs of digits compare as numbers and letter case is ignored.

    ``debian-9`` < ``debian-12`` and ``ubuntu-22.04`` < ``Ubuntu-24.04``.
    """
    parts = _DIGITS.split(name.casefold())
    return [int(part) if position % 2 else part for position, part in enumerate(parts)]


def check_choice(option, value, choices):
    """Refuse a value of ``option`` that is not one of ``choices``."""
    if value not in choices:
        raise WaldurConfigError(option, "%r is not one of %s" % (value, ", ".join(choices)))


def check_selection(sort_by=None, order="asc", limit=None, sort_keys=IMAGE_SORT_KEYS):
    """Refuse an unknown sort_by or order, or a bad limit, before anything is listed."""
    if sort_by is not None:
        check_choice("sort_by", sort_by, sort_keys)
    check_choice("order", order, ORDERS)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise WaldurConfigError("limit", "%r must be a whole number of at least 1" % (limit,))


def checked_images(images, where):
    """``images`` as a list of dicts; anything else is an error naming the offending item."""
    if isinstance(images, dict):
        hint = "; pass its images list, e.g. result.images" if "images" in images else ""
        raise WaldurConfigError(where, "is a dict, not a list of image dicts%s" % hint)
    if isinstance(images, (str, bytes)) or not hasattr(images, "__iter__"):
        raise WaldurConfigError(where, "%r is not a list of image dicts" % (images,))
    images = list(images)
    for index, image in enumerate(images):
        if not isinstance(image, dict):
            raise WaldurConfigError("%s[%d]" % (where, index), "is a %s (%r), not an image dict" % (type(image).__name__, image))
    return images


def requirement(image, field, index=0, where="images"):
    """An image's min_disk or min_ram, which must be a whole number of MiB, 0 or more."""
    if field not in image:
        raise WaldurConfigError("%s[%d]" % (where, index), "the image %s has no %s; give image dicts with min_disk and "
                                "min_ram in MiB, as waldur.cloud.openstack_image_info returns them" % (
                                    _image_label(image), field))
    value = image[field]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise WaldurConfigError("%s[%d]" % (where, index), "the image %s has %s %r, which is not a whole number of MiB "
                                "(0 or more)" % (_image_label(image), field, value))
    return value


def _image_label(image):
    name = image.get("name")
    return repr(name) if name is not None else "without a name"


def sort_key(image, sort_by, index=0, where="images"):
    """What ``image`` is ordered by for ``sort_by``; an image without that field is an error."""
    if sort_by in ("min_disk", "min_ram"):
        return requirement(image, sort_by, index, where)
    name = image.get("name")
    if not isinstance(name, str):
        raise WaldurConfigError("%s[%d]" % (where, index), "the image has no name to sort by (name is %r)" % (name,))
    return version_key(name) if sort_by == "version" else name


def flavor_sort_key(flavor, sort_by):
    """The key ``sort_by`` orders flavors by; a flavor without that field is an error."""
    value = flavor.get(sort_by)
    expected = str if sort_by == "name" else int
    if isinstance(value, bool) or not isinstance(value, expected):
        raise WaldurConfigError("sort_by", "the flavor %s has %s %r, which cannot be sorted" % (
            flavor.get("uuid"), sort_by, value))
    return value


def tie_break(ties):
    """A key of ``ties`` (text fields, number fields) that never fails: a missing text is "", a missing number 0."""
    texts, numbers = ties

    def key(item):
        return (tuple(item.get(field) or 0 for field in numbers)
                + tuple(item.get(field) if isinstance(item.get(field), str) else "" for field in texts))
    return key


def sort_keyed(pairs, order, ties):
    """``(key, item)`` pairs ordered by key, ``order`` applying to it only: equal keys stay in ``ties`` order,
    ascending, so a result never depends on the order the items came in."""
    tie_key = tie_break(ties)
    pairs = sorted(pairs, key=lambda pair: tie_key(pair[1]))
    # A stable sort keeps the tie-break order among equal keys, with reverse=True too.
    pairs.sort(key=lambda pair: pair[0], reverse=order == "desc")
    return pairs


def select_images(images, keep=None, sort_by=None, order="asc", limit=None, where="images"):
    """The images ``keep(image, index, where)`` keeps (all, when None), in the given order or sorted, at most ``limit``.

    Without ``sort_by`` the order is kept (the server's: by name). With it, ``order`` applies to
    that key only; ties are always broken by name, then uuid, ascending. Every image is checked, so
    a malformed one is reported even when it would not be chosen; ``where`` names the list in such
    errors. Each front checks ``sort_by``, ``order`` and ``limit`` first (check_selection), before
    anything is listed.
    """
    images = checked_images(images, where)
    chosen = []
    for index, image in enumerate(images):
        key = sort_key(image, sort_by, index, where) if sort_by is not None else None
        if keep is None or keep(image, index, where):
            chosen.append((key, image))
    if sort_by is not None:
        chosen = sort_keyed(chosen, order, IMAGE_TIES)
    result = [image for _key, image in chosen]
    return result[:limit] if limit is not None else result


def order_flavors(flavors, sort_by=None, order="asc", limit=None):
    """``flavors`` ordered by ``sort_by`` (ties: ram, cores, disk, name, settings, uuid, ascending), at most ``limit``.

    Without ``sort_by`` the server's order is kept. The front checks the options first (check_selection with
    FLAVOR_SORT_KEYS)."""
    result = list(flavors)
    if sort_by is not None:
        keyed = sort_keyed([(flavor_sort_key(flavor, sort_by), flavor) for flavor in result], order, FLAVOR_TIES)
        result = [flavor for _key, flavor in keyed]
    return result[:limit] if limit is not None else result
