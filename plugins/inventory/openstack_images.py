# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: openstack_images
short_description: The OpenStack images of a Waldur deployment, grouped by service settings and tenant
version_added: 0.1.0
author:
  - waldur.cloud maintainers (@waldur)
description:
  - Every OpenStack image visible to the API token becomes a host, with the image's fields as host variables.
  - The hosts are data, not machines to connect to, and no connection variable is set for them. Use them in plays
    that set C(connection) to C(local) and C(gather_facts) to C(false), as the examples do.
  - Uses a YAML configuration file whose name ends with C(waldur_images.yml) or C(waldur_images.yaml).
  - The image filters choose which images become hosts; an image chosen by O(tenant) keeps all its tenants, in
    C(waldur_tenant_uuids) and in the groups, not only that one.
  - "Groups: C(waldur_images) holds every image. Below it, one group per service settings, C(waldur_settings_<name>),
    and below that one group per tenant, C(waldur_tenant_<name>). An image linked to several tenants is in each of
    their groups; an image linked to none is directly in its settings' group. Only groups that hold images are made.
    O(group_by) leaves out either level."
  - Group names are the names sanitised by Ansible's rules (a character that is not a letter, a digit or C(_) becomes
    C(_)). When two service settings (or two tenants) visible to the user would get the same group name, each of
    them gets C(_) and the first 8 digits of its uuid appended, for example C(waldur_tenant_prod_698b368a).
  - Host names are unique and do not depend on the order in which the API lists images. A host is named after its
    image (see O(hostname)), made usable in host patterns (C(hosts:), C(--limit), C(--host)). White space around the
    name is removed; inside, each run of white space, control characters, commas, colons, square brackets, braces,
    C(*) and C(?) becomes one C(_), and a leading C(~), C(!), C(&) or C(@) becomes C(_), because Ansible would split
    a pattern there or read it as a wildcard, a range, a regex, an operator or a template. The exact name is always
    in C(waldur_name).
  - When several images get the same name, each gets C(@) and its service settings' name appended, for example
    C(ubuntu-22.04@cloud-a). When that is still shared (older duplicates in the same service settings), C(~) and the
    first 8 digits of the uuid follow, for example C(ubuntu-22.04@cloud-a~8ceac4f7). So V(ubuntu) and V(ubuntu )
    share a name and are told apart, while V(UBUNTU) and V(ubuntu) are two names, as case matters to Ansible.
  - Names are unique within one inventory source. A name that is unique in one run becomes shared when an image of
    the same name appears (or a filter stops hiding one), and the host is then renamed. Use O(hostname=uuid) where a
    host name must never change.
  - Every string from the API that could be a template (it has a V({) or a V(})) is marked unsafe, so an image named
    "{{ lookup('pipe', 'id') }}" stays that text in host variables, O(compose) and O(keyed_groups), also once AWX has
    stored it; its host name has no braces. Other text cannot be rendered into anything else, so it stays plain, and
    C(ansible-inventory --list), which AWX stores, writes it as a plain string, not as a dict with the key
    C(__ansible_unsafe). What O(compose) sets follows the same rule.
  - "Requests: the service settings and tenants (only names and uuids, with C(?field=): settings C(options) can hold
    credentials and are never fetched), one listing of the images with the filters below, and one listing per tenant
    to learn which images it has, as the API has no tenant field on an image. Pages and tenants are fetched
    O(max_workers) at a time; failed requests are retried (O(retries))."
extends_documentation_fragment:
  - waldur.cloud.connection
  - waldur.cloud.connection.plugins
  - waldur.cloud.connection.retries
  - waldur.cloud.connection.paging
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
  - waldur.cloud.image_filters
  - waldur.cloud.image_selection
  - waldur.cloud.sizes
