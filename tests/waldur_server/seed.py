"""Seed a migrated Waldur database through Waldur's own ORM: ``python seed.py small|large``.

Run by server.py with Waldur's venv and ``DJANGO_SETTINGS_MODULE=django_settings``; its hash keys
the cached dumps, so any change here rebuilds them.

small: three customers, four projects, three OpenStack service settings (private without a
customer, private to Beta, shared), six tenants (two named ``prod``); images and flavors linked to
some tenants and not others, duplicate names within and across clouds, hostile names (Jinja,
quotes, 150 characters, surrounding spaces), boot-from-volume flavors (``disk: 0``); instances with
bootable volumes for usage_stats; the users of users.py with their tokens.

large: the small data plus 5,000 images on a fourth, shared cloud, 4,300 of them sharing 300
names: enough ties among equal names for a plain page walk to repeat and miss images.

provider: the large data plus a provider's shape on a fifth, shared cloud (``cloud-provider``): 200
tenants, each linked to 50 of its 150 images, as a provider's public images are seen by many tenants.
"""

import random
import sys

import django

django.setup()

# pylint: disable=wrong-import-position  # Django must be set up before its models are imported
from django.db import transaction  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from waldur_core.core.models import User  # noqa: E402
from waldur_core.structure.models import Customer, CustomerRole, Project, ProjectRole, ServiceSettings  # noqa: E402
from waldur_openstack.models import Flavor, Image, Instance, Tenant, Volume  # noqa: E402

from hostile import HOSTILE_NAMES  # noqa: E402  # beside this file, on PYTHONPATH
from users import USERS  # noqa: E402

RNG = random.Random(19)
GIB = 1024

DISTROS = ("ubuntu-22.04", "ubuntu-24.04", "UBUNTU-22.04", "debian-12", "CentOS-Stream-9", "rocky-9.3",
           "almalinux-9", "fedora-40", "cirros-0.6.2", "windows-server-2022")
MIN_DISKS = (0, 1 * GIB, 2 * GIB, 10 * GIB, 20 * GIB, 40 * GIB)
MIN_RAMS = (0, 512, 1024, 2048, 4096, 16384)

# Per cloud: (name, cores, ram MiB, disk MiB, linked): names repeat across clouds with other specs.
FLAVORS = {
    "cloud-a": (("m1.small", 1, 2048, 20 * GIB, True), ("m1.medium", 2, 4096, 40 * GIB, True),
                ("m1.large", 4, 8192, 80 * GIB, True), ("v1.bfv.small", 1, 1024, 0, True),
                ("v1.bfv.large", 4, 8192, 0, True), ("g1.gpu", 8, 65536, 100 * GIB, False),
                ("m1.tiny", 1, 512, 1 * GIB, True), ("m1.twin", 2, 4096, 40 * GIB, True),
                ("m1.twin", 2, 4096, 40 * GIB, True)),
    "cloud-b": (("m1.small", 2, 1024, 10 * GIB, True), ("m1.xlarge", 8, 16384, 160 * GIB, True),
                ("{{ lookup('pipe', 'id') }}", 1, 1024, 0, True), ("v1.bfv.medium", 2, 4096, 0, False)),
    "cloud-c": (("m1.small", 1, 2048, 20 * GIB, True), ("hpc large \u2014 64 GiB", 16, 65536, 0, True),
                ("v1.bfv.small", 1, 1024, 0, True), ("m2.memory", 4, 32768, 50 * GIB, True)),
}


def main(which):
    with transaction.atomic():
        if which == "small":
            seed_small()
        elif which == "large":
            seed_large()
        elif which == "provider":
            seed_provider()
        else:
            sys.exit("usage: seed.py small|large|provider")


