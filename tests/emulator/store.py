"""In-memory model of the Waldur objects the emulator serves, and the caches that keep it fast.

``Store`` owns the data (mutable, thread-safe).  Every read goes through an immutable
``Snapshot`` built lazily after each mutation; a snapshot precomputes the name-sorted image
list, the 8.x "newest per (name, settings)" set, per-user visible lists, and caches filtered
result lists and pre-serialised JSON fragments.
"""

from __future__ import annotations

import collections
import datetime
import hashlib
import json
import operator
import secrets
import threading
import uuid as uuidlib

from . import flavors as flavor_rules
from .dataset import FORMAT, hex_uuid, normalize_dataset

DEFAULT_SERVER_VERSION = "8.0.8"
LEGACY_SERVER_VERSION = "7.8.0"

BASE_IMAGE_FIELDS = ("url", "uuid", "name", "min_disk", "min_ram", "settings")

TENANT_FIELDS = (
    "url", "uuid", "name", "description", "service_name", "service_settings", "service_settings_uuid",
    "service_settings_state", "service_settings_error_message", "project", "project_name", "project_uuid",
    "customer", "customer_name", "customer_native_name", "customer_abbreviation", "error_message",
    "error_traceback", "resource_type", "state", "created", "modified", "backend_id", "availability_zone",
    "internal_network_id", "external_network_id", "quotas", "default_volume_type_name",
    "marketplace_offering_uuid", "marketplace_offering_name", "marketplace_offering_plugin_options",
    "marketplace_category_uuid", "marketplace_category_name", "marketplace_resource_uuid",
    "marketplace_plan_uuid", "marketplace_resource_state", "is_usage_based", "is_limit_based",
)

SETTINGS_FIELDS = (
    "url", "uuid", "name", "type", "state", "error_message", "shared", "customer", "terms_of_services",
    "scope", "options",
)

FILTER_CACHE_SIZE = 128
FRAGMENT_PREFIXES = 8
_MIN_DT = datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc)


def parse_version(text):
    """'8.0.8' -> (8, 0, 8); non-numeric parts count as 0."""
    parts = []
    for piece in str(text).split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    while len(parts) < 3:
        parts.append(0)
    return tuple(parts)


class Features:
    """What a given Waldur version does (fields served, quirks, filters)."""

    def __init__(self, version):
        self.version = str(version)
        ver = parse_version(version)
        fields = list(BASE_IMAGE_FIELDS)
        if ver >= (7, 9, 0):
            fields.append("backend_id")
        if ver >= (8, 0, 0):
            fields.append("backend_created_at")
        if ver >= (8, 0, 8):
            fields.extend(("hw_rescue_device", "hw_rescue_bus", "is_rescue_image"))
        self.image_fields = tuple(fields)
        self.dedup = ver >= (8, 0, 0)
        self.show_duplicate_names = ver >= (8, 0, 0)
        self.rescue_filter = ver >= (8, 0, 8)
        self.offering_filter = ver >= (7, 9, 0)
        self.bearer = ver >= (8, 0, 7)


