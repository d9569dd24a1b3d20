# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An ansible-rulebook event source: images added, removed and changed in Waldur.

Each poll reads the complete image listing through the collection's client (its paging with the
total check, retries and restart on a changing total) and compares it with the last complete one.
A poll that fails emits nothing, so an outage can never look like images being removed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys


def _add_collections_root():
    """Put the directory holding this file's ``ansible_collections/`` tree on sys.path.

    ansible-rulebook runs an event source by path, and the collections paths (such as
    ~/.ansible/collections) are not on its sys.path, so the client could not be imported otherwise.
    """
    parts = os.path.abspath(__file__).split(os.sep)
    if "ansible_collections" in parts:
        root = os.sep.join(parts[:len(parts) - parts[::-1].index("ansible_collections") - 1]) or os.sep
        if root not in sys.path:
            sys.path.append(root)


_add_collections_root()

# pylint: disable=wrong-import-position
from ansible_collections.waldur.cloud.plugins.module_utils.client import HAS_REQUESTS, WaldurClient
from ansible_collections.waldur.cloud.plugins.module_utils.connection import ConnectionSettings
from ansible_collections.waldur.cloud.plugins.module_utils.defaults import CLIENT_OPTIONS, Option
from ansible_collections.waldur.cloud.plugins.module_utils.errors import (
    WaldurAuthError,
    WaldurConfigError,
    WaldurError,
    WaldurRequestError,
    WaldurResponseError,
)
from ansible_collections.waldur.cloud.plugins.module_utils.images import ImageQuery

DOCUMENTATION = r"""
---
short_description: Report OpenStack images added, removed and changed in Waldur.
description:
  - >-
    Polls the image listing of the Waldur API every O(interval) seconds and puts one event on the queue per image and
    change, C({"type": "added" | "removed" | "changed", "image": {...}, "changes": {"<field>": [old, new]}}), with the
    image as the server sends it; C(changes) only for V(changed), over every field the server sends.
  - Only a complete listing is compared with the previous one. A poll that fails (server down, 5xx after retries, a
    proxy page, a truncated or changing listing, 401, timeout) emits nothing and is logged once per outage; the next
    complete listing is compared with the last complete one, so nothing is lost or reported twice.
  - A 401 on O(max_auth_failures) polls in a row ends the source, because a revoked token does not heal.
  - Which images are watched is chosen with the image filters of M(waldur.cloud.openstack_image_info), with the same
    names and meaning - C(name), C(name_exact), C(settings), C(settings_uuid), C(tenant), C(tenant_uuid), C(offering_uuid),
    C(show_duplicate_names), C(is_rescue_image).
  - Needs the waldur.cloud collection and the Python library requests where ansible-rulebook runs.
options:
  api_url:
    description: URL of the Waldur API, as in the waldur.cloud modules.
    type: str
    env:
      - name: WALDUR_API_URL
  api_token:
    description: The API token. Never put into events or logs.
    type: str
    env:
      - name: WALDUR_API_TOKEN
  auth_scheme:
    description: The keyword of the C(Authorization) header, V(Token) or V(Bearer).
    type: str
    choices: [Token, Bearer]
    default: Token
    env:
      - name: WALDUR_AUTH_SCHEME
  validate_certs:
    description: Whether to verify the server's TLS certificate.
    type: bool
    default: true
    env:
      - name: WALDUR_VALIDATE_CERTS
  ca_path:
    description: CA certificates to trust.
    type: path
    env:
      - name: WALDUR_CA_PATH
  timeout:
    description: The most seconds one request may take, as in the modules.
    type: float
    default: 30
    env:
      - name: WALDUR_TIMEOUT
  retries:
    description: Retries of one request within a poll, as in the modules.
    type: int
    default: 4
  retry_budget:
    description:
      - Seconds one poll may lose to failures (failed attempts, their timeouts included, and the waits between
        retries), as O(retry_budget) in the modules; a failing poll ends within the longer of O(timeout) and this.
    type: float
    default: 60
  interval:
    description: Seconds to wait after a poll before the next one.
    type: float
    default: 60
  emit_existing:
    description:
      - V(false) takes the first complete listing as the baseline and emits nothing for it.
      - V(true) emits one C(added) event per image of the first complete listing.
    type: bool
    default: false
  max_auth_failures:
    description: Polls answered 401 in a row after which the source ends with an error.
    type: int
    default: 3
"""

EXAMPLES = r"""
- name: React to new Ubuntu images in cloud-a
  hosts: localhost
  sources:
    - waldur.cloud.openstack_images:
        api_url: https://waldur.example.com/api/
        settings: cloud-a
        name: ubuntu
        interval: 300
  rules:
    - name: Validate each new image
      condition: event.type == "added"
      action:
        run_playbook:
          name: validate_image.yml
"""

LOGGER = logging.getLogger("waldur.cloud.openstack_images")

# The source's own options, beside the shared ones of module_utils/defaults.py; DOCUMENTATION states the same facts
# (a unit test holds them equal).
WATCH_OPTIONS = (
    Option("interval", "float", 60.0),
    Option("emit_existing", "bool", False),
    Option("max_auth_failures", "int", 3),
)
# The Python types that the option types of module_utils/defaults.py accept in a rulebook.
PYTHON_TYPES = {"str": str, "path": str, "bool": bool, "int": int, "float": (int, float)}
CONNECTION_ARGS = {option.name: PYTHON_TYPES[option.type] for option in CLIENT_OPTIONS}
FILTER_ARGS = {"name": str, "name_exact": str, "settings": str, "settings_uuid": str, "tenant": str, "tenant_uuid": str,
               "offering_uuid": str, "show_duplicate_names": bool, "is_rescue_image": bool}
