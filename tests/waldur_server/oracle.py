"""What Waldur's own database and code say, as JSON on stdout: ``python oracle.py QUESTION``.

Run by the live tests with Waldur's venv (server.py's ``run_in_waldur``), never with the
collection's code or the emulator's: it is the oracle the live suite compares against.

  dataset   the database in the emulator's data set format (``waldur-emulator-dataset/1``), with the
            users of users.py and their tokens: what the emulator differential loads
  truth     per user, what Waldur's own permission code (``filter_queryset_for_user``) lets them see
            (image, flavor and tenant uuids); usage counts per image and flavor name and service settings
            as Waldur's usage reporters count them (bootable volumes by image name, instances by flavor name)
  accepts   for every tenant x flavor x system volume size in argv (MiB), the images that Waldur's
            ``InstanceSerializer.validate`` accepts for an instance order
"""

import json
import sys

import django

django.setup()

# pylint: disable=wrong-import-position  # Django must be set up before its models are imported
from django.db.models import Count  # noqa: E402
from rest_framework import serializers as drf_serializers  # noqa: E402
from waldur_core.core.models import User  # noqa: E402
from waldur_core.permissions.models import UserRole  # noqa: E402
from waldur_core.structure.managers import filter_queryset_for_user  # noqa: E402
from waldur_core.structure.models import Customer, Project, ServiceSettings  # noqa: E402
from waldur_openstack.models import Flavor, Image, Instance, Tenant, Volume  # noqa: E402
from waldur_openstack.serializers import InstanceSerializer  # noqa: E402

from users import TOKENS  # noqa: E402  # beside this file, on PYTHONPATH

# The first error InstanceSerializer.validate raises once image and flavor passed: no network given.
NETWORK_MISSING = "Please specify at least one network."


def dataset():
    customers = list(Customer.objects.order_by("name"))
    projects = list(Project.objects.select_related("customer").order_by("name"))
    users = []
    for username, token in TOKENS.items():
        user = User.objects.get(username=username)
        roles = UserRole.objects.filter(user=user, is_active=True)
        users.append({
            "username": username, "token": token, "is_staff": user.is_staff, "expired": False,
            "project_uuids": sorted(r.scope.uuid.hex for r in roles if isinstance(r.scope, Project)),
            "customer_uuids": sorted(r.scope.uuid.hex for r in roles if isinstance(r.scope, Customer)),
        })
    return {
        "format": "waldur-emulator-dataset/1",
        "seed": None,
        "users": users,
        "customers": [{"uuid": c.uuid.hex, "name": c.name, "abbreviation": c.abbreviation} for c in customers],
        "projects": [{"uuid": p.uuid.hex, "name": p.name, "customer_uuid": p.customer.uuid.hex} for p in projects],
        "service_settings": [{
            "uuid": s.uuid.hex, "name": s.name, "type": s.type, "state": s.get_state_display(), "shared": s.shared,
            "customer_uuid": s.customer.uuid.hex if s.customer else None,
            "options": dict(s.options, backend_url=s.backend_url, username=s.username, password=s.password,
                            domain=s.domain, token=s.token),
        } for s in ServiceSettings.objects.select_related("customer").order_by("name")],
        "tenants": [{
            "uuid": t.uuid.hex, "name": t.name, "service_settings_uuid": t.service_settings.uuid.hex,
            "project_uuid": t.project.uuid.hex, "backend_id": t.backend_id or "",
            "created": t.created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        } for t in Tenant.objects.select_related("service_settings", "project").order_by("created")],
        "offerings": [],
        "images": [{
            "uuid": i.uuid.hex, "name": i.name, "min_disk": i.min_disk, "min_ram": i.min_ram,
            "settings_uuid": i.settings.uuid.hex, "backend_id": i.backend_id, "backend_created_at": None,
            "hw_rescue_device": "", "hw_rescue_bus": "", "is_rescue_image": False,
            "tenant_uuids": sorted(t.uuid.hex for t in i.tenants.all()),
        } for i in Image.objects.select_related("settings").prefetch_related("tenants").order_by("id")],
        "flavors": [{
            "uuid": f.uuid.hex, "name": f.name, "settings_uuid": f.settings.uuid.hex, "cores": f.cores, "ram": f.ram,
            "disk": f.disk, "backend_id": f.backend_id, "tenant_uuids": sorted(t.uuid.hex for t in f.tenants.all()),
        } for f in Flavor.objects.select_related("settings").prefetch_related("tenants").order_by("id")],
        # The emulator counts instances by image name; Waldur counts bootable volumes: seed.py
        # boots every instance from exactly one, so each becomes one instance of its image.
        "instances": [{
            "uuid": v.instance.uuid.hex, "image_name": v.image_name, "settings_uuid": v.service_settings.uuid.hex,
            "state": v.instance.runtime_state, "flavor_name": v.instance.flavor_name,
        } for v in Volume.objects.filter(bootable=True).select_related("instance", "service_settings").order_by("id")],
    }