options:
  plugin:
    description: The name of this plugin; it marks the file as a configuration of this plugin.
    required: true
    type: str
    choices: [waldur.cloud.openstack_images]
  api_token:
    description:
      - The Waldur API token, or an OIDC access token or personal access token with O(auth_scheme=Bearer).
      - It is only ever sent to the origin of O(api_url), never to a host named in a response.
      - May be a template, for example an C(ansible.builtin.env) lookup or a vault lookup. It is templated before any
        request and never written to the cache; the cache key holds a hash of it only, so that two tokens never share
        cached data.
  hostname:
    description:
      - How a host is named.
      - V(name) is the image name, made unique as described above.
      - V(uuid) is the image uuid (32 hex digits), never shared and never changing.
      - Anything else must be a Jinja2 template over the host variables of the image, for example
        V({{ waldur_settings_name }}-{{ waldur_name }}). The result is cleaned and made unique like a name.
    type: str
    default: name
  hostvars_prefix:
    description:
      - The prefix of every host variable the plugin sets.
      - The default keeps them apart from your own variables and from the names Ansible reserves. An image has a
        C(name), which Ansible reserves for play keywords, so V('') makes Ansible warn about that variable on every
        task.
      - Must be empty or start a valid variable name (letters, digits and C(_), not starting with a digit).
    type: str
    default: waldur_
  group_by:
    description:
      - Which groups to make below C(waldur_images).
      - V(settings) makes one group per service settings, V(tenant) one group per tenant (a child of its settings'
        group when both are chosen). V([]) puts every image directly in C(waldur_images).
      - Without V(tenant) no tenant listings are requested, and the host variables C(waldur_tenant_uuids) and
        C(waldur_tenants_known) are not set.
    type: list
    elements: str
    choices: [settings, tenant]
    default: [settings, tenant]
  show_duplicate_names:
    description:
      - By default the server lists only the newest image of each name in each service settings (Waldur 8.0 and
        newer). V(true) adds the older images of the same name.
      - The server ignores every other filter together with this one; O(name), O(name_exact), O(settings),
        O(settings_uuid) and O(is_rescue_image) are then applied by the plugin. O(tenant), O(tenant_uuid) and
        O(offering_uuid) cannot be combined with it.
      - The server cannot tell the tenants of an older duplicate. It drops C(tenant_uuid) when asked for duplicates
        and lists only the newest image of a name otherwise. Older duplicates are therefore only in their settings'
        group, with C(waldur_tenants=[]) and C(waldur_tenants_known=false). One more listing, the default one, tells
        which images that applies to.
    type: bool
    default: false
  fetch_flavors:
    description:
      - Add the host variable C(waldur_flavors_that_fit), the names of the flavors linked to the image's tenants whose
        RAM is at least its C(min_ram), smallest RAM first. These are the flavors Waldur accepts in an instance order
        with this image in one of those tenants (the system volume, compared with C(min_disk), is chosen when ordering).
      - Costs one flavor listing per tenant, and needs the tenant links, which are then fetched (and shown in
        C(waldur_tenant_uuids)) even without V(tenant) in O(group_by). An older duplicate of O(show_duplicate_names) has no
        known tenants, so its list is empty.
    type: bool
    default: false
  usage_stats:
    description:
      - Add the host variables C(waldur_running_instances_count) and C(waldur_created_instances_count), the instances
        booted from an image of this name over the OpenStack service settings visible to the user (the API counts by
        name, not by image).
      - A name without instances gets V(0). Costs the pages of C(/api/openstack-images/usage_stats/).
    type: bool
    default: false
notes:
  - "Host variables, named with O(hostvars_prefix) in front: every field of the image as the server sends it
    (C(url), C(uuid), C(name), C(min_disk) and C(min_ram) in MiB, C(settings), C(backend_id), ...); C(settings_uuid)
    and C(settings_name); with V(tenant) in O(group_by) (also with O(fetch_flavors)), C(tenant_uuids), the uuids of
    the image's tenants in the order of their names, and C(tenants_known), false only for the
    older duplicates of O(show_duplicate_names); with O(fetch_flavors), C(flavors_that_fit); with O(usage_stats), the
    two counts."
  - A non-staff user sees only their own tenants, so C(waldur_tenant_uuids) lists only those.
  - "Tenants are described once, not on every image that they see (which would grow with images times tenants):
    each tenant group has the variables C(waldur_tenant_uuid), C(waldur_tenant_name), C(waldur_project_uuid),
    C(waldur_project_name), C(waldur_customer_uuid) and C(waldur_customer_name) (a host in several tenant groups sees,
    as Ansible merges group variables, those of one of them); and O(compose), O(groups) and O(keyed_groups) (only they)
    see C(waldur_tenants), a mapping of each tenant uuid to its C(uuid), C(name), C(project_uuid), C(project_name),
    C(customer_uuid) and C(customer_name), for example
    V(waldur_tenant_uuids | map('extract', waldur_tenants, 'project_name') | unique) as a key of O(keyed_groups)."
  - A refresh reports its progress at C(-v) (the listings, then every tenth of the tenant listings).
  - The cache files are readable and writable by their owner only (0600), and a cache directory the plugin creates
    is 0700.
  - The cache (O(cache=true)) stores the API data (images, settings and tenant names, tenant links, flavors, usage), never
    groups, host names or the token. Groups and names are rebuilt from it on each run, so O(hostname),
    O(hostvars_prefix), O(fits), O(compose), O(groups) and O(keyed_groups) can change without a refresh. A cached
    run makes no request at all; run C(ansible-inventory --flush-cache) to fetch again.
  - An error (a missing or wrong O(plugin), an unknown or invalid option, an unreachable server, a rejected token)
    fails the source with one message that names the file and the option.
