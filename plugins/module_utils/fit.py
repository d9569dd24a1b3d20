# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fit rule, in one place and without I/O: sizes, which images boot with a flavor, which flavors boot an image,
and why an image does not.

Sizes are in MiB, as Waldur reports min_disk and min_ram:

* a bare whole number (``20480``, ``"20480"``) is MiB;
* a number with a binary unit, in any case, with or without a space: ``K``/``KiB``,
  ``M``/``MiB``, ``G``/``GiB``, ``T``/``TiB``, also ``Ki``, ``Mi``, ``Gi``, ``Ti`` as Kubernetes
  writes them (``512M``, ``20 GiB``, ``1.5g``, ``4Gi``); the result must be a whole number of MiB;
* ``KB``, ``MB``, ``GB``, ``TB`` are refused as ambiguous (powers of 1000 or 1024?);
* 0, negative numbers, booleans, fractions of a MiB and anything else are refused.

``fits`` has two forms, parsed once by ``Fit.parse``:

* a size, ``{disk, ram}``: an image fits when ``min_disk <= disk`` and ``min_ram <= ram``, a
  dimension not given not being checked (what nova checks for a flavor of that size);
* a flavor, ``{flavor, disk}``: Waldur's own rule for an instance order
  (``InstanceSerializer.validate``): the flavor and the image are each linked to the instance's
  tenant, ``image.min_ram <= flavor.ram`` and ``image.min_disk <= system_volume_size``. Instances
  boot from a new volume, so the flavor's own ``disk`` is never checked (``disk: 0`` is fine) and
  ``disk`` is the system volume.

What the server is asked for a fit (the flavor, the tenant, the images) is fit_queries.py's; what
is read comes back as a ``FitListing``, and ``Fit.resolved`` makes of it a ``ResolvedFit`` that
chooses the images that boot, says why one does not, and describes what was checked.
"""

from __future__ import annotations

import math
import re
from collections import namedtuple
from decimal import Decimal, Inexact, localcontext
from typing import NamedTuple, Optional

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError, close_names
from ansible_collections.waldur.cloud.plugins.module_utils.resources import settings_uuid_of
from ansible_collections.waldur.cloud.plugins.module_utils.selection import (
    checked_images,
    order_flavors,
    requirement,
    select_images,
)

ACCEPTED_SIZES = ("a whole number of MiB above 0 (e.g. 20480) or a number with a binary unit K/KiB, M/MiB, G/GiB "
                  "or T/TiB (e.g. 512M, 20 GiB, 1.5G)")

# KiB in one unit (K, KiB and Ki all mean the binary unit); the result is KiB / 1024 and must be whole.
_UNITS_KIB = {unit: 1024 ** power for power, letter in enumerate("kmgt") for unit in (letter, letter + "ib", letter + "i")}
_AMBIGUOUS_UNITS = {"kb": "K", "mb": "M", "gb": "G", "tb": "T"}
_SIZE = re.compile(r"^(?P<number>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[A-Za-z]*)$")

SIZE_KEYS = ("disk", "ram")
FLAVOR_KEYS = ("flavor", "disk")
# The image field each dimension is compared with.
REQUIREMENT_OF = {"disk": "min_disk", "ram": "min_ram"}
# The forms, as messages about a wrong key spell them out: the size form alone, and both.
SIZE_FORM = "disk and ram (a flavor's size)"
FORMS = SIZE_FORM + ", or flavor and disk (a flavor, and the size of the volume the instance boots from)"
# Waldur's system_volume_size field has this minimum.
MIN_SYSTEM_VOLUME = 1024
# How many of the images that do not fit a message names, the closest first.
CLOSEST = 3


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


class Limits(namedtuple("Limits", SIZE_KEYS)):
    """The largest min_disk and min_ram an image may have to boot, in MiB; None where the dimension is not checked.

    For the size form they are the flavor's disk and RAM; for the flavor form, the system volume and the flavor's RAM.
    """

    __slots__ = ()

    def __str__(self):
        return " and ".join("%s %s" % (key, format_size(getattr(self, key))) for key in SIZE_KEYS
                            if getattr(self, key) is not None)

    def admits(self, image, index=0, where="images"):
        """Whether ``image`` boots within these limits; the image needs no field for a dimension not checked."""
        return not self.breaches(image, index, where)

    def breaches(self, image, index=0, where="images"):
        """``[(dimension, requirement)]`` of each limit ``image`` is above. Both requirements are read even when the
        first already breaks its limit, so bad data never hides."""
        found = []
        for key in SIZE_KEYS:
            limit = getattr(self, key)
            if limit is not None:
                needed = requirement(image, REQUIREMENT_OF[key], index, where)
                if needed > limit:
                    found.append((key, needed))
        return found


def size_limits(disk=None, ram=None, prefix="", option=None):
    """The Limits of a size as given (None = not checked); at least one must be given.

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
    return Limits(**values)