def seed_small():
    users = {name: User.objects.create(username=name, is_staff=(name == "staff"), email="%s@example.invalid" % name)
             for name in USERS}
    for name, (token, _role) in USERS.items():
        # Waldur gives every new user a random token; ours are fixed (users.py).
        Token.objects.filter(user=users[name]).delete()
        Token.objects.create(user=users[name], key=token)
    # Waldur gives new users a token lifetime (an hour); the seeded dump is restored days later, so ours never expire.
    User.objects.filter(username__in=list(USERS)).update(token_lifetime=None)

    customers = {name: Customer.objects.create(name=name, abbreviation=name.split()[0].upper())
                 for name in ("Alpha Org", "Beta Org", "Gamma Org")}
    projects = {name: Project.objects.create(name=name, customer=customers[customer])
                for name, customer in (("alpha-proj-1", "Alpha Org"), ("alpha-proj-2", "Alpha Org"),
                                       ("beta-proj-1", "Beta Org"), ("gamma-proj-1", "Gamma Org"))}
    customers["Alpha Org"].add_user(users["owner"], CustomerRole.OWNER)
    projects["gamma-proj-1"].add_user(users["member"], ProjectRole.MEMBER)

    clouds = {
        "cloud-a": openstack_settings("cloud-a", shared=False, customer=None),
        "cloud-b": openstack_settings("cloud-b", shared=False, customer=customers["Beta Org"]),
        "cloud-c": openstack_settings("cloud-c", shared=True, customer=None),
    }
    # (name, cloud, project): owner sees 1 and 4 (Alpha's projects), member sees 3 and 5.
    tenants = [tenant(name, clouds[cloud], projects[project]) for name, cloud, project in (
        ("prod", "cloud-a", "alpha-proj-1"),
        ("prod", "cloud-b", "beta-proj-1"),
        ("dev", "cloud-a", "gamma-proj-1"),
        ("research", "cloud-c", "alpha-proj-2"),
        ("shared-edu", "cloud-c", "gamma-proj-1"),
        ("idle", "cloud-b", "beta-proj-1"),
    )]
    idle = tenants[-1]
    by_cloud = {name: [t for t in tenants if t.service_settings == cloud and t is not idle] for name, cloud in clouds.items()}

    images = []
    for cloud_name, cloud in clouds.items():
        pool = by_cloud[cloud_name]
        for index, name in enumerate(DISTROS):
            images.append(image(cloud, name, MIN_DISKS[index % len(MIN_DISKS)], MIN_RAMS[(index * 5) % len(MIN_RAMS)],
                                linked_to(pool, index)))
        images.append(image(cloud, "%s-orphan" % cloud_name, 0, 0, []))
    # Duplicate names within a cloud: same name, other tenants and requirements.
    images.append(image(clouds["cloud-a"], "ubuntu-22.04", 10 * GIB, 1024, by_cloud["cloud-a"][:1]))
    images.append(image(clouds["cloud-a"], "ubuntu-22.04", 40 * GIB, 4096, []))
    for copy in range(3):
        images.append(image(clouds["cloud-c"], "debian-12", copy * 5 * GIB, 512 * copy, by_cloud["cloud-c"][copy % 2:]))
    for index, name in enumerate(HOSTILE_NAMES):
        cloud_name = ("cloud-a", "cloud-c")[index % 2]
        images.append(image(clouds[cloud_name], name, MIN_DISKS[index % len(MIN_DISKS)], MIN_RAMS[index % len(MIN_RAMS)],
                            by_cloud[cloud_name]))

    for cloud_name, catalogue in FLAVORS.items():
        pool = by_cloud[cloud_name]
        for index, (name, cores, ram, disk, linked) in enumerate(catalogue):
            flavor = Flavor.objects.create(settings=clouds[cloud_name], name=name, cores=cores, ram=ram, disk=disk,
                                           backend_id="flavor-%s-%d" % (cloud_name, index))
            if linked:
                flavor.tenants.set(linked_to(pool, index) or pool)

    seed_instances(images, tenants, clouds)


def openstack_settings(name, shared, customer):
    return ServiceSettings.objects.create(
        name=name, type="OpenStack", shared=shared, customer=customer, state=ServiceSettings.States.OK,
        backend_url="https://%s.example.invalid:5000/v3" % name, username="admin", password="not-a-secret",
        options={"tenant_name": "admin"})


def tenant(name, cloud, project):
    return Tenant.objects.create(name=name, service_settings=cloud, project=project,
                                 backend_id="tenant-%s-%s-%s" % (cloud.name, project.name, name))


def linked_to(pool, index):
    """Every tenant of the cloud, its first one, or none: in turn, so each shape occurs."""
    return (pool, pool[:1], [])[index % 3]