def truth():
    visible = {}
    for username in TOKENS:
        user = User.objects.get(username=username)
        visible[username] = {
            kind: sorted(item.uuid.hex for item in filter_queryset_for_user(model.objects.all(), user))
            for kind, model in (("images", Image), ("flavors", Flavor), ("tenants", Tenant))
        }
    return {"visible": visible,
            "image_usage": _usage(Image, Volume.objects.filter(bootable=True), "image_name", "instance__runtime_state"),
            "flavor_usage": _usage(Flavor, Instance.objects.all(), "flavor_name", "runtime_state")}


def _usage(model, counted, name_field, state_field):
    """{name: {settings uuid: [running, created]}} for every distinct name of ``model``, counted as
    Waldur's UsageReporter counts (grouped by name; narrowed by settings with ``service_provider``)."""
    def counts(queryset):
        rows = queryset.values(name_field, "service_settings__uuid").annotate(count=Count(name_field)).order_by()
        return {(row[name_field], row["service_settings__uuid"].hex): row["count"] for row in rows}
    running = counts(counted.filter(**{state_field: Instance.RuntimeStates.ACTIVE}))
    created = counts(counted)
    usage = {name: {} for name in model.objects.values_list("name", flat=True).distinct()}
    for (name, settings_uuid), count in created.items():
        if name in usage:
            usage[name][settings_uuid] = [running.get((name, settings_uuid), 0), count]
    return usage


def accepts(sizes):
    """Ask InstanceSerializer.validate about every tenant x flavor x image x size.

    To keep this to seconds, a question is not repeated when its answer is known: validate checks
    the flavor's link to the tenant first (the same answer for every image), then the image's link
    and the RAM, and the system volume last (so a refusal for another reason holds for every size)."""
    serializer = InstanceSerializer(context={})
    images = list(Image.objects.all())
    sizes = sorted(sizes, reverse=True)

    def refusal(tenant, flavor, image, size):
        """The error Waldur raises for this order, or None when it accepts image and flavor."""
        attrs = {"tenant": tenant, "flavor": flavor, "image": image, "system_volume_size": size, "ports": []}
        try:
            InstanceSerializer.validate(serializer, attrs)
        except drf_serializers.ValidationError as exc:
            detail = json.dumps(exc.detail)
            return None if NETWORK_MISSING in detail else detail
        return None

    decisions = []
    for tenant in Tenant.objects.all():
        for flavor in Flavor.objects.all():
            accepted = {size: [] for size in sizes}
            flavor_refused = images and "Flavor is not visible in tenant" in (refusal(tenant, flavor, images[0], sizes[0]) or "")
            for image in [] if flavor_refused else images:
                for size in sizes:
                    error = refusal(tenant, flavor, image, size)
                    if error is None:
                        accepted[size].append(image.uuid.hex)
                    elif "system_volume_size" not in error:
                        break
            decisions.extend({"tenant": tenant.uuid.hex, "flavor": flavor.uuid.hex, "system_volume_size": size,
                              "images": sorted(accepted[size])} for size in sizes)
    return decisions


def main(argv):
    if argv[:1] == ["dataset"]:
        answer = dataset()
    elif argv[:1] == ["truth"]:
        answer = truth()
    elif argv[:1] == ["accepts"] and len(argv) > 1:
        answer = accepts([int(size) for size in argv[1:]])
    else:
        sys.exit("usage: oracle.py dataset|truth|accepts SIZE...")
    json.dump(answer, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1:])