WATCH_ARGS = {option.name: PYTHON_TYPES[option.type] for option in WATCH_OPTIONS}
TYPE_NAMES = {str: "a string", bool: "true or false", int: "a whole number", (int, float): "a number"}


def check_args(args):
    """``args`` without ansible-rulebook's own ``eda_*`` entries, each of the type the source expects."""
    known = dict(CONNECTION_ARGS, **FILTER_ARGS, **WATCH_ARGS)
    args = {key: value for key, value in (args or {}).items() if not key.startswith("eda_")}
    unknown = sorted(set(args) - set(known))
    if unknown:
        raise WaldurConfigError(unknown[0], "is not an argument of waldur.cloud.openstack_images; use %s" % ", ".join(known))
    for key, value in args.items():
        expected = known[key]
        if value is not None and (not isinstance(value, expected) or (expected is not bool and isinstance(value, bool))):
            raise WaldurConfigError(key, "%r is not %s" % (value, TYPE_NAMES[expected]))
    if args.get("interval") is not None and args["interval"] <= 0:
        raise WaldurConfigError("interval", "%r must be a number of seconds above 0" % (args["interval"],))
    if args.get("max_auth_failures") is not None and args["max_auth_failures"] < 1:
        raise WaldurConfigError("max_auth_failures", "%r must be 1 or more" % (args["max_auth_failures"],))
    return args


def image_changes(old, new):
    """``{field: [old, new]}`` for every field that differs; a field one side lacks counts as None."""
    return {field: [old.get(field), new.get(field)]
            for field in sorted(set(old) | set(new)) if old.get(field) != new.get(field)}


def listing_events(previous, current):
    """The events that turn the listing ``previous`` into ``current`` (both: uuid -> image, server order)."""
    events = [{"type": "removed", "image": image} for uuid, image in previous.items() if uuid not in current]
    for uuid, image in current.items():
        if uuid not in previous:
            events.append({"type": "added", "image": image})
        else:
            changes = image_changes(previous[uuid], image)
            if changes:
                events.append({"type": "changed", "image": image, "changes": changes})
    return events


class ImageWatch:
    """The source's state: what to list, the last complete listing, and the current outage."""

    def __init__(self, args):
        if not HAS_REQUESTS:
            # Else every poll would fail alike and the source would wait forever.
            raise WaldurError("waldur.cloud.openstack_images needs the Python library requests where ansible-rulebook "
                              "runs: pip install requests (in a decision environment, list it in its python dependencies)")
        args = check_args(args)
        self.settings = ConnectionSettings.from_options({key: args.get(key) for key in CONNECTION_ARGS})
        if self.settings.transport_warning:
            LOGGER.warning(self.settings.transport_warning)
        self.query = ImageQuery(**{key: args.get(key) for key in FILTER_ARGS})
        watch = {option.name: option.default if args.get(option.name) is None else args[option.name] for option in WATCH_OPTIONS}
        self.interval = float(watch["interval"])
        self.max_auth_failures = watch["max_auth_failures"]
        # None until a complete listing is read; with emit_existing, every image of the first one is new.
        self.known = {} if watch["emit_existing"] else None
        self.outage = None
        self.auth_failures = 0

    def complete_listing(self):
        """Every image the filters select, complete or not at all (the client raises otherwise)."""
        # A client per poll: its retry budget bounds one poll, not the life of the source.
        with WaldurClient(self.settings, log=LOGGER.debug) as client:
            images = self.query.run(client)
        listing = {}
        for image in images:
            if not image.get("uuid"):
                raise WaldurResponseError("the image listing has an image without a uuid: %r" % (image.get("url"),))
            listing[image["uuid"]] = image
        return listing

    async def run(self, queue):
        while True:
            await self.poll(queue)
            await asyncio.sleep(self.interval)

    async def poll(self, queue):
        """Read one listing and queue its events; a failed read only updates the outage state."""
        try:
            # The client is synchronous: a thread keeps ansible-rulebook's event loop free.
            current = await asyncio.to_thread(self.complete_listing)
        except (WaldurConfigError, WaldurRequestError):
            # The options do not fit this server (an unknown settings name, a rejected filter): no retry heals that.
            raise
        except WaldurAuthError as exc:
            self.auth_failures += 1
            if self.auth_failures >= self.max_auth_failures:
                raise WaldurAuthError("stopping after %d polls in a row were refused (max_auth_failures is %d): %s" % (
                    self.auth_failures, self.max_auth_failures, exc), url=exc.url, status=exc.status) from None
            self.failed(exc)
            return
        except WaldurError as exc:
            self.auth_failures = 0
            self.failed(exc)
            return
        self.auth_failures = 0
        if self.outage is not None:
            LOGGER.warning("the image listing is complete again after %d failed poll(s)", self.outage)
            self.outage = None
        if self.known is None:
            LOGGER.info("poll: %d images, the baseline (no events for them)", len(current))
        else:
            events = listing_events(self.known, current)
            counts = {kind: sum(event["type"] == kind for event in events) for kind in ("added", "removed", "changed")}
            LOGGER.info("poll: %d images, %d added, %d removed, %d changed", len(current), counts["added"],
                        counts["removed"], counts["changed"])
            for event in events:
                await queue.put(event)
        self.known = current

    def failed(self, exc):
        """Log the first failed poll of an outage as a warning and the next ones as a line each, and count them all."""
        if self.outage is None:
            LOGGER.warning("no events until the image listing can be read in full again: %s", exc)
            self.outage = 0
        else:
            LOGGER.info("poll: no complete image listing, %d failed poll(s) in a row", self.outage + 1)
        self.outage += 1


async def main(queue: asyncio.Queue, args: dict):
    """ansible-rulebook's entry point: poll until cancelled, or until the options or the token prove unusable."""
    await ImageWatch(args).run(queue)
