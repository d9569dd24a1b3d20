# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: openstack_image
short_description: The OpenStack image of a Waldur deployment to boot, chosen by filters and a flavor or its size
version_added: 0.1.0
author:
  - waldur.cloud maintainers (@waldur)
description:
  - Lists the images visible to the API token with the filters of M(waldur.cloud.openstack_image_info), keeps those that
    fit a flavor of the size in O(fits), orders them by O(sort_by) and O(order), and returns the first one.
  - "By default that is the newest image by name: O(sort_by=version) and O(order=desc) compare names ignoring letter case,
    with runs of digits as numbers, so V(ubuntu-24.04) wins over V(ubuntu-22.04) and V(debian-12) over V(debian-9). Images equal in O(sort_by)
    are ordered by name, then uuid, ascending; when several images of the same name tie (the same image in several service
    settings, or older duplicates), the one with the smallest uuid is returned and a warning says so: add O(settings),
    O(tenant) or O(name_exact) to choose explicitly."
  - The result is the image dict as the server sends it, so C(.uuid), C(.name), C(.url) or C(.min_disk) can be used.
    With C(query()) or C(wantlist=true) it is a list of that one image.
  - When no image fits, or none matches the filters, the lookup fails with a message that names the filters and sizes
    asked for, how many images were considered and, for each of them (the closest three when there are more), which
    limit it breaks with its own C(min_disk) or C(min_ram); or returns O(default) if it is given.
  - Uses the same client, connection options, environment variables, image filters and selection code as the module,
    so the lookup and M(waldur.cloud.openstack_image_info) with O(waldur.cloud.openstack_image_info#module:limit=1) choose
    the same image.
  - Runs on the controller, each time the template is evaluated (once per host and loop item). The listing is fetched
    once and shared by the evaluations of one run with the same API, token and filters, for O(cache_lifetime) seconds,
    so a play over 50 hosts reads it once.
extends_documentation_fragment:
  - waldur.cloud.connection
  - waldur.cloud.connection.plugins
  - waldur.cloud.connection.retries
  - waldur.cloud.connection.paging
  - waldur.cloud.image_filters
  - waldur.cloud.image_selection.flavor_fit
  - waldur.cloud.sizes
options:
  _terms:
    description:
      - Not used; give the filters as keywords (V(name='ubuntu')). Any term is an error.
    required: false
  uuid:
    description:
      - Only the image with this uuid (32 hex digits, with or without dashes); useful to check that a given image fits.
      - Cannot be combined with the list filters.
    type: str
  show_duplicate_names:
    description:
      - Consider older images of the same name too (Waldur 8.0 and newer list only the newest of each name by default).
      - O(tenant), O(tenant_uuid) and O(offering_uuid) cannot be combined with it.
    type: bool
    default: false
  sort_by:
    description:
      - Which image comes first, together with O(order).
      - V(version) compares names ignoring letter case, with runs of digits as numbers; V(name) compares them character by character.
      - V(min_disk) or V(min_ram) with O(order=desc) gives the image with the largest requirement that still fits; with
        O(order=asc), the smallest.
    type: str
    choices: [name, version, min_disk, min_ram]
    default: version
  order:
    description:
      - V(desc) returns the largest of O(sort_by) (the newest version, the largest requirement), V(asc) the smallest.
    type: str
    choices: [asc, desc]
    default: desc
  default:
    description:
      - What to return instead of failing when no image matches the filters and fits, for example V(none) or V(''),
        to test for it in the play.
      - Only that case is turned into this value; connection, authentication and option errors still fail.
    type: raw
  cache_lifetime:
    description:
      - Seconds for which the images this lookup listed are reused by its other evaluations in the same run (other hosts,
        forks and loop items) that ask the same API with the same token and filters. V(0) lists again each time.
      - They are kept in the run's local temporary directory (C(ANSIBLE_LOCAL_TEMP)), in files only you can read, named by
        a hash of the API, the token and the filters (the token is not stored), and removed when the run ends. A failed
        listing is not kept.
      - O(fits), O(sort_by) and O(order) are applied to the shared listing at each evaluation.
    type: int
    default: 60
notes:
  - The server cannot filter by size, so every page of the filtered list is read; narrow it with O(name), O(settings) or
    O(tenant) on large deployments.
seealso:
  - module: waldur.cloud.openstack_image_info
  - plugin: waldur.cloud.fitting_images
    plugin_type: filter
  - name: Choosing images for a flavor
    description: The guide to sizes, ordering, the filter and this lookup, with a provisioning example.
    link: https://github.com/waldur/ansible-waldur-cloud/blob/main/docs/guides/choosing-images.md
"""

EXAMPLES = r"""
- name: Boot the newest Ubuntu that a 20 GiB / 4 GiB flavor can run (URL and token from WALDUR_API_URL / WALDUR_API_TOKEN)
  ansible.builtin.debug:
    msg: "image: {{ lookup('waldur.cloud.openstack_image', fits={'disk': '20G', 'ram': '4G'}, name='ubuntu').uuid }}"

- name: Ask once and keep the whole image dict
  ansible.builtin.set_fact:
    boot_image: "{{ lookup('waldur.cloud.openstack_image', name='debian', settings='cloud-a',
                    fits={'disk': flavor.disk, 'ram': flavor.ram}) }}"
  vars:
    flavor: {disk: 20480, ram: 4096}      # MiB, as Waldur reports flavors