def _parse_dt(value):
    if value is None:
        return None
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return _MIN_DT
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def dumps(obj):
    """JSON exactly as Django REST framework renders it (compact, UTF-8, U+2028/9 escaped)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode("utf-8")


def _newer(candidate, current):
    """PostgreSQL ``ORDER BY backend_created_at DESC`` puts NULLs first: null counts as newest.
    Equal timestamps: the smaller uuid wins (deterministic; the server's choice is arbitrary)."""
    cand, cur = _parse_dt(candidate["backend_created_at"]), _parse_dt(current["backend_created_at"])
    if cand is None or cur is None:
        if cand is None and cur is None:
            return candidate["uuid"] < current["uuid"]
        return cand is None
    if cand != cur:
        return cand > cur
    return candidate["uuid"] < current["uuid"]


class Snapshot:
    """Read-only view of the store at one version, with lazily filled caches."""

    def __init__(self, store):
        self.features = store.features
        self.seed = store.seed
        self.users = store.users
        self.customers = dict(store.customers)
        self.projects = dict(store.projects)
        self.settings = dict(store.settings)
        self.tenants = dict(store.tenants)
        self.offerings = dict(store.offerings)
        self.instances = list(store.instances)
        # Images are the dataset dicts themselves (never mutated in place by the store).
        self.images = dict(store.images)
        self.flavors = dict(store.flavors)
        images = sorted(self.images.values(), key=operator.itemgetter("name", "uuid"))
        self.images_sorted = images
        groups = {}
        group_key = operator.itemgetter("name", "settings_uuid")
        for img in images:
            key = group_key(img)
            if key in groups:
                groups[key].append(img)
            else:
                groups[key] = [img]
        newest = []
        for group in groups.values():
            best = group[0]
            for img in group[1:]:
                if _newer(img, best):
                    best = img
            newest.append(best["uuid"])
        self.newest = frozenset(newest)
        self._lock = threading.Lock()
        self._visible = {}
        self._filtered = collections.OrderedDict()
        self._fragments = {}
        self._usage_order = None
        self._usage_counts = None
        self._usage_rows = collections.OrderedDict()

    # ------------------------------------------------------------ visibility
    def user_tenant_uuids(self, user):
        if user["is_staff"]:
            return frozenset(self.tenants)
        projects = set(user["project_uuids"])
        customers = set(user["customer_uuids"])
        out = set()
        for tenant in self.tenants.values():
            project = self.projects.get(tenant["project_uuid"])
            if tenant["project_uuid"] in projects or (project is not None and project["customer_uuid"] in customers):
                out.add(tenant["uuid"])
        return frozenset(out)

    def user_settings_uuids(self, user):
        if user["is_staff"]:
            return frozenset(self.settings)
        customers = set(user["customer_uuids"])
        return frozenset(s["uuid"] for s in self.settings.values() if s["shared"] or s["customer_uuid"] in customers)

    def _user_lists(self, user):
        key = user["username"]
        entry = self._visible.get(key)
        if entry is None:
            if user["is_staff"]:
                visible = self.images_sorted
            else:
                tenants = self.user_tenant_uuids(user)
                visible = [img for img in self.images_sorted if not tenants.isdisjoint(img["tenant_uuids"])]
            if self.features.dedup:
                newest = self.newest
                default = [img for img in visible if img["uuid"] in newest]
            else:
                default = visible
            entry = (visible, default)
            with self._lock:
                self._visible[key] = entry
        return entry

    def visible_images(self, user):
        """Every image the user may see, in list order (= the show_duplicate_names list)."""
        return self._user_lists(user)[0]

    def default_images(self, user):
        """What the default list returns (8.x: newest per (name, settings) only)."""
        return self._user_lists(user)[1]

    def can_see_image(self, user, img):
        if user["is_staff"]:
            return True
        return not self.user_tenant_uuids(user).isdisjoint(img["tenant_uuids"])

    # ---------------------------------------------------------------- images
    def offering_scope(self, offering_uuid):
        offering = self.offerings.get(offering_uuid)
        if offering is None:
            return None
        if offering.get("tenant_uuid"):
            return ("tenant", offering["tenant_uuid"])
        if offering.get("settings_uuid"):
            return ("settings", offering["settings_uuid"])
        return None

    def filter_images(self, user, dup, constraints):
        """Images for a list request.  ``constraints`` is a tuple of (kind, value) pairs, all of
        which must hold; kinds: name (upper-cased needle), name_exact, settings, tenant, rescue."""
        if dup:
            return self.visible_images(user)
        base = self.default_images(user)
        if not constraints:
            return base
        key = (user["username"], constraints)
        with self._lock:
            hit = self._filtered.get(key)
            if hit is not None:
                self._filtered.move_to_end(key)
                return hit
        result = base
        for kind, value in constraints:
            if kind == "name":
                result = [img for img in result if value in img["name"].upper()]
            elif kind == "name_exact":
                result = [img for img in result if img["name"] == value]
            elif kind == "settings":
                result = [img for img in result if img["settings_uuid"] == value]
            elif kind == "tenant":
                result = [img for img in result if value in img["tenant_uuids"]]
            elif kind == "rescue":
                result = [img for img in result if bool(img["is_rescue_image"]) is value]
            elif kind == "nothing":
                result = []
        with self._lock:
            self._filtered[key] = result
            while len(self._filtered) > FILTER_CACHE_SIZE:
                self._filtered.popitem(last=False)
        return result

    def image_dict(self, img, prefix):
        out = {}
        for field in self.features.image_fields:
            if field == "url":
                out["url"] = "%s/api/openstack-images/%s/" % (prefix, img["uuid"])
            elif field == "settings":
                out["settings"] = "%s/api/service-settings/%s/" % (prefix, img["settings_uuid"])
            else:
                out[field] = img[field]
        return out

    def image_fragment(self, img, prefix):
        cache = self._fragments.get(prefix)
        if cache is None:
            with self._lock:
                if len(self._fragments) >= FRAGMENT_PREFIXES:
                    self._fragments.clear()
                cache = self._fragments.setdefault(prefix, {})
        frag = cache.get(img["uuid"])
        if frag is None:
            frag = dumps(self.image_dict(img, prefix))
            cache[img["uuid"]] = frag
        return frag

    # ----------------------------------------------------------- usage stats
    def usage_order(self):
        """Distinct image names over all images, in a fixed order that is not sorted by name."""
        if self._usage_order is None:
            salt = str(self.seed).encode("utf-8")
            names = {img["name"] for img in self.images_sorted}
            self._usage_order = sorted(
                names, key=lambda n: (hashlib.blake2b(n.encode("utf-8", "surrogatepass"), digest_size=8, key=salt[:64]).digest(), n))
        return self._usage_order

    def usage_counts(self):
        """{image name: {settings uuid: [running, created]}} over all instances."""
        if self._usage_counts is None:
            counts = {}
            for inst in self.instances:
                per = counts.setdefault(inst["image_name"], {})
                pair = per.setdefault(inst["settings_uuid"], [0, 0])
                pair[1] += 1
                if inst["state"] == "ACTIVE":
                    pair[0] += 1
            self._usage_counts = counts
        return self._usage_counts

    def usage_rows(self, providers, shared):
        """Rows [(name, running, created)] plus their JSON fragments.  ``providers`` None means
        no narrowing (the bare request); otherwise a frozenset of settings uuids."""
        key = (providers, shared)
        with self._lock:
            hit = self._usage_rows.get(key)
            if hit is not None:
                return hit
        counts = self.usage_counts()
        allowed = None
        if providers is not None:
            allowed = set(providers)
        if shared:
            shared_uuids = {s["uuid"] for s in self.settings.values() if s["shared"]}
            allowed = shared_uuids if allowed is None else allowed & shared_uuids
        rows = []
        for name in self.usage_order():
            running = created = 0
            for sett, (run, cre) in counts.get(name, {}).items():
                if allowed is None or sett in allowed:
                    running += run
                    created += cre
            rows.append(dumps({"name": name, "running_instances_count": running, "created_instances_count": created}))
        with self._lock:
            self._usage_rows[key] = rows
            while len(self._usage_rows) > FILTER_CACHE_SIZE:
                self._usage_rows.popitem(last=False)
        return rows

    # ------------------------------------------------------ tenants/settings
    def visible_tenants(self, user):
        allowed = self.user_tenant_uuids(user)
        tenants = [t for t in self.tenants.values() if t["uuid"] in allowed]
        tenants.sort(key=lambda t: (t["name"], t["uuid"]))
        return tenants

    def visible_settings(self, user):
        allowed = self.user_settings_uuids(user)
        settings = [s for s in self.settings.values() if s["uuid"] in allowed]
        settings.sort(key=lambda s: (s["name"], s["uuid"]))
        return settings

    def tenant_dict(self, tenant, prefix):
        sett = self.settings.get(tenant["service_settings_uuid"], {})
        project = self.projects.get(tenant["project_uuid"], {})
        customer = self.customers.get(project.get("customer_uuid"), {})
        digest = hashlib.sha256(("external-network:" + tenant["uuid"]).encode("ascii")).hexdigest()
        values = {
            "url": "%s/api/openstack-tenants/%s/" % (prefix, tenant["uuid"]),
            "uuid": tenant["uuid"],
            "name": tenant["name"],
            "description": "",
            "service_name": sett.get("name", ""),
            "service_settings": "%s/api/service-settings/%s/" % (prefix, tenant["service_settings_uuid"]),
            "service_settings_uuid": tenant["service_settings_uuid"],
            "service_settings_state": sett.get("state", "OK"),
            "service_settings_error_message": "",
            "project": "%s/api/projects/%s/" % (prefix, tenant["project_uuid"]),
            "project_name": project.get("name", ""),
            "project_uuid": tenant["project_uuid"],
            "customer": "%s/api/customers/%s/" % (prefix, customer.get("uuid", "")),
            "customer_name": customer.get("name", ""),
            "customer_native_name": "",
            "customer_abbreviation": customer.get("abbreviation", ""),
            "error_message": "",
            "error_traceback": "",
            "resource_type": "OpenStack.Tenant",
            "state": "OK",
            "created": tenant["created"],
            "modified": tenant["created"],
            "backend_id": tenant["backend_id"],
            "availability_zone": "",
            "internal_network_id": "",
            "external_network_id": str(uuidlib.UUID(digest[:32])),
            "quotas": [],
            "default_volume_type_name": "",
        }
        return {field: values.get(field) for field in TENANT_FIELDS}

    def settings_dict(self, sett, prefix, with_options):
        customer = sett.get("customer_uuid")
        values = {
            "url": "%s/api/service-settings/%s/" % (prefix, sett["uuid"]),
            "uuid": sett["uuid"],
            "name": sett["name"],
            "type": sett["type"],
            "state": sett["state"],
            "error_message": "",
            "shared": bool(sett["shared"]),
            "customer": "%s/api/customers/%s/" % (prefix, customer) if customer else None,
            "terms_of_services": "",
            "scope": None,
            "options": sett.get("options") or {},
        }
        fields = SETTINGS_FIELDS if with_options else tuple(f for f in SETTINGS_FIELDS if f != "options")
        return {field: values[field] for field in fields}

    # ----------------------------------------------------------------- truth
    def truth(self):
        visibility = {}
        for user in self.users.values():
            visibility[user["username"]] = {
                "images": [img["uuid"] for img in self.visible_images(user)],
                "default_list": [img["uuid"] for img in self.default_images(user)],
                "tenants": [t["uuid"] for t in self.visible_tenants(user)],
                "service_settings": [s["uuid"] for s in self.visible_settings(user)],
                "flavors": [f["uuid"] for f in flavor_rules.visible_flavors(self, user)],
            }
        counts = self.usage_counts()
        usage = {}
        for name in self.usage_order():
            by_settings = {}
            running = created = 0
            for sett, (run, cre) in sorted(counts.get(name, {}).items()):
                by_settings[sett] = {"running": run, "created": cre}
                running += run
                created += cre
            usage[name] = {"running": running, "created": created, "by_settings": by_settings}
        flavor_usage = {row["name"]: {"running": row["running_instances_count"], "created": row["created_instances_count"]}
                        for row in flavor_rules.usage_rows(self, None, False)}
        return visibility, usage, flavor_usage


class Store:
    """The emulator's data, mutable under a lock; reads use ``snapshot()``."""

    def __init__(self, dataset, server_version=None, trusted=False):
        self.lock = threading.RLock()
        self.features = Features(server_version or DEFAULT_SERVER_VERSION)
        self._snap = None
        self._truth = None
        self.load(dataset, trusted=trusted)

    def load(self, dataset, trusted=False):
        """Replace the data.  ``trusted`` skips validation and copies (generated data)."""
        data = normalize_dataset(dataset, trusted=trusted)
        with self.lock:
            self.seed = data["seed"]
            self.users = collections.OrderedDict((u["username"], u) for u in data["users"])
            self.customers = collections.OrderedDict((c["uuid"], c) for c in data["customers"])
            self.projects = collections.OrderedDict((p["uuid"], p) for p in data["projects"])
            self.settings = collections.OrderedDict((s["uuid"], s) for s in data["service_settings"])
            self.tenants = collections.OrderedDict((t["uuid"], t) for t in data["tenants"])
            self.offerings = collections.OrderedDict((o["uuid"], o) for o in data["offerings"])
            self.images = collections.OrderedDict((i["uuid"], i) for i in data["images"])
            self.flavors = collections.OrderedDict((f["uuid"], f) for f in data["flavors"])
            self.instances = list(data["instances"])
            self._invalidate()

    def _invalidate(self):
        self._snap = None
        self._truth = None

    def warm_up(self):
        """Build the snapshot and every user's visible lists now rather than on first request."""
        snap = self.snapshot()
        for user in self.users.values():
            snap.default_images(user)
        snap.usage_order()
        return snap

    def snapshot(self):
        snap = self._snap
        if snap is None:
            with self.lock:
                snap = self._snap
                if snap is None:
                    snap = Snapshot(self)
                    self._snap = snap
        return snap

    def user_for_token(self, token):
        for user in self.users.values():
            if user["token"] == token:
                return user
        return None

    # ------------------------------------------------------------- mutation
    def add_image(self, name, settings_uuid, tenant_uuids=(), **fields):
        """Add an image (dataset format); missing fields get defaults.  Returns its dict."""
        given = fields.pop("uuid", None)
        image = {
            "uuid": (hex_uuid(given) or given) if given else uuidlib.uuid4().hex,
            "name": name,
            "min_disk": fields.pop("min_disk", 0),
            "min_ram": fields.pop("min_ram", 0),
            "settings_uuid": hex_uuid(settings_uuid) or settings_uuid,
            "backend_id": fields.pop("backend_id", None) or str(uuidlib.uuid4()),
            "backend_created_at": fields.pop("backend_created_at", None),
            "hw_rescue_device": fields.pop("hw_rescue_device", ""),
            "hw_rescue_bus": fields.pop("hw_rescue_bus", ""),
            "tenant_uuids": [hex_uuid(t) or t for t in tenant_uuids],
        }
        image["is_rescue_image"] = fields.pop("is_rescue_image", bool(image["hw_rescue_device"] or image["hw_rescue_bus"]))
        if fields:
            raise TypeError("unknown image fields: %s" % ", ".join(sorted(fields)))
        with self.lock:
            if image["uuid"] in self.images:
                raise ValueError("duplicate image uuid %s" % image["uuid"])
            self.images[image["uuid"]] = image
            self._invalidate()
        return dict(image)

    def remove_image(self, image_uuid):
        with self.lock:
            removed = self.images.pop(hex_uuid(image_uuid) or image_uuid)
            self._invalidate()
        return removed

    def update_image(self, image_uuid, **changes):
        with self.lock:
            key = hex_uuid(image_uuid) or image_uuid
            image = dict(self.images[key])
            unknown = set(changes) - set(image)
            if unknown:
                raise TypeError("unknown image fields: %s" % ", ".join(sorted(unknown)))
            image.update(changes)
            image["tenant_uuids"] = list(image["tenant_uuids"])
            self.images[key] = image
            self._invalidate()
        return dict(image)

    def revoke_token(self, username):
        """Give ``username`` a new random token, so the old one is answered 401 "Invalid token."."""
        with self.lock:
            user = dict(self.users[username], token=secrets.token_hex(20))
            self.users[username] = user
        return user["token"]

    def add_instance(self, image_name, settings_uuid, state="ACTIVE", instance_uuid=None):
        inst = {"uuid": instance_uuid or uuidlib.uuid4().hex, "image_name": image_name,
                "settings_uuid": settings_uuid, "state": state}
        with self.lock:
            self.instances.append(inst)
            self._invalidate()
        return dict(inst)

    # --------------------------------------------------------------- export
    def export(self, truth=True):
        """The data in the dump format (objects shared, not copied: treat as read-only)."""
        with self.lock:
            data = {
                "format": FORMAT,
                "seed": self.seed,
                "users": list(self.users.values()),
                "customers": list(self.customers.values()),
                "projects": list(self.projects.values()),
                "service_settings": list(self.settings.values()),
                "tenants": list(self.tenants.values()),
                "offerings": list(self.offerings.values()),
                "images": list(self.images.values()),
                "flavors": list(self.flavors.values()),
                "instances": list(self.instances),
            }
            snap = self.snapshot()
            if truth and self._truth is None:
                self._truth = snap.truth()
            cached = self._truth
        if truth:
            data["visibility"], data["usage_stats"], data["flavor_usage_stats"] = cached
        return data
