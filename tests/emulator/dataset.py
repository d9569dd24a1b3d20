"""Deterministic data sets for the Waldur API emulator.

A data set is a plain JSON-serialisable dict (format ``waldur-emulator-dataset/1``,
described in README.md).  ``generate_dataset`` builds one from a seed,
``dump_dataset`` writes it with the "truth" (who sees what, usage counts) computed by
the emulator's own logic, and ``load_dataset`` reads it back (the truth is recomputed).
"""

from __future__ import annotations

import datetime
import json
import copy
import random
import re
import time
import uuid as uuidlib

FORMAT = "waldur-emulator-dataset/1"
_HEX32 = re.compile(r"^[0-9a-f]{32}\Z")

CUSTOMERS = (
    ("Alpha Org", "ALPHA"),
    ("Beta Org", "BETA"),
    ("Gamma Org", "GAMMA"),
)

# (project name, customer index)
PROJECTS = (
    ("alpha-proj-1", 0),
    ("alpha-proj-2", 0),
    ("beta-proj-1", 1),
    ("beta-proj-2", 1),
    ("gamma-proj-1", 2),
)

# The non-staff user "user" has a role in these projects and customers (indexes above).
USER_PROJECTS = (0, 3)
USER_CUSTOMERS = (2,)

# Ownership of OpenStack service settings by index (cycled): (shared, customer index or None).
# cloud-a: private with no customer (only staff sees it, like the recorded sample),
# cloud-b/cloud-c: private to customers the user has no role in, cloud-d: shared,
# cloud-e: private to Gamma, where the user has a customer role.
SETTINGS_OWNERSHIP = (
    (False, None),
    (False, 0),
    (False, 1),
    (True, None),
    (False, 2),
)

DISTROS = (
    "ubuntu-22.04", "ubuntu-20.04", "Ubuntu-24.04-LTS", "debian-12", "debian-11",
    "CentOS-Stream-9", "centos-7", "rocky-9.3", "almalinux-9", "fedora-40",
    "opensuse-15.5", "alpine-3.20", "arch-linux", "freebsd-14.1", "cirros-0.6.2",
    "windows-server-2022",
)
VARIANTS = ("", "-x86_64", "-aarch64", "-minimal", "-cloud", "-gpu")

# Names that exercise quoting, templating, Unicode and whitespace handling.  The source
# stays ASCII: non-ASCII characters are written as escapes.
SPECIAL_NAMES = (
    "{{ lookup('pipe', 'id') }}",
    " leading space",
    "trailing space ",
    "'single' \"double\" quotes",
    "100% pure",
    "tab\tinside",
    "Ubuntu \u65e5\u672c\u8a9e",
    "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac",
    "rocket \U0001F680 image",
    ("very-long-image-name-" * 8)[:150],
    "Ubuntu 22.04 \u2014 LTS (Jammy)",
    "D\u00e9bian 12 \u2713",
    "\u03a9mega image \u00b5",
    "semi;colon",
    "back\\slash",
    "image/with/slashes",
    "comma,separated,name",
    "plus+sign",
    "name with  double  spaces",
    "amp&ersand=equals",
    "hash#tag?query",
    "under_score%wild*card",
    "{% if true %}block{% endif %}",
    "$(id) `id` ${HOME}",
    "<b>html</b>",
    "UBUNTU",
    "ubuntu",
)

# Flavor catalogues: (name, cores, ram MiB, disk MiB, linked to tenants).  The first three
# settings get the recorded shapes: a name reused with other specs on another cloud, a
# boot-from-volume flavor (disk 0), a flavor linked to no tenant, a hostile name and flavors
# equal on every field the server sorts by.
FLAVOR_CATALOGUES = (
    (("m1.tiny", 1, 512, 1024, True), ("{{ lookup('pipe', 'id') }}", 1, 1024, 10240, True),
     ("m1.small", 1, 2048, 20480, True), ("m1.medium", 2, 4096, 40960, True), ("v1.bfv.large", 4, 8192, 0, True),
     ("m1.large", 4, 8192, 81920, True), ("m1.xlarge", 8, 16384, 163840, True), ("g1.gpu", 8, 65536, 102400, False)),
    (("m1.tiny", 1, 512, 1024, True), ("v1.bfv.small", 1, 2048, 0, True), ("m1.small", 2, 1024, 10240, True),
     ("m1.medium", 2, 4096, 40960, True), ("m1.large", 4, 8192, 81920, True), ("c1.compute", 16, 32768, 40960, True)),
    (("m1.small", 2, 1024, 10240, True), ("m1.medium", 2, 4096, 40960, True), ("r1.memory", 4, 131072, 81920, True),
     ("hpc large \u2014 64 GiB", 16, 65536, 204800, True),
     # Newer versions of a flavor with the same specs: a tie in the server's order.
     ("m1.medium.v2", 2, 4096, 40960, True), ("m1.medium.v3", 2, 4096, 40960, True)),
)
GENERIC_FLAVORS = (("m1.small", 1, 2048, 20480, True), ("m1.medium", 2, 4096, 40960, True),
                   ("m1.large", 4, 8192, 81920, True))