def unknown_keys(option, unknown, known, takes, noun="key"):
    """The error for ``unknown`` keys of ``option``, each with the nearest of ``known`` when one is close; ``takes``
    says what is accepted (FORMS, for a fit)."""
    named = []
    for key in sorted(str(key) for key in unknown):
        close = close_names(key, known, 1)
        named.append("%r (did you mean %s?)" % (key, close[0]) if close else repr(key))
    return WaldurConfigError(option, "unknown %s%s %s; %s" % (noun, "s" if len(named) > 1 else "", ", ".join(named), takes))


class FitListing(NamedTuple):
    """What choosing images by a fit read from the server, as plain data (the lookup shares it across hosts): the
    images, and for the flavor form the flavor dict and the tenant it was checked against."""

    images: list
    flavor: Optional[dict] = None
    tenant_uuid: Optional[str] = None


class FitReport(NamedTuple):
    """What the flavor form checked and did not check, as the module returns it (``fit``)."""

    flavor: dict
    disk: Optional[int]
    tenant_uuid: Optional[str]
    checked: list
    not_checked: list


class FitResult(NamedTuple):
    """The images chosen by a fit (ordered and limited), the candidates the rule was applied to, and the rule."""

    images: list
    candidates: list
    rule: "ResolvedFit"


class Fit(namedtuple("Fit", ("size", "flavor", "system_volume", "prefix"))):
    """``fits`` as given: ``size`` (Limits) for the size form; else ``flavor`` (a name, uuid, URL or flavor dict) and
    ``system_volume`` in MiB or None. ``prefix`` is what its keys are named with (``fits.``)."""

    __slots__ = ()

    @classmethod
    def parse(cls, fits, option="fits", sizes_only=False):
        """The Fit of a ``fits`` value, or None when it is None. ``option`` names it in errors; None for a fit whose
        keys are options themselves (the filter's). ``sizes_only``: the front takes the size form alone (the
        inventory), so a wrong key is never told to be ``flavor``."""
        if fits is None:
            return None
        prefix = option + "." if option else ""
        if not isinstance(fits, dict):
            raise WaldurConfigError(option, "%r is not a dictionary; give disk, ram or both, e.g. {disk: 20G, ram: 4G}" % (
                fits,))
        known = SIZE_KEYS if sizes_only else SIZE_KEYS + FLAVOR_KEYS
        unknown = [key for key in fits if key not in known]
        if sizes_only or "flavor" not in fits:
            if unknown:
                raise unknown_keys(option, unknown, known, "%s takes %s" % (option, SIZE_FORM if sizes_only else FORMS))
            return cls(size_limits(fits.get("disk"), fits.get("ram"), prefix=prefix), None, None, prefix)
        if "ram" in fits:
            raise WaldurConfigError(prefix + "ram", "cannot be combined with %sflavor: the flavor's RAM is what Waldur "
                                                    "checks against min_ram; leave ram out" % prefix)
        if unknown:
            raise unknown_keys(option, unknown, SIZE_KEYS + FLAVOR_KEYS, "with flavor, %s takes flavor and disk (the "
                                                                         "system volume size)" % option)
        return cls(None, check_flavor(fits["flavor"], prefix + "flavor"),
                   system_volume(fits.get("disk"), prefix + "disk"), prefix)

    @classmethod
    def of_size(cls, disk=None, ram=None, option="arguments"):
        """The size form from a front whose options are the sizes themselves (the filter's)."""
        return cls(size_limits(disk, ram, option=option), None, None, "")

    def resolved(self, flavor=None, tenant_uuid=None):
        """The ResolvedFit; the flavor form needs the flavor dict, as read from the server or given as one."""
        if self.size is not None:
            return ResolvedFit(self.size, None, None, None, self.prefix)
        return ResolvedFit(Limits(disk=self.system_volume, ram=flavor["ram"]), flavor, self.system_volume, tenant_uuid,
                           self.prefix)