seealso:
  - module: waldur.cloud.openstack_image_info
  - name: The inventory guide
    description: Groups, host names, caching and AWX, with examples.
    link: https://github.com/waldur/ansible-waldur-cloud/blob/main/docs/guides/inventory.md
"""

EXAMPLES = r"""
# waldur_images.yml: every image, grouped by service settings and tenant.
# The URL and token come from WALDUR_API_URL and WALDUR_API_TOKEN.
plugin: waldur.cloud.openstack_images

# Another source: one cloud's Ubuntu images, named by uuid, with their usage, cached for an hour.
plugin: waldur.cloud.openstack_images
api_url: https://waldur.example.com/api/
api_token: "{{ lookup('ansible.builtin.env', 'WALDUR_CI_TOKEN') }}"
settings: cloud-a
name: ubuntu
hostname: uuid
usage_stats: true
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/waldur-inventory
cache_timeout: 3600

# Another source: only settings groups, only images a 20 GiB / 4 GiB flavor can boot, plus groups of your own.
plugin: waldur.cloud.openstack_images
group_by: [settings]
fits:
  disk: 20G
  ram: 4G
strict: true
compose:
  # The hosts are data: run their tasks on the controller.
  ansible_connection: "'local'"
  min_disk_gib: waldur_min_disk // 1024
groups:
  big_images: waldur_min_disk >= 20480
  rescue: waldur_is_rescue_image | default(false)