- name: The image with the largest disk requirement that still fits
  ansible.builtin.set_fact:
    boot_image: "{{ lookup('waldur.cloud.openstack_image', fits={'disk': '40G'}, sort_by='min_disk') }}"

- name: Do not fail when nothing fits, decide in the play
  ansible.builtin.set_fact:
    boot_image: "{{ lookup('waldur.cloud.openstack_image', name='windows', fits={'ram': '2G'}, default=None) }}"

- name: Fall back to a smaller image family
  ansible.builtin.set_fact:
    boot_image: "{{ lookup('waldur.cloud.openstack_image', name='cirros', fits={'ram': '2G'}) }}"
  when: not boot_image           # none, or "" on ansible-core before 2.19

- name: Explicit connection options
  ansible.builtin.debug:
    msg: "{{ lookup('waldur.cloud.openstack_image', name_exact='ubuntu-22.04', settings='cloud-a',
             api_url='https://waldur.example.com/api/', api_token=waldur_token).name }}"
"""

RETURN = r"""
_raw:
  description:
    - One image dict, as the server sends it (with C(lookup()) the dict itself, with C(query()) a list of one).
    - O(default) instead when no image fits and O(default) is given.
  type: list
  elements: dict
  contains:
    uuid:
      description: The uuid of the image (32 hex digits).
      type: str
    name:
      description: The name of the image.
      type: str
    url:
      description: The API URL of the image.
      type: str
    min_disk:
      description: The smallest disk the image boots from, in MiB.
      type: int
    min_ram:
      description: The least RAM the image boots with, in MiB.
      type: int
    settings:
      description: The API URL of the OpenStack service settings the image belongs to.
      type: str
