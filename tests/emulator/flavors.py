"""The flavors endpoint (``/api/openstack-flavors/``) as CONTRACT.md "Flavors" describes it.

Flavors are few (tens per cloud), so lists are filtered and sorted per request, uncached.
"""

from __future__ import annotations

import collections
import decimal
import hashlib
import re

from .dataset import hex_uuid

FLAVOR_FIELDS = ("url", "uuid", "name", "settings", "cores", "ram", "disk", "backend_id", "display_name")
NUMERIC_FIELDS = ("cores", "ram", "disk")
MAX_NUMBER = decimal.Decimal("1e50")
NOT_FOUND = "No Flavor matches the given query."
# What Django answers when PostgreSQL rejects a name_iregex (DEBUG off).
SERVER_ERROR_PAGE = (b'\n<!doctype html>\n<html lang="en">\n<head>\n  <title>Server Error (500)</title>\n</head>\n'
                     b'<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n')
# A "{" followed by a digit opens a bound in a PostgreSQL regex; an unclosed one is an error there
# while Python's re takes it literally.
_OPEN_BOUND = re.compile(r"(?<!\\)\{\d+(,\d*)?(?!\d|,|\})")


class InvalidRegex(Exception):
    """name_iregex that PostgreSQL rejects: the server answers with an HTML 500 page."""


def flavor_dict(flavor, prefix):
    return {
        "url": "%s/api/openstack-flavors/%s/" % (prefix, flavor["uuid"]),
        "uuid": flavor["uuid"],
        "name": flavor["name"],
        "settings": "%s/api/service-settings/%s/" % (prefix, flavor["settings_uuid"]),
        "cores": flavor["cores"],
        "ram": flavor["ram"],
        "disk": flavor["disk"],
        "backend_id": flavor["backend_id"],
        "display_name": "%s (%d CPU, %d MB RAM, %d MB HDD)" % (flavor["name"], flavor["cores"], flavor["ram"], flavor["disk"]),
    }


def _default_key(snap):
    """The server's default sort key: settings name, cores, ram, disk."""
    def key(flavor):
        sett = snap.settings.get(flavor["settings_uuid"], {})
        return (sett.get("name", ""), flavor["cores"], flavor["ram"], flavor["disk"])
    return key


def default_order(snap, flavors):
    """Settings name, cores, ram, disk; the uuid settles the ties the server leaves undefined."""
    key = _default_key(snap)
    return sorted(flavors, key=lambda flavor: (key(flavor), flavor["uuid"]))


def tie_key(snap, request):
    """What a list request is sorted by (its ``o`` fields, else the default key): equal keys are ties."""
    terms = _ordering(request.params.get("o", ""), {})
    if terms:
        fields = [term.lstrip("-") for term in terms]
        return lambda flavor: tuple(flavor[field] for field in fields)
    return _default_key(snap)


def visible_flavors(snap, user):
    """The flavors the user may list, in the default order."""
    flavors = snap.flavors.values()
    if not user["is_staff"]:
        tenants = snap.user_tenant_uuids(user)
        flavors = [f for f in flavors if not tenants.isdisjoint(f["tenant_uuids"])]
    return default_order(snap, flavors)


def can_see(snap, user, flavor):
    return user["is_staff"] or not snap.user_tenant_uuids(user).isdisjoint(flavor["tenant_uuids"])


def _number(key, raw, errors):
    """django-filter NumberFilter (a DecimalField): the value truncated toward zero, or None."""
    text = raw.strip()
    if not text:
        return None
    try:
        value = decimal.Decimal(text)
    except decimal.InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        errors[key] = ["Enter a number."]
        return None
    if value > MAX_NUMBER:
        errors[key] = ["Ensure this value is less than or equal to 1e+50."]
        return None
    return int(value)


def _ordering(raw, errors):
    """``o``: comma-separated cores/ram/disk, '-' for descending; None means the default order."""
    if not raw:
        return None
    terms = raw.split(",")
    for term in terms:
        if term.lstrip("-") not in NUMERIC_FIELDS or term.count("-") > 1:
            errors["o"] = ["Select a valid choice. %s is not one of the available choices." % term]
            return None
    return terms


def _iregex(pattern):
    if _OPEN_BOUND.search(pattern):
        raise InvalidRegex(pattern)
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        raise InvalidRegex(pattern) from None