class ResolvedFit(namedtuple("ResolvedFit", ("limits", "flavor", "system_volume", "tenant_uuid", "prefix"))):
    """A fit ready to be asked: ``limits`` are the largest min_disk and min_ram that boot; ``flavor`` is the flavor
    dict of the flavor form (None for a size), ``system_volume`` its disk and ``tenant_uuid`` its tenant."""

    __slots__ = ()

    def images_that_boot(self, images, sort_by=None, order="asc", limit=None, where="images"):
        """The images that boot, of the flavor's service settings (an instance's tenant lives on one)."""
        keep = None if self.limits is None else self.limits.admits
        return select_images(self.candidates(images, where), keep, sort_by, order, limit, where=where)

    def candidates(self, images, where="images"):
        """The images the rule is applied to: those on the flavor's cloud."""
        images = checked_images(images, where)
        settings = settings_uuid_of(self.flavor) if self.flavor is not None else None
        return [image for image in images if settings is None or settings_uuid_of(image) == settings]

    def why_not(self, image):
        """Why ``image`` does not boot, with its own figures (``min_disk 20481 MiB is above fits.disk, 20480 MiB (20
        GiB)``); None when it boots."""
        breaches = self.limits.breaches(image) if self.limits is not None else []
        if not breaches:
            return None
        return " and ".join("%s %s is above %s" % (REQUIREMENT_OF[key], format_size(needed), self._limit_label(key))
                            for key, needed in breaches)

    def _limit_label(self, key):
        size = format_size(getattr(self.limits, key))
        if self.flavor is None:
            return "%s%s, %s" % (self.prefix, key, size)
        if key == "ram":
            return "the RAM of flavor %r, %s" % (self.flavor.get("name"), size)
        return "the system volume (%sdisk), %s" % (self.prefix, size)

    def closest_misses(self, candidates, count=CLOSEST):
        """The ``count`` candidates that miss by the least (fewest limits broken, then fewest MiB), each with why."""
        def distance(image):
            breaches = self.limits.breaches(image)
            return (len(breaches), sum(needed - getattr(self.limits, key) for key, needed in breaches),
                    str(image.get("name")), str(image.get("uuid")))
        missed = sorted((image for image in candidates if self.why_not(image)), key=distance)
        return ["%s (uuid %s): %s" % (image.get("name"), image.get("uuid"), self.why_not(image)) for image in missed[:count]]

    def describe(self):
        """The FitReport of the flavor form; None for a size."""
        if self.flavor is None:
            return None
        checked = ["min_ram <= %s, the RAM of flavor %r" % (format_size(self.flavor["ram"]), self.flavor.get("name"))]
        not_checked = []
        if self.system_volume is None:
            not_checked.append("min_disk: no %sdisk (the system volume size) was given" % self.prefix)
        else:
            checked.append("min_disk <= %s, the system volume" % format_size(self.system_volume))
        if self.tenant_uuid is None:
            not_checked.append("tenant links: no tenant was given; the images are those of the flavor's service settings")
        else:
            checked.append("the image and the flavor are linked to tenant %s" % self.tenant_uuid)
        return FitReport(self.flavor, self.system_volume, self.tenant_uuid, checked, not_checked)


# No fit: every image is kept.
NO_FIT = ResolvedFit(None, None, None, None, "")


def choose_images(listing, fit, sort_by=None, order="asc", limit=None):
    """The FitResult of a FitListing by ``fit`` (a Fit or None): the images that boot, ordered and limited."""
    rule = NO_FIT if fit is None else fit.resolved(listing.flavor, listing.tenant_uuid)
    return FitResult(rule.images_that_boot(listing.images, sort_by, order, limit), rule.candidates(listing.images), rule)


def flavors_that_boot(image, flavors, index=0):
    """The rule the other way: the flavors (dicts) whose RAM boots ``image``, smallest RAM first (the system volume is
    chosen with the order). ``index`` names the image in errors about its data."""
    return order_flavors([flavor for flavor in flavors
                          if Limits(disk=None, ram=flavor.get("ram") or 0).admits(image, index)], "ram")


def system_volume(value, option):
    """The system volume size in MiB, or None when not given (then min_disk is not checked)."""
    if value is None:
        return None
    mib = parse_size(value, option)
    if mib < MIN_SYSTEM_VOLUME:
        raise WaldurConfigError(option, "%r is below %s, the smallest system volume Waldur accepts; with flavor, disk "
                                        "is the size of the volume the instance boots from" % (
                                            value, format_size(MIN_SYSTEM_VOLUME)))
    return mib


def check_flavor(flavor, option):
    """A flavor as given: a non-empty name, uuid or URL, or a flavor dict with its RAM."""
    if isinstance(flavor, dict):
        ram = flavor.get("ram")
        if isinstance(ram, bool) or not isinstance(ram, int) or ram < 0:
            raise WaldurConfigError(option, "the flavor dict has ram %r; give a flavor as waldur.cloud.openstack_flavor_info "
                                            "returns it (ram in MiB), or its name, uuid or URL" % (ram,))
        return flavor
    if not isinstance(flavor, str) or not flavor.strip():
        raise WaldurConfigError(option, "%r is not a flavor; give its name, uuid or URL" % (flavor,))
    return flavor.strip()


def image_label(image):
    """An image as messages list candidates: what tells it from others of its name."""
    return "%s (uuid %s, min_disk %s, min_ram %s, settings %s)" % (
        image.get("name"), image.get("uuid"), format_size(image.get("min_disk") or 0), format_size(image.get("min_ram") or 0),
        settings_uuid_of(image))