ROUND_DISK = (0, 0, 512, 1024, 2048, 5120, 10240, 20480, 40960)
ROUND_RAM = (0, 0, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)
RESCUE_KINDS = (("disk", "virtio"), ("cdrom", "ide"), ("", "scsi"), ("disk", ""))
EPOCH = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
SPAN_SECONDS = 5 * 365 * 24 * 3600


_V4_CLEAR = ~((0xF << 76) | (0xC << 60))
_V4_SET = (0x4 << 76) | (0x8 << 60)


def _uuid_hex(rng):
    """A version-4 uuid as 32 lowercase hex chars, drawn from ``rng``."""
    return "%032x" % ((rng.getrandbits(128) & _V4_CLEAR) | _V4_SET)


def _dashed_uuid(rng):
    text = _uuid_hex(rng)
    return "%s-%s-%s-%s-%s" % (text[:8], text[8:12], text[12:16], text[16:20], text[20:])


def _below(rng, count):
    """A fast ``rng.randrange(count)`` (the exact distribution does not matter here)."""
    return int(rng.random() * count)


_EPOCH_TS = int(EPOCH.timestamp())


def _timestamp(rng, low=0, high=SPAN_SECONDS):
    seconds = low + _below(rng, high - low + 1)
    micro = 1 + _below(rng, 999999)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(_EPOCH_TS + seconds)) + ".%06dZ" % micro