def image(cloud, name, min_disk, min_ram, tenants):
    created = Image.objects.create(settings=cloud, name=name, min_disk=min_disk, min_ram=min_ram,
                                   backend_id="image-%s-%06d" % (cloud.name, Image.objects.count()))
    created.tenants.set(tenants)
    return created


def seed_instances(images, tenants, clouds):
    """Instances, each booted from a volume of one image: what usage_stats counts."""
    states = (Instance.RuntimeStates.ACTIVE, Instance.RuntimeStates.ACTIVE, Instance.RuntimeStates.SHUTOFF,
              Instance.RuntimeStates.ERROR)
    flavor_names = {cloud: [f.name for f in Flavor.objects.filter(settings=cloud)] for cloud in clouds.values()}
    popular = [i for i in images if i.name in ("ubuntu-22.04", "debian-12", "{{ lookup('pipe', 'id') }}")]
    chosen = RNG.choices(popular, k=25) + RNG.choices(images, k=40)
    for number, picked in enumerate(chosen):
        candidates = [t for t in tenants if t.service_settings == picked.settings]
        boot(number, RNG.choice(candidates), picked.name, states[number % len(states)],
             RNG.choice(flavor_names[picked.settings]))
    # Instances of an image and a flavor deleted since: counted nowhere (no row has their names).
    for number, state in enumerate((Instance.RuntimeStates.ACTIVE, Instance.RuntimeStates.SHUTOFF), start=len(chosen)):
        boot(number, tenants[0], "deleted-image-2019", state, "deleted-flavor-2019")


def boot(number, in_tenant, image_name, state, flavor_name):
    instance = Instance.objects.create(
        name="vm-%03d" % number, service_settings=in_tenant.service_settings, project=in_tenant.project,
        tenant=in_tenant, runtime_state=state, flavor_name=flavor_name, backend_id="vm-%03d" % number)
    Volume.objects.create(
        name="vm-%03d-system" % number, service_settings=in_tenant.service_settings, project=in_tenant.project,
        tenant=in_tenant, size=20 * GIB, bootable=True, image_name=image_name, instance=instance,
        backend_id="volume-%03d" % number)


def seed_large():
    """5,000 images on a shared cloud: 4,300 under 300 names (ties), 700 with names of their own."""
    cloud = openstack_settings("cloud-bulk", shared=True, customer=None)
    gamma = Project.objects.get(name="gamma-proj-1")
    alpha = Project.objects.get(name="alpha-proj-1")
    bulk = [tenant("bulk", cloud, gamma), tenant("bulk-alpha", cloud, alpha)]
    names = ["bulk-%03d" % (index % 300) for index in range(4300)] + ["solo-%04d" % index for index in range(700)]
    # Shuffled, so that the physical order of equal names differs from the insertion of their names.
    RNG.shuffle(names)
    created = Image.objects.bulk_create(
        Image(settings=cloud, name=name, min_disk=(index % 7) * GIB, min_ram=(index % 5) * 512,
              backend_id="bulk-%05d" % index)
        for index, name in enumerate(names))
    links = Image.tenants.through
    rows = []
    for index, made in enumerate(created):
        if index % 17 == 0:
            continue  # linked to no tenant: staff only
        rows.append(links(image_id=made.id, tenant_id=bulk[index % 3 == 0].id))
    links.objects.bulk_create(rows)


PROVIDER_TENANTS = 200
PROVIDER_IMAGES = 150
PROVIDER_LINKS_PER_TENANT = 50


def seed_provider():
    """A provider's shape: many tenants, each seeing many of one cloud's images (in bulk: 10,000 links)."""
    cloud = openstack_settings("cloud-provider", shared=True, customer=None)
    projects = list(Project.objects.order_by("name"))
    tenants = [tenant("customer-%03d" % number, cloud, projects[number % len(projects)])
               for number in range(PROVIDER_TENANTS)]
    images = Image.objects.bulk_create(
        Image(settings=cloud, name="public-%03d" % number, min_disk=(number % 5) * GIB, min_ram=(number % 3) * 512,
              backend_id="provider-%03d" % number)
        for number in range(PROVIDER_IMAGES))
    links = Image.tenants.through
    links.objects.bulk_create(links(image_id=made.id, tenant_id=linked.id)
                              for linked in tenants for made in RNG.sample(images, PROVIDER_LINKS_PER_TENANT))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) == 2 else "")
