# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Choosing images for a flavor: the one size parser, the one fit rule, the one image order.

Pure Python, shared by the openstack_image_info module, the fitting_images filter and the
openstack_image lookup. Bad input raises WaldurConfigError(option, message); each front
reports it in its own way.

Sizes are in MiB, as Waldur reports min_disk and min_ram:

* a bare whole number (``20480``, ``"20480"``) is MiB;
* a number with a binary unit, in any case, with or without a space: ``K``/``KiB``,
  ``M``/``MiB``, ``G``/``GiB``, ``T``/``TiB``, also ``Ki``, ``Mi``, ``Gi``, ``Ti`` as Kubernetes
  writes them (``512M``, ``20 GiB``, ``1.5g``, ``4Gi``); the result must be a whole number of MiB;
* ``KB``, ``MB``, ``GB``, ``TB`` are refused as ambiguous (powers of 1000 or 1024?);
* 0, negative numbers, booleans, fractions of a MiB and anything else are refused.

An image fits a flavor when ``min_disk <= disk`` and ``min_ram <= ram``; a dimension that is
not given is not checked.
"""

from __future__ import annotations

import math
import re
from collections import namedtuple
from decimal import Decimal, Inexact, localcontext

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError

ACCEPTED_SIZES = ("a whole number of MiB above 0 (e.g. 20480) or a number with a binary unit K/KiB, M/MiB, G/GiB "
                  "or T/TiB (e.g. 512M, 20 GiB, 1.5G)")

# KiB in one unit (K, KiB and Ki all mean the binary unit); the result is KiB / 1024 and must be whole.
_UNITS_KIB = {unit: 1024 ** power for power, letter in enumerate("kmgt") for unit in (letter, letter + "ib", letter + "i")}
_AMBIGUOUS_UNITS = {"kb": "K", "mb": "M", "gb": "G", "tb": "T"}
_SIZE = re.compile(r"^(?P<number>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[A-Za-z]*)$")

FIT_KEYS = ("disk", "ram")
# The image field each dimension of a flavor is compared with.
REQUIREMENT_OF = {"disk": "min_disk", "ram": "min_ram"}
IMAGE_SORT_KEYS = ("name", "version", "min_disk", "min_ram")
ORDERS = ("asc", "desc")
_DIGITS = re.compile(r"([0-9]+)")


def parse_size(value, option="size", allow_zero=False):
    """A size in whole MiB from an int or a string such as ``"20480"``, ``"512M"`` or ``"20 GiB"``."""
    if isinstance(value, bool):
        raise WaldurConfigError(option, "%r is a boolean, not a size; give %s" % (value, ACCEPTED_SIZES))
    if isinstance(value, int):
        mib = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise WaldurConfigError(option, "%r is not a size; give %s" % (value, ACCEPTED_SIZES))
        if value != int(value):
            raise WaldurConfigError(option, "%r is not a whole number of MiB; give %s" % (value, ACCEPTED_SIZES))
        mib = int(value)
    elif isinstance(value, str):
        mib = _parse_size_text(value, option)
    else:
        raise WaldurConfigError(option, "%r (%s) is not a size; give %s" % (value, type(value).__name__, ACCEPTED_SIZES))
    if mib < 0:
        raise WaldurConfigError(option, "%r is negative; give %s" % (value, ACCEPTED_SIZES))
    if mib == 0 and not allow_zero:
        raise WaldurConfigError(option, "%r is zero; give %s" % (value, ACCEPTED_SIZES))
    return mib


def _parse_size_text(value, option):
    text = value.strip()
    match = _SIZE.match(text)
    if match is None:
        if text.startswith("-") and _SIZE.match(text[1:].lstrip()):
            raise WaldurConfigError(option, "%r is negative; give %s" % (value, ACCEPTED_SIZES))
        raise WaldurConfigError(option, "%r is not a size; give %s" % (value, ACCEPTED_SIZES))
    unit = match.group("unit")
    lowered = unit.lower()
    if not unit:
        factor = 1024
    elif lowered in _UNITS_KIB:
        factor = _UNITS_KIB[lowered]
    elif lowered in _AMBIGUOUS_UNITS:
        binary = _AMBIGUOUS_UNITS[lowered]
        raise WaldurConfigError(option, "%r is ambiguous: %s may mean powers of 1000 or of 1024; write %s%s or %s%siB for "
                                        "binary units (as Waldur and OpenStack count), or give %s" % (
                                            value, unit, match.group("number"), binary, match.group("number"), binary,
                                            ACCEPTED_SIZES))
    else:
        raise WaldurConfigError(option, "%r has an unknown unit %r; give %s" % (value, unit, ACCEPTED_SIZES))
    with localcontext() as context:
        # Exact: the unit adds at most 13 digits and dividing by 1024 at most 10 decimals.
        context.prec = len(text) + 30
        context.traps[Inexact] = True
        mib = Decimal(match.group("number")) * factor / 1024
        if mib != mib.to_integral_value():
            raise WaldurConfigError(option, "%r is not a whole number of MiB (%s MiB); give %s" % (
                value, format(mib.normalize(), "f"), ACCEPTED_SIZES))
    return int(mib)


def format_size(mib):
    """``20480`` -> ``"20480 MiB (20 GiB)"``: MiB as Waldur counts, and the largest whole binary unit."""
    for unit, size in (("TiB", 1024 ** 2), ("GiB", 1024)):
        if mib >= size and mib % size == 0:
            return "%d MiB (%d %s)" % (mib, mib // size, unit)
    return "%d MiB" % mib


class FlavorSize(namedtuple("FlavorSize", FIT_KEYS)):
    """The disk and RAM of a flavor in MiB; None where the dimension is not checked."""

    __slots__ = ()

    def __str__(self):
        return " and ".join("%s %s" % (key, format_size(getattr(self, key))) for key in FIT_KEYS
                            if getattr(self, key) is not None)


def parse_fits(fits, option="fits"):
    """A FlavorSize from ``{"disk": ..., "ram": ...}`` (either may be left out), or None if ``fits`` is None."""
    if fits is None:
        return None
    if not isinstance(fits, dict):
        raise WaldurConfigError(option, "%r is not a dictionary; give disk, ram or both, e.g. {disk: 20G, ram: 4G}" % (fits,))
    unknown = sorted(str(key) for key in fits if key not in FIT_KEYS)
    if unknown:
        raise WaldurConfigError(option, "unknown key%s %s; %s takes disk and ram" % (
            "s" if len(unknown) > 1 else "", ", ".join(repr(key) for key in unknown), option))
    return flavor_size(fits.get("disk"), fits.get("ram"), prefix=option + ".")


def flavor_size(disk=None, ram=None, prefix="", option=None):
    """A FlavorSize from the two sizes as given (None = not checked); at least one must be given.

    ``prefix`` is put before ``disk`` and ``ram`` in error messages (``fits.``); ``option`` names
    the whole when neither is given.
    """
    if disk is None and ram is None:
        raise WaldurConfigError(option or prefix.rstrip(".") or "fits", "neither disk nor ram is given; give one or both, "
                                "e.g. disk 20G and ram 4G")
    values = {}
    for key, value in (("disk", disk), ("ram", ram)):
        if value is None:
            values[key] = None
            continue
        mib = parse_size(value, prefix + key, allow_zero=True)
        if mib == 0:
            if key == "disk":
                hint = ("a flavor with a disk of 0 boots from a volume and nova does not check min_disk for it: leave "
                        "%sdisk out to keep images of any min_disk" % prefix)
            else:
                hint = "no flavor has 0 RAM"
            raise WaldurConfigError(prefix + key, "%r is zero; %s. Give %s" % (value, hint, ACCEPTED_SIZES))
        values[key] = mib
    return FlavorSize(**values)


def _requirement(image, field, index, where):
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


def fits_flavor(image, size, index=0, where="images"):
    """Whether ``image`` boots on a flavor of ``size`` (a FlavorSize): ``min_disk <= disk`` and ``min_ram <= ram``.

    A dimension of ``size`` that is None is not checked, and the image needs no field for it.
    """
    fits = True
    # Both requirements are read even when the first already fails, so bad data never hides.
    for key in FIT_KEYS:
        limit = getattr(size, key)
        if limit is not None and _requirement(image, REQUIREMENT_OF[key], index, where) > limit:
            fits = False
    return fits


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


def check_selection(sort_by=None, order="asc", limit=None):
    """Refuse an unknown sort_by or order, or a bad limit, before anything is listed."""
    if sort_by is not None:
        check_choice("sort_by", sort_by, IMAGE_SORT_KEYS)
    check_choice("order", order, ORDERS)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise WaldurConfigError("limit", "%r must be a whole number of at least 1" % (limit,))


def sort_key(image, sort_by, index=0, where="images"):
    """What ``image`` is ordered by for ``sort_by``; an image without that field is an error."""
    if sort_by in ("min_disk", "min_ram"):
        return _requirement(image, sort_by, index, where)
    name = image.get("name")
    if not isinstance(name, str):
        raise WaldurConfigError("%s[%d]" % (where, index), "the image has no name to sort by (name is %r)" % (name,))
    return version_key(name) if sort_by == "version" else name


def _tie_break(image):
    return (_text(image.get("name")), _text(image.get("uuid")))


def _text(value):
    return value if isinstance(value, str) else ""


def select_images(images, size=None, sort_by=None, order="asc", limit=None, where="images"):
    """The images that fit ``size`` (a FlavorSize or None), in the given order or sorted, at most ``limit``.

    Without ``sort_by`` the order is kept (the server's: by name). With it, ``order`` applies to
    that key only; ties are always broken by name, then uuid, ascending, so the result does not
    depend on the order the images came in. Every image is checked, so a malformed one is
    reported even when it would not be chosen; ``where`` names the list in such errors. Each front
    checks ``sort_by``, ``order`` and ``limit`` first (check_selection), before anything is listed.
    """
    images = checked_images(images, where)
    chosen = []
    for index, image in enumerate(images):
        key = sort_key(image, sort_by, index, where) if sort_by is not None else None
        if size is None or fits_flavor(image, size, index, where):
            chosen.append((key, image))
    if sort_by is not None:
        chosen = sort_keyed(chosen, order, _tie_break)
    result = [image for _key, image in chosen]
    return result[:limit] if limit is not None else result


def sort_keyed(pairs, order, tie_break):
    """``(key, item)`` pairs ordered by key, ``order`` applying to it only: equal keys stay in ``tie_break`` order,
    ascending, so a result never depends on the order the items came in."""
    pairs = sorted(pairs, key=lambda pair: tie_break(pair[1]))
    # A stable sort keeps the tie-break order among equal keys, with reverse=True too.
    pairs.sort(key=lambda pair: pair[0], reverse=order == "desc")
    return pairs


def describe_nearest(images, size):
    """Why nothing fit: the smallest requirement among ``images`` (already selected) for each checked dimension."""
    parts = []
    for key in FIT_KEYS:
        if getattr(size, key) is not None and images:
            field = REQUIREMENT_OF[key]
            parts.append("the smallest %s among them is %s" % (field, format_size(min(image[field] for image in images))))
    return "; ".join(parts)