"""

from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.waldur.cloud.plugins.module_utils.fit import Fit, FitListing, choose_images, format_size, image_label
from ansible_collections.waldur.cloud.plugins.module_utils.fit_queries import TaskContext, images_for_fit
from ansible_collections.waldur.cloud.plugins.module_utils.images import ImageQuery
from ansible_collections.waldur.cloud.plugins.module_utils.selection import check_selection, sort_key
from ansible_collections.waldur.cloud.plugins.plugin_utils.base import WaldurPlugin, display
from ansible_collections.waldur.cloud.plugins.plugin_utils.client import CONNECTION_OPTIONS
from ansible_collections.waldur.cloud.plugins.plugin_utils.fetch_cache import FetchCache, cache_key

WHERE = "waldur.cloud.openstack_image lookup"
FILTERS = ("uuid",) + ImageQuery.LIST_FILTERS


class LookupModule(WaldurPlugin, LookupBase):

    PLUGIN_TYPE = "lookup"
    NAME = "waldur.cloud.openstack_image"
    ERROR_CLASS = AnsibleLookupError

    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleLookupError("%s: takes no terms (got %s); give the filters as keywords, e.g. name='ubuntu'" % (
                WHERE, ", ".join(repr(term) for term in terms)))
        has_default = "default" in kwargs
        self.set_options(var_options=variables, direct=kwargs)
        self.check_options(kwargs, WHERE)
        options = {key: self.get_option(key) for key in FILTERS}
        sort_by, order = self.get_option("sort_by"), self.get_option("order")
        with self.failures(WHERE):
            query = ImageQuery.from_options(options)
            fit = Fit.parse(self.get_option("fits"))
            check_selection(sort_by, order)
        self.show_warnings(query.warnings, WHERE)
        # The resolved values are passed on: ansible-core 2.16 reports keyword options of lookups as unset by origin.
        client = self.open_client(WHERE, overrides={option: self.get_option(option) for option in CONNECTION_OPTIONS})
        cache = FetchCache(C.DEFAULT_LOCAL_TMP, self.get_option("cache_lifetime"))
        key = cache_key(client.settings.api_root, client.settings.api_token,
                        dict(options, flavor=fit.flavor if fit is not None else None))
        with client, self.failures(WHERE):
            listing = FitListing(**cache.get(key, lambda: images_for_fit(TaskContext.of_query(client, query), query,
                                                                         fit)._asdict()))
            chosen = choose_images(listing, fit, sort_by, order)
        if chosen.images:
            self._warn_about_ties(chosen.images, sort_by, options)
            return [chosen.images[0]]
        if has_default:
            return [self.get_option("default")]
        raise AnsibleLookupError("%s: %s" % (WHERE, self._nothing_found(options, chosen)))

    @staticmethod
    def _warn_about_ties(chosen, sort_by, options):
        first = chosen[0]
        key = sort_key(first, sort_by)
        rivals = [image for image in chosen[1:] if image.get("name") == first.get("name") and sort_key(image, sort_by) == key]
        if rivals:
            # Only what was not given yet can tell them apart; with settings and tenant given, only the uuid can.
            narrowing = [option for option in ("settings", "tenant") if options[option] is None and options[option + "_uuid"] is None]
            display.warning(
                "%s: %d other image%s named %r fit%s as well (in other service settings, or older duplicates); returning "
                "the one with the smallest uuid: %s. The others: %s. Give %s to choose explicitly." % (
                    WHERE, len(rivals), "s" if len(rivals) > 1 else "", first.get("name"), "" if len(rivals) > 1 else "s",
                    image_label(first), "; ".join(image_label(image) for image in rivals),
                    ", ".join(narrowing + ["uuid"]) if narrowing else "uuid (settings and tenant are given already)"))

    @staticmethod
    def _nothing_found(options, chosen):
        """Why no image was chosen: what was asked, and for the candidates closest to fitting, which limit each breaks."""
        asked = ["%s=%r" % (key, options[key]) for key in FILTERS
                 if options[key] not in (None, "") and not (key == "show_duplicate_names" and not options[key])]
        listed, rule = chosen.candidates, chosen.rule
        if not listed:
            if asked:
                return "no image matches %s" % ", ".join(asked)
            return "no image is visible to this API token"
        one = len(listed) == 1
        matched = ("that match%s %s" % ("es" if one else "", ", ".join(asked))) if asked else "visible to this API token"
        found = ("the 1 image %s does not fit" if one else "none of the %d images %%s fits" % len(listed)) % matched
        closest = rule.closest_misses(listed)
        why = "Why" if one else "Why, per image" if len(closest) == len(listed) else "Why, for the closest %d" % len(closest)
        report = rule.describe()
        if report is None:
            flavor, advice = "a flavor with %s" % (rule.limits,), "Use a larger flavor or other filters"
        else:
            # Waldur's rule: say which flavor, and that disk is the system volume.
            flavor = "flavor %r (%s)" % (report.flavor.get("name"), "; ".join(report.checked))
            advice = "Use a flavor with more RAM, or other filters"
            volume_only = [image for image in listed if [key for key, _needed in rule.limits.breaches(image)] == ["disk"]]
            if volume_only:
                # The RAM was enough for some: the system volume is what stopped them.
                advice = ("The flavor's RAM is enough for %d of them, and the system volume of %s is what is too small: a "
                          "system volume of %s (%sdisk) fits the smallest" % (
                              len(volume_only), format_size(rule.system_volume), format_size(
                                  min(image["min_disk"] for image in volume_only)), rule.prefix))
        return "%s %s. %s: %s. %s, or give default= to get a value instead of this error" % (
            found, flavor, why, "; ".join(closest), advice)