def _tie_key(seed, flavor):
    """A fixed order among flavors equal on the ``o`` fields that follows no field."""
    return hashlib.blake2b(("%s:%s" % (seed, flavor["uuid"])).encode("ascii"), digest_size=8).digest()


def filtered(snap, request, settings_url_constraint):
    """The flavors a list request returns, in its order.  Raises ``ValueError`` carrying the 400
    body (a dict) for bad filters and ``InvalidRegex`` for a regex PostgreSQL would reject."""
    params = request.params
    errors = collections.OrderedDict()
    text = {key: params[key].strip() for key in ("name", "name_exact", "name_iregex", "settings", "tenant")
            if params.get(key, "").strip()}
    uuids = {}
    for key in ("settings_uuid", "tenant_uuid"):
        value = params.get(key, "").strip()
        if value:
            uuids[key] = hex_uuid(value)
            if uuids[key] is None:
                errors[key] = ["Enter a valid UUID."]
    numbers = {}
    for field in NUMERIC_FIELDS:
        for suffix in ("", "__gte", "__lte"):
            key = field + suffix
            if key in params:
                value = _number(key, params[key], errors)
                if value is not None:
                    numbers[key] = value
    order = _ordering(params.get("o", ""), errors)
    if errors:
        raise ValueError(dict(errors))
    regex = _iregex(text["name_iregex"]) if "name_iregex" in text else None
    settings_scope = settings_url_constraint(text["settings"]) if "settings" in text else None
    flavors = visible_flavors(snap, request.user)

    def keep(flavor):
        name = flavor["name"]
        if "name" in text and text["name"].upper() not in name.upper():
            return False
        if "name_exact" in text and text["name_exact"] != name:
            return False
        if regex is not None and not regex.search(name):
            return False
        if "settings_uuid" in uuids and flavor["settings_uuid"] != uuids["settings_uuid"]:
            return False
        if settings_scope is not None and settings_scope != ("settings", flavor["settings_uuid"]):
            return False
        if "tenant_uuid" in uuids and uuids["tenant_uuid"] not in flavor["tenant_uuids"]:
            return False
        # SERVER: ``tenant`` is looked up as a uuid, never parsed as a URL.
        if "tenant" in text and hex_uuid(text["tenant"]) not in flavor["tenant_uuids"]:
            return False
        for key, value in numbers.items():
            field, _sep, lookup = key.partition("__")
            have = flavor[field]
            if (lookup == "gte" and have < value) or (lookup == "lte" and have > value) or (not lookup and have != value):
                return False
        return True

    result = [flavor for flavor in flavors if keep(flavor)]
    if order is not None:
        # ``o`` replaces the default order entirely: sort by the tie key first, then by each term
        # from the last to the first (stable sorts).
        result.sort(key=lambda flavor: _tie_key(snap.seed, flavor))
        for term in reversed(order):
            field = term.lstrip("-")
            result.sort(key=lambda flavor, field=field: flavor[field], reverse=term.startswith("-"))
    return result


def usage_counts(snap):
    """{flavor name: {settings uuid: [running, created]}} over all instances (by stored flavor name)."""
    counts = {}
    for inst in snap.instances:
        name = inst.get("flavor_name")
        if name is None:
            continue
        pair = counts.setdefault(name, {}).setdefault(inst["settings_uuid"], [0, 0])
        pair[1] += 1
        if inst["state"] == "ACTIVE":
            pair[0] += 1
    return counts


def usage_order(snap):
    """Distinct flavor names over all flavors (visible or not), in a fixed order not sorted by name."""
    salt = ("flavors:%s" % snap.seed).encode("utf-8")[:64]
    names = {flavor["name"] for flavor in snap.flavors.values()}
    return sorted(names, key=lambda n: (hashlib.blake2b(n.encode("utf-8", "surrogatepass"), digest_size=8, key=salt).digest(), n))


def usage_rows(snap, providers, shared):
    """Rows as dicts; ``providers`` None means no narrowing, else a set of settings uuids."""
    allowed = None if providers is None else set(providers)
    if shared:
        shared_uuids = {s["uuid"] for s in snap.settings.values() if s["shared"]}
        allowed = shared_uuids if allowed is None else allowed & shared_uuids
    counts = usage_counts(snap)
    rows = []
    for name in usage_order(snap):
        running = created = 0
        for sett, (run, cre) in counts.get(name, {}).items():
            if allowed is None or sett in allowed:
                running += run
                created += cre
        rows.append({"name": name, "running_instances_count": running, "created_instances_count": created})
    return rows