keyed_groups:
  - key: waldur_settings_name
    prefix: cloud
  # A key must give text (or a list or mapping of it): turn numbers into text.
  - key: (waldur_min_ram // 1024) | string
    prefix: ram_gib

# A play that uses it:
#   - name: Report the images of cloud-a
#     hosts: waldur_settings_cloud_a
#     connection: local
#     gather_facts: false
#     tasks:
#       - name: Show each image
#         ansible.builtin.debug:
#           msg: "{{ inventory_hostname }}: {{ waldur_min_disk }} MiB"
"""

import hashlib
import json
import os
import re

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError
from ansible_collections.waldur.cloud.plugins.module_utils.fit import NO_FIT, Fit
from ansible_collections.waldur.cloud.plugins.module_utils.images import ImageQuery
from ansible_collections.waldur.cloud.plugins.module_utils.resources import settings_uuid_of
from ansible_collections.waldur.cloud.plugins.plugin_utils.base import WaldurPlugin
from ansible_collections.waldur.cloud.plugins.plugin_utils.inventory import (
    FILE_SUFFIXES,
    clean_host_name,
    InventoryData,
    fetch_inventory_data,
    group_names,
    host_names,
    host_vars,
    make_private,
    names_this_plugin,
    private_files,
    tenant_table,
)
from ansible_collections.waldur.cloud.plugins.plugin_utils.unsafe import make_unsafe

VARIABLE_PREFIX = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TOP_GROUP = "waldur_images"
SETTINGS_PREFIX = "waldur_settings_"
TENANT_PREFIX = "waldur_tenant_"


class InventoryModule(WaldurPlugin, BaseInventoryPlugin, Constructable, Cacheable):

    NAME = "waldur.cloud.openstack_images"
    PLUGIN_TYPE = "inventory"
    ERROR_CLASS = AnsibleParserError

    def verify_file(self, path):
        """Accept files named ``*waldur_images.yml`` or ``*waldur_images.yaml``.

        Ansible reports a refused file only as "could not be verified"; a file that names this plugin
        but not in its file name gets a warning that says which name is needed.
        """
        if not super().verify_file(path):
            return False
        if path.endswith(FILE_SUFFIXES):
            return True
        message = "%s: a %s inventory source is read only from a file whose name ends in %s (for example " \
                  "cloud.waldur_images.yml); rename the file" % (path, self.NAME, " or ".join(FILE_SUFFIXES))
        if names_this_plugin(path):
            self.display.warning(message)
        else:
            self.display.vvv(message)
        return False

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_options(path)
        query = self._query(path)
        fit = self._fits(path)
        hostname = self._hostname_option(path)
        prefix = self._hostvars_prefix(path)
        group_by = self.get_option("group_by")
        flavors = self.get_option("fetch_flavors")
        # The flavors an image can boot on are those of its tenants, so fetch_flavors needs the tenant links.
        membership = "tenant" in group_by or flavors
        usage = self.get_option("usage_stats")

        overrides = {"api_token": self._api_token(path)}
        client = self.open_client(path, overrides)
        with client:
            key = self._cache_key(path, client, query, membership, usage, flavors)
            use_cache = self.get_option("cache")
            data = None
            if use_cache and cache:
                try:
                    stored = self._cache[key]
                except KeyError:
                    stored = None  # not cached yet, or expired
                data = InventoryData.from_cache(stored) if stored is not None else None
                if stored is not None and data is None:
                    self.display.vvv("%s: the cached data has an old format; fetching it again" % path)
            if data is None:
                data = self._fetch(path, client, query, membership, usage, flavors)
                if use_cache:
                    self._cache[key] = data.to_cache()
                    self._written_cache_key = key
            else:
                self.display.vv("%s: using cached data (no requests; --flush-cache refetches)" % path)
        self._populate(path, data, hostname, prefix, group_by, fit)

    def _fetch(self, path, client, query, membership, usage, flavors):
        # A refused token or an unreachable server is named by the client, with the option's origin.
        with self.failures(path):
            return fetch_inventory_data(client, query, membership=membership, usage=usage, flavors=flavors,
                                        progress=lambda text: self.display.v("%s: %s" % (path, text)))

    # ------------------------------------------------------------------ cache
    def update_cache_if_changed(self):
        """Ansible writes the cache after parse. The files hold image, tenant and project names, so they are made
        0600, as the lookup's are (Ansible's file caches write 0644, or 0640 from ansible-core 2.21)."""
        with private_files():
            super().update_cache_if_changed()
        key = getattr(self, "_written_cache_key", None)
        directory = getattr(getattr(self._cache, "_plugin", None), "_cache_dir", None)
        if key is not None and directory:
            # The file name is the key with the cache plugin's prefix (and, in some versions, a schema tag) in front.
            for name in os.listdir(directory):
                if name.endswith(key):
                    make_private(os.path.join(directory, name))

    # ---------------------------------------------------------------- options
    def _read_options(self, path):
        """Ansible's own reading and checking of the file; every error names the file, and the option where Ansible does."""
        try:
            # A cache directory Ansible creates here is the user's alone, as the files in it (update_cache_if_changed).
            with private_files():
                config = self._read_config_data(path)
        except AnsibleError as exc:
            raise AnsibleParserError("%s: %s" % (path, to_text(exc.message))) from None
        except AttributeError:
            # Ansible looks up the plugin key before it checks that the file is a mapping.
            raise AnsibleParserError("%s: must be a YAML mapping of options, starting with plugin: %s" % (
                path, self.NAME)) from None
        self.check_options(config, path)
        # The configured cache plugin, or the memory one: Ansible calls update_cache_if_changed() either way.
        with self.failures(path), private_files():
            self.load_cache_plugin()

    def _query(self, path):
        options = {key: self.get_option(key) for key in ImageQuery.LIST_FILTERS}
        with self.failures(path):
            query = ImageQuery.from_options(options)
        self.show_warnings(query.warnings, path)
        return query

    def _fits(self, path):
        """The ResolvedFit of the fits option: a size only, as the hosts span every tenant."""
        with self.failures(path):
            fits = self.get_option("fits")
            if isinstance(fits, dict) and "flavor" in fits:
                raise WaldurConfigError("fits", "takes disk and ram here; a flavor is chosen for one tenant, so use "
                                                "waldur_flavors_that_fit (fetch_flavors) or the openstack_image lookup")
            fit = Fit.parse(fits, sizes_only=True)
            return fit.resolved() if fit is not None else NO_FIT

    def _hostname_option(self, path):
        value = self.get_option("hostname")
        if value in ("name", "uuid") or self.templar.is_template(value):
            return value
        raise AnsibleParserError("%s: hostname: %r is not name, uuid or a Jinja2 template such as "
                                 "'{{ waldur_settings_name }}-{{ waldur_name }}'" % (path, value))

    def _hostvars_prefix(self, path):
        value = self.get_option("hostvars_prefix")
        if value == "" or VARIABLE_PREFIX.match(value):
            return value
        raise AnsibleParserError("%s: hostvars_prefix: %r cannot start a variable name; use letters, digits and _, "
                                 "not starting with a digit (or '' for none)" % (path, value))

    def _api_token(self, path):
        """The token, templated if it is a template (a vault or env lookup); never logged or cached."""
        token = self.get_option("api_token")
        if token is not None and not isinstance(token, str):
            token = to_text(token)  # an inline !vault value decrypts when read as text
        if token is not None and self.templar.is_template(token):
            try:
                token = self.templar.template(token)
            except AnsibleError as exc:
                raise AnsibleParserError("%s: api_token: the template could not be rendered: %s" % (
                    path, to_text(exc.message))) from None
            token = to_text(token) if token is not None else None
        return token

    def _cache_key(self, path, client, query, membership, usage, flavors):
        """The file's key plus a digest of what decides the data: API, user, filters; the token only hashed."""
        settings = client.settings
        user = hashlib.sha256(("%s %s" % (settings.auth_scheme, settings.api_token)).encode("utf-8")).hexdigest()
        request = {
            "api": settings.api_root,
            "user": user,
            "filters": {key: getattr(query, key) for key in ImageQuery.LIST_FILTERS},
            "membership": membership,
            "usage": usage,
            "flavors": flavors,
        }
        digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode("utf-8")).hexdigest()[:16]
        return "%s_%s" % (self.get_cache_key(path), digest)

    # --------------------------------------------------------------- populate
    def _populate(self, path, data, hostname, prefix, group_by, fit):
        settings = {row["uuid"]: row for row in data.settings}
        for image in data.images:
            uuid = settings_uuid_of(image)
            if uuid is not None and uuid not in settings:
                settings[uuid] = {"uuid": uuid, "name": None}
        tenants = {row["uuid"]: row for row in data.tenants}
        links = data.tenant_links()
        known = set(data.membership_known) if data.membership_known is not None else None

        with self.failures(path):
            chosen = fit.images_that_boot(data.images)
        with self.failures(path):
            images = {image["uuid"]: host_vars(image, index, data, settings, links, known)
                      for index, image in enumerate(chosen)}
        # One call for all hosts: equal strings (keys, settings names, tenant uuids) are marked once.
        variables = make_unsafe({uuid: {prefix + key: value for key, value in fields.items()}
                                 for uuid, fields in images.items()})
        # What describes a tenant is stated once: as the variables of its group, and as one table for the
        # constructed options. A host names its tenants by uuid only.
        table = tenant_table(data)
        shared = {prefix + "tenants": make_unsafe(table)} if table is not None else {}
        names = host_names({uuid: (self._base_name(path, hostname, uuid, fields.get("name"), variables[uuid]),
                                   clean_host_name(fields["settings_name"]) or (fields["settings_uuid"] or "")[:8])
                            for uuid, fields in images.items()})
        settings_groups = group_names(settings.values(), SETTINGS_PREFIX, self._sanitize_group_name)
        tenant_groups = group_names(tenants.values(), TENANT_PREFIX, self._sanitize_group_name)

        placements = {uuid: self._placement(images[uuid]["settings_uuid"], links.get(uuid, ()), group_by,
                                            settings_groups, tenant_groups, tenants) for uuid in images}
        # Groups are made in name order, so that --graph and --list read the same on every run.
        edges = sorted({edge for _direct, parents in placements.values() for edge in parents}, key=lambda edge: edge[1])
        self.inventory.add_group(TOP_GROUP)
        for _parent, child in edges:
            self.inventory.add_group(child)
        for parent, child in edges:
            self.inventory.add_child(parent, child)
        tenant_of_group = {group: uuid for uuid, group in tenant_groups.items()}
        for _parent, child in edges:
            if child in tenant_of_group:
                for key, value in shared[prefix + "tenants"][tenant_of_group[child]].items():
                    self.inventory.set_variable(child, "%stenant_%s" % (prefix, key) if key in ("uuid", "name")
                                                else prefix + key, value)

        strict = self.get_option("strict")
        for uuid in sorted(images, key=lambda key: (names[key], key)):
            # Host names are plain text: they cannot hold braces, so they are never templates, and they stay
            # plain strings in the group lists of ansible-inventory --list, which AWX reads.
            host = names[uuid]
            for group in placements[uuid][0]:
                self.inventory.add_host(host, group=group)
            for key, value in variables[uuid].items():
                self.inventory.set_variable(host, key, value)
            self._construct(path, host, strict, shared)
        self.display.vv("%s: %d images, %d service settings, %d tenants" % (
            path, len(images), len(settings), len(tenants)))

    def _base_name(self, path, hostname, uuid, name, hostvars):
        if hostname == "uuid":
            return uuid
        if hostname == "name":
            text = name
        else:
            self.templar.available_variables = hostvars
            try:
                text = self.templar.template(hostname)
            except AnsibleError as exc:
                raise AnsibleParserError("%s: hostname: the template failed for image %s: %s" % (
                    path, uuid, to_text(exc.message))) from None
        return clean_host_name(text) or uuid

    @staticmethod
    def _placement(settings_uuid, tenant_uuids, group_by, settings_groups, tenant_groups, tenants):
        """The groups a host is put in directly, and the (parent, child) links of the groups above it.

        Tenant groups hang below their settings' group, settings groups below the top group. A host
        is put in the lowest groups that apply: its tenants', else its settings', else the top group.
        """
        by_settings = "settings" in group_by
        own = settings_groups.get(settings_uuid) if by_settings else None
        direct = []
        edges = set()
        in_own_settings = False
        if "tenant" in group_by:
            for tenant_uuid in tenant_uuids:
                group = tenant_groups.get(tenant_uuid)
                if group is None:
                    continue
                parent = settings_groups.get(tenants[tenant_uuid].get("service_settings_uuid")) if by_settings else None
                if parent is not None:
                    edges.add((TOP_GROUP, parent))
                edges.add((parent or TOP_GROUP, group))
                direct.append(group)
                in_own_settings = in_own_settings or parent == own
        if own is not None and not in_own_settings:
            # No tenant, or (never seen, but possible) only tenants of other service settings.
            edges.add((TOP_GROUP, own))
            direct.append(own)
        return direct or [TOP_GROUP], edges

    def _set_marked_composite_vars(self, compose, variables, host, strict=False):
        """compose, with what it sets marked as the API's data is: on ansible-core 2.19 a composed string is not
        trusted, which ansible-inventory --list, and so AWX, writes as a {"__ansible_unsafe": ...} dict."""
        self._set_composite_vars(compose, variables, host, strict=strict)
        composed = self.inventory.get_host(host).vars
        for name in compose or {}:
            if name in composed:
                self.inventory.set_variable(host, name, make_unsafe(composed[name]))

    def _construct(self, path, host, strict, shared):
        """compose, groups and keyed_groups over the host's variables and ``shared`` (the tenant table, which
        only they see); with strict, a failure names its option."""
        steps = (("compose", self._set_marked_composite_vars), ("groups", self._add_host_to_composed_groups),
                 ("keyed_groups", self._add_host_to_keyed_groups))
        for option, step in steps:
            hostvars = self.inventory.get_host(host).get_vars()
            for name, value in shared.items():
                hostvars.setdefault(name, value)
            try:
                step(self.get_option(option), hostvars, host, strict=strict)
            except AnsibleError as exc:
                raise AnsibleParserError("%s: %s: %s" % (path, option, to_text(exc.message))) from None
