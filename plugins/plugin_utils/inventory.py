# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the openstack_images inventory needs besides the client: its request plan and its naming rules.

``fetch_inventory_data`` makes every request and returns the API data as ``InventoryData`` (what the cache stores);
the naming functions turn that data into host and group names that are unique and do not depend
on the order the server lists things in.
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import threading
import unicodedata

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError
from ansible_collections.waldur.cloud.plugins.module_utils.fit import flavors_that_boot
from ansible_collections.waldur.cloud.plugins.module_utils.flavors import FlavorQuery
from ansible_collections.waldur.cloud.plugins.module_utils.resources import (
    Scope,
    SettingsAndTenants,
    settings_uuid_of,
    uuid_in_url,
)
from ansible_collections.waldur.cloud.plugins.module_utils.usage import usage_by_name

# Bumped whenever the shape of the data below changes: an older cache entry is then refetched.
# 2: tenants carry `customer` (a URL), not the `customer_uuid` the server never sends.
# 3: `flavors`, the flavors linked to each tenant (fetch_flavors).
DATA_FORMAT = 3
# What the inventory keeps of a flavor: enough to name it and to check Waldur's RAM rule.
FLAVOR_FIELDS = ("uuid", "name", "ram")


class InventoryData(collections.namedtuple("InventoryData", (
        "images", "settings", "tenants", "membership", "membership_known", "flavors", "usage"))):
    """Every piece of API data the inventory is built from; the cache stores ``to_cache()`` of it.

    ``images``, ``settings``, ``tenants``: the rows as listed. ``membership``: ``{tenant uuid:
    [image uuid, ...]}`` (None when no tenant listing was asked for). ``membership_known``: the image
    uuids whose tenants can be known (None unless ``show_duplicate_names`` asked for duplicates).
    ``flavors``: ``{tenant uuid: [flavor, ...]}`` (``fetch_flavors``). ``usage``: the counts by image
    name (``usage_stats``).
    """

    __slots__ = ()

    def to_cache(self):
        """A plain, JSON-able dict, as every cache plugin can store it."""
        return dict(self._asdict(), format=DATA_FORMAT)

    @classmethod
    def from_cache(cls, value):
        """The data stored by ``to_cache``, or None when ``value`` has another shape (an older format)."""
        if not (isinstance(value, dict) and value.get("format") == DATA_FORMAT
                and all(isinstance(value.get(key), list) for key in ("images", "settings", "tenants"))):
            return None
        return cls(**{field: value.get(field) for field in cls._fields})

    def tenant_links(self):
        """``{image uuid: [tenant uuid, ...]}``, each list in the order of the tenants' names."""
        order = {row["uuid"]: (row.get("name") or "", row["uuid"]) for row in self.tenants}
        links = collections.defaultdict(list)
        for tenant_uuid in sorted(self.membership or (), key=lambda uuid: order.get(uuid, ("", uuid))):
            for image_uuid in self.membership[tenant_uuid]:
                links[image_uuid].append(tenant_uuid)
        return links


def _membership_query(query):
    """The user's filters as a default (deduplicated) listing, run in a scope of one tenant or of none.

    It lists a subset of the images of the main listing, so it tells the tenant of each of them.
    With ``show_duplicate_names`` the server would drop ``tenant_uuid``, so it is never sent here.
    """
    return query.replace(show_duplicate_names=False)