def _letters(index):
    """0 -> a, 25 -> z, 26 -> aa ..."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(ord("a") + rem) + out
    return out


def _sub_rng(main):
    return random.Random(main.getrandbits(64))


class _Builder:
    """Builds one data set; kept as a class so the pieces share the random streams."""

    def __init__(self, images, tenants, settings, seed, names=None):
        self.n_names = names
        self.n_images = max(0, int(images))
        self.n_tenants = max(0, int(tenants))
        self.n_settings = max(1, int(settings))
        self.seed = seed
        main = random.Random(seed)
        # One stream per kind, so that e.g. tokens do not change with the image count.
        self.rng_ids = _sub_rng(main)
        self.rng_tokens = _sub_rng(main)
        self.rng_tenants = _sub_rng(main)
        self.rng_images = _sub_rng(main)
        self.rng_instances = _sub_rng(main)
        self.rng_image_ids = _sub_rng(main)
        self.rng_instance_ids = _sub_rng(main)
        self.rng_flavors = _sub_rng(main)
        self.ds = {"format": FORMAT, "seed": seed}

    def build(self):
        self._structure()
        self._images()
        self._flavors()
        self._instances()
        return self.ds

    def _structure(self):
        rng = self.rng_ids
        customers = [{"uuid": _uuid_hex(rng), "name": name, "abbreviation": abbr} for name, abbr in CUSTOMERS]
        projects = [{"uuid": _uuid_hex(rng), "name": name, "customer_uuid": customers[cust]["uuid"]} for name, cust in PROJECTS]
        settings = []
        for index in range(self.n_settings):
            name = "cloud-" + _letters(index)
            shared, cust = SETTINGS_OWNERSHIP[index % len(SETTINGS_OWNERSHIP)]
            settings.append({
                "uuid": _uuid_hex(rng),
                "name": name,
                "type": "OpenStack",
                "state": "OK",
                "shared": shared,
                "customer_uuid": customers[cust]["uuid"] if cust is not None else None,
                "options": {
                    "backend_url": "https://%s.example.invalid:5000/v3" % name,
                    "username": "admin",
                    "password": "secret-%08x" % rng.getrandbits(32),
                    "domain": None,
                    "token": None,
                    "tenant_name": "admin",
                },
            })
        # One settings entry of another type, so that ?type=OpenStack matters.
        settings.append({
            "uuid": _uuid_hex(rng),
            "name": "hpc-slurm",
            "type": "SLURM",
            "state": "OK",
            "shared": True,
            "customer_uuid": None,
            "options": {"hostname": "slurm.example.invalid", "username": "slurm", "port": "22"},
        })
        openstack = settings[:self.n_settings]
        tenants = []
        per_settings = {}
        trng = self.rng_tenants
        for index in range(self.n_tenants):
            sett = openstack[index % len(openstack)]
            per_settings[sett["uuid"]] = per_settings.get(sett["uuid"], 0) + 1
            name = "tenant-%s%d" % (sett["name"][len("cloud-"):], per_settings[sett["uuid"]])
            tenants.append({
                "uuid": _uuid_hex(rng),
                "name": name,
                "service_settings_uuid": sett["uuid"],
                "project_uuid": projects[index % len(projects)]["uuid"],
                "backend_id": "%032x" % trng.getrandbits(128),
                "created": _timestamp(trng, SPAN_SECONDS, SPAN_SECONDS + 3600 * 24 * 30),
            })
        if len(tenants) >= 2 and tenants[0]["service_settings_uuid"] != tenants[1]["service_settings_uuid"]:
            # Tenant names are not unique: two tenants named alike on different settings.
            tenants[0]["name"] = tenants[1]["name"] = "prod"
        offerings = []
        for sett in openstack:
            offerings.append({"uuid": _uuid_hex(rng), "name": "%s admin offering" % sett["name"],
                              "tenant_uuid": None, "settings_uuid": sett["uuid"]})
        for tenant in tenants[:3]:
            offerings.append({"uuid": _uuid_hex(rng), "name": "%s instances offering" % tenant["name"],
                              "tenant_uuid": tenant["uuid"], "settings_uuid": None})
        trng2 = self.rng_tokens
        users = [
            {"username": "staff", "token": "%040x" % trng2.getrandbits(160), "is_staff": True, "expired": False,
             "project_uuids": [], "customer_uuids": []},
            {"username": "user", "token": "%040x" % trng2.getrandbits(160), "is_staff": False, "expired": False,
             "project_uuids": [projects[i]["uuid"] for i in USER_PROJECTS],
             "customer_uuids": [customers[i]["uuid"] for i in USER_CUSTOMERS]},
            {"username": "expired", "token": "%040x" % trng2.getrandbits(160), "is_staff": False, "expired": True,
             "project_uuids": [projects[i]["uuid"] for i in USER_PROJECTS],
             "customer_uuids": [customers[i]["uuid"] for i in USER_CUSTOMERS]},
        ]
        self.ds.update({
            "users": users,
            "customers": customers,
            "projects": projects,
            "service_settings": settings,
            "tenants": tenants,
            "offerings": offerings,
        })
        self.openstack = openstack
        self.tenants_by_settings = {}
        for tenant in tenants:
            self.tenants_by_settings.setdefault(tenant["service_settings_uuid"], []).append(tenant)
        user = users[1]
        customer_of_project = {p["uuid"]: p["customer_uuid"] for p in projects}
        self.user_tenants = {
            t["uuid"] for t in tenants
            if t["project_uuid"] in user["project_uuids"] or customer_of_project[t["project_uuid"]] in user["customer_uuids"]
        }

    # ---------------------------------------------------------------- images
    def _specs(self):
        """Structured images first (in priority order), then as many generated ones as needed.

        Each spec: (name, settings index, mode, extra) where mode is the tenant linking mode
        ("one", "several", "none", "user") and extra a dict of forced values.
        """
        nset = len(self.openstack)
        specs = []
        for index, name in enumerate(SPECIAL_NAMES):
            mode = "user" if index < 3 else "one"
            specs.append((name, index % nset, mode, {}))
        # Duplicates: one name in every settings, older duplicates in the same settings.
        specs.append(("ubuntu-22.04", 0, "several", {"age": 0}))
        specs.append(("ubuntu-22.04", 0, "user", {"age": 2}))
        specs.append(("ubuntu-22.04", 0, "one", {"age": 1}))
        for sidx in range(1, nset):
            specs.append(("ubuntu-22.04", sidx, "several", {"age": 0}))
        specs.append(("CentOS-Stream-9", 0, "user", {"age": 0}))
        specs.append(("CentOS-Stream-9", 0, "one", {"age": 1}))
        specs.append(("CentOS-Stream-9", 0, "several", {"age": 2}))
        specs.append(("CentOS-Stream-9", 1 % nset, "one", {"age": 0}))
        specs.append(("CentOS-Stream-9", 1 % nset, "one", {"age": 1}))
        for sidx in range(nset):
            specs.append(("debian-12", sidx, "several", {"age": 0}))
        specs.append(("windows-server-2022", 0, "one", {"min_disk": 40960, "min_ram": 4096}))
        # Rescue images (8.0.8+ fields).
        specs.append(("rescue-ubuntu", 0, "several", {"rescue": ("disk", "virtio")}))
        specs.append(("rescue-cirros", 1 % nset, "one", {"rescue": ("", "scsi")}))
        specs.append(("rescue-cdrom", 2 % nset, "user", {"rescue": ("cdrom", "")}))
        for sidx, sett in enumerate(self.openstack):
            letter = sett["name"][len("cloud-"):]
            specs.append(("cloud-%s-orphan-no-tenant-1" % letter, sidx, "none", {}))
            specs.append(("cloud-%s-orphan-no-tenant-2" % letter, sidx, "none", {}))
            specs.append(("cloud-%s-max-both" % letter, sidx, "one", {"min_disk": 40960, "min_ram": 16384}))
            specs.append(("cloud-%s-min-zero" % letter, sidx, "one", {"min_disk": 0, "min_ram": 0}))
            specs.append(("cloud-%s-null-created" % letter, sidx, "one", {"null_created": True}))
        return specs

    def _tenant_links(self, rng, sett_uuid, mode):
        pool = self.tenants_by_settings.get(sett_uuid, [])
        if mode == "none" or not pool:
            return []
        if mode == "user":
            mine = [t for t in pool if t["uuid"] in self.user_tenants]
            if mine:
                return [mine[_below(rng, len(mine))]["uuid"]]
            mode = "one"
        if mode == "several" and len(pool) >= 2:
            first = _below(rng, len(pool))
            second = (first + 1 + _below(rng, len(pool) - 1)) % len(pool)
            chosen = {pool[first]["uuid"], pool[second]["uuid"]}
            chosen.update(t["uuid"] for t in pool if rng.random() < 0.3)
            return sorted(chosen)
        return [pool[_below(rng, len(pool))]["uuid"]]

    def _images(self):
        rng = self.rng_images
        idrng = self.rng_image_ids
        images = []
        specs = self._specs()[:self.n_images]
        for name, sidx, mode, extra in specs:
            images.append(self._make_image(rng, idrng, name, sidx, mode, extra))
        nset = len(self.openstack)
        settings_index = {s["uuid"]: i for i, s in enumerate(self.openstack)}
        while len(images) < self.n_images:
            roll = rng.random()
            if roll < 0.22 and images:
                # Same name on another settings (cross-settings duplicate).
                src = images[_below(rng, len(images))]
                images.append(self._make_image(rng, idrng, src["name"], _below(rng, nset), self._mode(rng), {}))
            elif roll < 0.34 and images:
                # An older (or newer) duplicate in the same settings.
                src = images[_below(rng, len(images))]
                sidx = settings_index[src["settings_uuid"]]
                images.append(self._make_image(rng, idrng, src["name"], sidx, self._mode(rng), {}))
            elif self.n_names:
                number = _below(rng, self.n_names)
                images.append(self._make_image(rng, idrng, "%s-v%d" % (DISTROS[number % len(DISTROS)], number),
                                               _below(rng, nset), self._mode(rng), {}))
            else:
                base = DISTROS[_below(rng, len(DISTROS))]
                if rng.random() < 0.75:
                    suffix = "-20%06d" % (200000 + _below(rng, 50000))
                else:
                    suffix = VARIANTS[_below(rng, len(VARIANTS))]
                images.append(self._make_image(rng, idrng, base + suffix, _below(rng, nset), self._mode(rng), {}))
        self.ds["images"] = images

    @staticmethod
    def _mode(rng):
        roll = rng.random()
        if roll < 0.08:
            return "none"
        if roll < 0.70:
            return "one"
        return "several"

    def _make_image(self, rng, idrng, name, sidx, mode, extra):
        sett = self.openstack[sidx]
        if "age" in extra:
            # Fixed ages make the newest of a duplicate group predictable: age 0 is newest.
            created = _timestamp(rng, SPAN_SECONDS - (extra["age"] + 1) * 86400 * 30, SPAN_SECONDS - extra["age"] * 86400 * 30 - 1)
        elif extra.get("null_created"):
            created = None
        else:
            created = _timestamp(rng, 0, SPAN_SECONDS - 4 * 86400 * 30)
        if "min_disk" in extra:
            min_disk, min_ram = extra["min_disk"], extra["min_ram"]
        else:
            min_disk = ROUND_DISK[_below(rng, len(ROUND_DISK))] if rng.random() < 0.6 else _below(rng, 40961)
            min_ram = ROUND_RAM[_below(rng, len(ROUND_RAM))] if rng.random() < 0.6 else _below(rng, 16385)
        device, bus = extra.get("rescue", ("", ""))
        if not extra and rng.random() < 0.02:
            device, bus = RESCUE_KINDS[_below(rng, len(RESCUE_KINDS))]
        return {
            "uuid": _uuid_hex(idrng),
            "name": name,
            "min_disk": min_disk,
            "min_ram": min_ram,
            "settings_uuid": sett["uuid"],
            "backend_id": _dashed_uuid(idrng),
            "backend_created_at": created,
            "hw_rescue_device": device,
            "hw_rescue_bus": bus,
            "is_rescue_image": bool(device or bus),
            "tenant_uuids": self._tenant_links(rng, sett["uuid"], mode),
        }

    # --------------------------------------------------------------- flavors
    def _flavors(self):
        rng = self.rng_flavors
        flavors = []
        for sidx, sett in enumerate(self.openstack):
            catalogue = FLAVOR_CATALOGUES[sidx] if sidx < len(FLAVOR_CATALOGUES) else GENERIC_FLAVORS
            for name, cores, ram, disk, linked in catalogue:
                flavors.append({
                    "uuid": _uuid_hex(rng),
                    "name": name,
                    "settings_uuid": sett["uuid"],
                    "cores": cores,
                    "ram": ram,
                    "disk": disk,
                    "backend_id": _dashed_uuid(rng),
                    # Flavors are usually shared by several tenants of a cloud.
                    "tenant_uuids": self._tenant_links(rng, sett["uuid"], self._flavor_mode(rng) if linked else "none"),
                })
        self.ds["flavors"] = flavors
        self.flavor_names = {}
        for flavor in flavors:
            self.flavor_names.setdefault(flavor["settings_uuid"], []).append(flavor["name"])

    # ------------------------------------------------------------- instances
    def _instances(self):
        rng = self.rng_instances
        idrng = self.rng_instance_ids
        images = self.ds["images"]
        instances = []
        if not images:
            self.ds["instances"] = instances
            return
        popular = images[:min(len(images), 40)]
        count = max(6, len(images) // 3)
        settings_uuids = [s["uuid"] for s in self.openstack]
        for _index in range(count):
            image = popular[_below(rng, len(popular))] if rng.random() < 0.6 else images[_below(rng, len(images))]
            sett = image["settings_uuid"] if rng.random() < 0.9 else settings_uuids[_below(rng, len(settings_uuids))]
            roll = rng.random()
            state = "ACTIVE" if roll < 0.6 else ("SHUTOFF" if roll < 0.85 else "ERROR")
            instances.append({"uuid": _uuid_hex(idrng), "image_name": image["name"], "settings_uuid": sett, "state": state,
                              "flavor_name": self._flavor_name(sett)})
        # Instances of an image that no longer exists: they must not create a usage row.
        for state in ("ACTIVE", "SHUTOFF"):
            instances.append({"uuid": _uuid_hex(idrng), "image_name": "deleted-image-2019",
                              "settings_uuid": settings_uuids[0], "state": state, "flavor_name": "deleted-flavor-2019"})
        self.ds["instances"] = instances

    @staticmethod
    def _flavor_mode(rng):
        return "several" if rng.random() < 0.7 else "one"

    def _flavor_name(self, settings_uuid):
        names = self.flavor_names.get(settings_uuid)
        return names[_below(self.rng_flavors, len(names))] if names else None


def generate_dataset(images=700, tenants=12, settings=3, seed=1, names=None):
    """Build a deterministic data set (dict in the dump format, truth included).

    ``names``: draw the generated images' names from that many, as clouds with many versions and
    copies of each image have them (long runs of equal names in the server's order)."""
    dataset = _Builder(images, tenants, settings, seed, names).build()
    return with_truth(dataset, trusted=True)


def with_truth(dataset, server_version=None, trusted=False):
    """Return ``dataset`` with "visibility" and "usage_stats" (re)computed."""
    from .store import Store  # pylint: disable=import-outside-toplevel  # store imports this module

    return Store(dataset, server_version=server_version, trusted=trusted).export(truth=True)


def hex_uuid(value):
    """Normalise a uuid string (hex, dashed, braces...) to 32 lowercase hex chars, or None."""
    if not isinstance(value, str):
        return None
    if _HEX32.match(value):
        return value
    try:
        return uuidlib.UUID(value).hex
    except ValueError:
        return None


def _uuid_or_keep(value):
    return hex_uuid(value) or value


_DEFAULTS = {
    "users": (("is_staff", False), ("expired", False), ("project_uuids", []), ("customer_uuids", [])),
    "customers": (),
    "projects": (),
    "service_settings": (("type", "OpenStack"), ("state", "OK"), ("shared", False), ("customer_uuid", None), ("options", {})),
    "tenants": (("backend_id", ""), ("created", "2024-01-01T00:00:00.000000Z")),
    "offerings": (("tenant_uuid", None), ("settings_uuid", None)),
    "images": (("min_disk", 0), ("min_ram", 0), ("backend_id", ""), ("backend_created_at", None),
               ("hw_rescue_device", ""), ("hw_rescue_bus", ""), ("tenant_uuids", [])),
    "flavors": (("cores", 0), ("ram", 0), ("disk", 0), ("backend_id", ""), ("tenant_uuids", [])),
    "instances": (("state", "ACTIVE"), ("flavor_name", None)),
}
_UUID_KEYS = {
    "users": ("project_uuids", "customer_uuids"),
    "customers": ("uuid",),
    "projects": ("uuid", "customer_uuid"),
    "service_settings": ("uuid", "customer_uuid"),
    "tenants": ("uuid", "service_settings_uuid", "project_uuid"),
    "offerings": ("uuid", "tenant_uuid", "settings_uuid"),
    "images": ("uuid", "settings_uuid", "tenant_uuids"),
    "flavors": ("uuid", "settings_uuid", "tenant_uuids"),
    "instances": ("uuid", "settings_uuid"),
}


def normalize_dataset(data, trusted=False):
    """Validate a data set, fill defaults and normalise uuids to 32 lowercase hex chars.

    Returns a new dict without the truth.  ``trusted`` (data made by ``generate_dataset`` or
    exported by the emulator) skips the per-object checks and copies, for speed."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("not a %s data set" % FORMAT)
    out = {"format": FORMAT, "seed": data.get("seed")}
    for kind, defaults in _DEFAULTS.items():
        value = data.get(kind, [])
        if not isinstance(value, list):
            raise ValueError("%s must be a list" % kind)
        if trusted:
            out[kind] = list(value)
            continue
        items = []
        for item in value:
            item = dict(item)
            for key, default in defaults:
                if key not in item:
                    item[key] = copy.copy(default)
            for key in _UUID_KEYS[kind]:
                current = item.get(key)
                if isinstance(current, list):
                    item[key] = [_uuid_or_keep(v) for v in current]
                elif current is not None:
                    item[key] = _uuid_or_keep(current)
            items.append(item)
        out[kind] = items
    if not trusted:
        for cust in out["customers"]:
            if "abbreviation" not in cust:
                cust["abbreviation"] = "".join(ch for ch in cust["name"].upper() if ch.isalnum())[:8]
        for image in out["images"]:
            if "is_rescue_image" not in image:
                image["is_rescue_image"] = bool(image["hw_rescue_device"] or image["hw_rescue_bus"])
    return out


def dump_dataset(ds, path, server_version=None):
    """Write ``ds`` with its truth (recomputed) to ``path`` as UTF-8 JSON."""
    data = with_truth(normalize_dataset(ds), server_version=server_version)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.write("\n")
    return data


def load_dataset(path):
    """Read a data set written by ``dump_dataset``; its truth is recomputed, not trusted."""
    with open(path, "r", encoding="utf-8") as handle:
        data = json.load(handle)
    return with_truth(normalize_dataset(data))