class _Progress:
    """Counts the listings of step 2 as they finish and reports every tenth of them (they run in threads)."""

    def __init__(self, report, total):
        self.report = report
        self.total = total
        self.done = 0
        self.step = max(1, total // 10)
        self.lock = threading.Lock()

    def counted(self, request):
        def run():
            result = request()
            with self.lock:
                self.done += 1
                if self.done % self.step == 0 or self.done == self.total:
                    self.report("%d of %d listings done" % (self.done, self.total))
            return result
        return run


def fetch_inventory_data(client, query, membership=True, usage=False, flavors=False, progress=None):
    """Every piece of API data the inventory is built from, each requested once, as ``InventoryData``.

    1. In parallel: the service settings and tenants (names only, ``?field=``), the image listing
       and, with ``show_duplicate_names``, the default listing (which images tenant links can be
       known for). Settings or a tenant given by name are resolved first, from the same listings.
    2. In parallel: one ``tenant_uuid`` listing per tenant on a service settings that has listed
       images (``membership``), the flavors linked to each of those tenants (``flavors``, which
       needs ``membership``), and the usage statistics (``usage``).

    ``progress``, if given, is called with one line of text at each step and every tenth of step 2.
    """
    report = progress or (lambda _text: None)
    catalog = SettingsAndTenants(client)
    # Settings or a tenant given by name are resolved here, from the catalog's listings; nothing is resolved again.
    scope = catalog.scope_of(query)
    duplicates = membership and query.show_duplicate_names
    wanted = {"catalog": catalog.load, "images": lambda: query.run_in(client, catalog, scope)}
    if duplicates:
        wanted["known"] = lambda: _membership_query(query).run_in(client, catalog, scope._replace(tenant_uuid=None))
    results = client.fetch_concurrently(wanted)
    images = results["images"]
    known = [image["uuid"] for image in results["known"]] if duplicates else None

    listed_settings = {settings_uuid_of(image) for image in images}
    tenants = [row for row in catalog.tenants if row.get("service_settings_uuid") in listed_settings] if membership else []
    report("%d images, %d service settings, %d tenants listed; %d tenants have images to list" % (
        len(images), len(catalog.settings), len(catalog.tenants), len(tenants)))
    listing = _membership_query(query)
    wanted = {("tenant", row["uuid"]): lambda tenant_uuid=row["uuid"]: listing.run_in(
        client, catalog, scope._replace(tenant_uuid=tenant_uuid)) for row in tenants}
    if flavors:
        every_flavor = FlavorQuery()
        wanted.update({("flavors", row["uuid"]): lambda tenant_uuid=row["uuid"]: every_flavor.run_in(
            client, catalog, Scope(tenant_uuid=tenant_uuid)) for row in tenants})
    if usage:
        wanted["usage"] = lambda: _usage(client, catalog)
    counter = _Progress(report, len(wanted))
    results = client.fetch_concurrently({name: counter.counted(request) for name, request in wanted.items()})
    return InventoryData(
        images=images,
        settings=catalog.settings,
        tenants=catalog.tenants,
        membership={row["uuid"]: [image["uuid"] for image in results[("tenant", row["uuid"])]]
                    for row in tenants} if membership else None,
        membership_known=known,
        flavors={row["uuid"]: [{key: flavor.get(key) for key in FLAVOR_FIELDS} for flavor in results[("flavors", row["uuid"])]]
                 for row in tenants} if flavors else None,
        usage=results["usage"] if usage else None,
    )


def _usage(client, catalog):
    try:
        return usage_by_name(client, catalog)
    except WaldurConfigError as exc:
        # The usage code names its own option; here the user set usage_stats.
        raise WaldurConfigError("usage_stats", exc.message) from None


def flavors_that_fit(image, tenant_flavors, index=0):
    """The names of the flavors linked to the image's tenants that boot it by Waldur's rule (the system volume,
    checked against ``min_disk``, is chosen at order time), smallest RAM first, each name once."""
    names = []
    for flavor in flavors_that_boot(image, tenant_flavors, index=index):
        if flavor.get("name") not in names:
            names.append(flavor.get("name"))
    return names


# What Ansible's host patterns (hosts:, --limit, --host) would split on or read as wildcards and ranges,
# and braces, so that a host name can never be read as a template.
_PATTERN_SPECIAL = re.compile(r"[\s,:\[\]*?{}]+")
# What a pattern must not start with: a regex, an exclusion, an intersection, a file of hosts.
_PATTERN_PREFIXES = ("~", "!", "&", "@")


def clean_host_name(text):
    """``text`` made usable as a host name in every host pattern; the exact name stays in a host variable.

    White space around it is removed. Inside, each run of white space, control characters and the
    characters ``, : [ ] * ? { }`` becomes one ``_``, and a leading ``~ ! & @`` becomes ``_``, since Ansible
    would split a pattern there or read it as a wildcard, a range, a regex or an operator. Without
    braces a host name is never a template: ansible-core before 2.19 renders ``inventory_hostname``.
    """
    if text is None:
        return ""
    text = "".join(" " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char for char in str(text)).strip()
    text = _PATTERN_SPECIAL.sub("_", text)
    if text.startswith(_PATTERN_PREFIXES):
        text = "_" + text[1:]
    return text


def unique_names(keys, candidate, levels):
    """``{key: name}`` where ``candidate(key, level)`` gives the name of ``key`` at each level.

    Every key starts at level 0. While some name is shared, every key sharing it moves to its next
    level. The result depends only on the keys, never on their order, and the last level must be
    unique by construction (it contains the key).
    """
    level = dict.fromkeys(keys, 0)
    while True:
        holders = collections.defaultdict(list)
        for key in level:
            holders[candidate(key, level[key])].append(key)
        moved = False
        for shared in holders.values():
            if len(shared) > 1:
                for key in shared:
                    if level[key] < levels - 1:
                        level[key] += 1
                        moved = True
        if not moved:
            clashes = [name for name, shared in holders.items() if len(shared) > 1]
            if clashes:
                raise ValueError("names could not be made unique: %s" % ", ".join(sorted(clashes)))
            return {key: candidate(key, level[key]) for key in level}


def host_names(images):
    """Unique host names for ``images``: ``{uuid: name}``.

    ``images`` maps an image uuid to ``(base, settings_label)``, both already cleaned. A base shared
    by several images becomes ``base@settings``; if that is still shared, ``base@settings~`` and the
    first 8 digits of the uuid; in the astronomically rare case of a shared 8-digit prefix, the whole uuid.
    """
    def candidate(uuid, level):
        base, settings = images[uuid]
        if level == 0:
            return base
        if level == 1:
            return "%s@%s" % (base, settings)
        return "%s@%s~%s" % (base, settings, uuid[:8] if level == 2 else uuid)

    return unique_names(images, candidate, 4)


def group_names(rows, prefix, sanitize):
    """Unique group names ``{uuid: name}`` for ``rows`` of ``{"uuid", "name"}``: ``prefix + name``,
    sanitised; where that is shared, ``_`` and the first 8 digits of the uuid are added (the whole
    uuid if even those are shared)."""
    names = {row["uuid"]: row.get("name") or row["uuid"][:8] for row in rows}

    def candidate(uuid, level):
        suffix = ("", "_" + uuid[:8], "_" + uuid)[level]
        return sanitize(prefix + names[uuid] + suffix)

    return unique_names(names, candidate, 3)


FILE_SUFFIXES = ("waldur_images.yml", "waldur_images.yaml")
PLUGIN_LINE = re.compile(r"""^plugin:\s*(['"]?)waldur\.cloud\.openstack_images\1\s*(#.*)?$""", re.M)


def names_this_plugin(path):
    """Whether the YAML file at ``path`` says ``plugin: waldur.cloud.openstack_images`` (its first 64 KiB)."""
    if not path.endswith((".yml", ".yaml")):
        return False
    try:
        with open(path, "rb") as handle:
            return bool(PLUGIN_LINE.search(to_text(handle.read(65536), errors="surrogate_or_replace")))
    except OSError:
        return False


def tenant_vars(row):
    """What the inventory states once about a tenant; the server names the customer only by URL."""
    return {"uuid": row.get("uuid"), "name": row.get("name"), "project_uuid": row.get("project_uuid"),
            "project_name": row.get("project_name"), "customer_uuid": uuid_in_url(row.get("customer") or "", "customers"),
            "customer_name": row.get("customer_name")}


def tenant_table(data):
    """``{tenant uuid: tenant_vars}`` of the tenants whose images were listed, or None without tenant listings."""
    if data.membership is None:
        return None
    return {row["uuid"]: tenant_vars(row) for row in data.tenants if row["uuid"] in data.membership}


def host_vars(image, index, data, settings, links, known):
    """The host variables of one image (before the prefix): its fields and what the inventory adds to them.

    The image's tenants are only named, by uuid: what describes them is stated once, in ``tenant_table``.
    """
    hostvars = dict(image)
    settings_uuid = settings_uuid_of(image)
    hostvars["settings_uuid"] = settings_uuid
    hostvars["settings_name"] = settings.get(settings_uuid, {}).get("name")
    if data.membership is not None:
        hostvars["tenant_uuids"] = links.get(image["uuid"], [])
        hostvars["tenants_known"] = known is None or image["uuid"] in known
    if data.flavors is not None:
        hostvars["flavors_that_fit"] = flavors_that_fit(
            image, [flavor for uuid in links.get(image["uuid"], ()) for flavor in data.flavors.get(uuid, ())], index)
    if data.usage is not None:
        counts = data.usage.get(image.get("name")) or {}
        for field in ("running_instances_count", "created_instances_count"):
            hostvars[field] = counts.get(field, 0)
    return hostvars


@contextlib.contextmanager
def private_files():
    """Files and directories created inside are the current user's alone (umask 077).

    The umask is the process's: Ansible parses inventory sources one at a time, in one thread.
    """
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def make_private(path):
    """Make the file at ``path`` readable and writable by its owner only, if it exists."""
    try:
        os.chmod(path, 0o600)
    except FileNotFoundError:
        pass
