"""The benchmark: the collection against Waldur's own clients and a floor, in one run.

Usage: .venv/bin/python bench/run.py [--repeat N] [--quick]
Starts the emulator (20 ms latency per response, 10,000 images, 50 tenants), measures each
contender's median wall time over repeated runs and its request count (from the emulator's own
accounting), then peak memory for 100,000 images, prints a table and writes bench/RESULTS.md.
Targets are reported as ratios measured in this one run; nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from tests.emulator.process import EmulatorProcess  # noqa: E402  pylint: disable=wrong-import-position

BENCH = os.path.join(ROOT, "bench")
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
BENCH_PYTHON = os.path.join(ROOT, ".cache", "bench-venv", "bin", "python")
COLLECTIONS = os.path.join(ROOT, ".cache", "collections")


class Emulator(EmulatorProcess):
    """The emulator in its own process, so serving never competes with a contender for the GIL."""

    def __init__(self, images, tenants, settings, latency_ms, *options):
        super().__init__("--images", str(images), "--tenants", str(tenants), "--settings", str(settings),
                         "--seed", "1", "--latency-ms", str(latency_ms), *options)
        self.token = self.tokens["staff"]

    def requests(self):
        with urllib.request.urlopen(self.url + "/__emulator__/requests") as response:
            return sum(json.load(response).values())

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(self.url + "/__emulator__/requests", method="DELETE")).close()


def environment(emulator):
    return dict(os.environ, WALDUR_API_URL=emulator.url, WALDUR_API_TOKEN=emulator.token, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
                ANSIBLE_PYTHON_INTERPRETER=os.path.join(VENV_BIN, "python"), ANSIBLE_LOCALHOST_WARNING="0",
                ANSIBLE_INVENTORY_UNPARSED_WARNING="0")


def measure(emulator, command, repeat, inner=True, env=None):
    """Median seconds and requests per run; ``inner`` takes the time the command reports itself."""
    times = []
    counts = []
    for _run in range(repeat):
        emulator.reset()
        started = time.perf_counter()
        completed = subprocess.run(command, cwd=ROOT, env=env or environment(emulator), capture_output=True, text=True,
                                   check=False)
        elapsed = time.perf_counter() - started
        if completed.returncode != 0:
            raise SystemExit("%s failed:\n%s%s" % (" ".join(command), completed.stdout[-3000:], completed.stderr[-3000:]))
        times.append(json.loads(completed.stdout.splitlines()[-1])["seconds"] if inner else elapsed)
        counts.append(emulator.requests())
    return {"seconds": statistics.median(times), "requests": statistics.median(counts), "runs": repeat}


def listing(strategy, python=None):
    return [python or sys.executable, os.path.join(BENCH, "listing.py"), strategy]


PLAYBOOK = """
- name: Bench
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: The task being measured
      %s
"""


def playbook(directory, name, task):
    path = os.path.join(directory, name + ".yml")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(PLAYBOOK % task)
    return [os.path.join(VENV_BIN, "ansible-playbook"), path]


def with_url(emulator, command):
    return command + [emulator.url, emulator.token]


def ensure_bench_venv():
    """waldur-api-client lives only here: it is a contender, not a dependency."""
    if not os.path.exists(BENCH_PYTHON):
        subprocess.run([sys.executable, "-m", "venv", os.path.dirname(os.path.dirname(BENCH_PYTHON))], check=True)
    subprocess.run([BENCH_PYTHON, "-m", "pip", "install", "-q", "waldur-api-client", "requests"], check=True)
    return subprocess.run([BENCH_PYTHON, "-c", "import importlib.metadata as m; print(m.version('waldur-api-client'))"],
                          capture_output=True, text=True, check=True).stdout.strip()


def inventory_rows(emulator, directory, repeat):
    """Cold and cached runs of the inventory plugin against ansible-inventory on the same hosts as static YAML."""
    cache = os.path.join(directory, "cache")
    source = os.path.join(directory, "bench.waldur_images.yml")
    with open(source, "w", encoding="utf-8") as handle:
        handle.write("plugin: waldur.cloud.openstack_images\ncache: true\ncache_plugin: ansible.builtin.jsonfile\n"
                     "cache_connection: %s\ncache_timeout: 3600\n" % cache)
    inventory = os.path.join(VENV_BIN, "ansible-inventory")
    env = dict(environment(emulator), ANSIBLE_INVENTORY_ENABLED="waldur.cloud.openstack_images")
    cold = measure(emulator, [inventory, "-i", source, "--list", "--output", os.devnull, "--flush-cache"], repeat, inner=False, env=env)
    cached = measure(emulator, [inventory, "-i", source, "--list", "--output", os.devnull], repeat, inner=False, env=env)
    static = os.path.join(directory, "static.yml")
    subprocess.run([inventory, "-i", source, "--list", "--yaml", "--output", static], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    env_static = dict(env, ANSIBLE_INVENTORY_ENABLED="yaml")
    yaml_static = measure(emulator, [inventory, "-i", static, "--list", "--output", os.devnull], repeat, inner=False, env=env_static)
    return [("inventory, cold (no cache)", cold), ("inventory, cached", cached), ("ansible-inventory on static YAML", yaml_static)]


LOOKUP_PLAYBOOK = """
- name: Bench
  hosts: all
  connection: local
  gather_facts: false
  tasks:
    - name: The same lookup for every host
      ansible.builtin.set_fact:
        chosen: "{{ lookup('waldur.cloud.openstack_image', name='ubuntu', fits={'disk': '20G'}, cache_lifetime=%d).uuid }}"
"""


def lookup_rows(emulator, directory, repeat):
    """One openstack_image lookup evaluated for 50 hosts (5 forks), its listing shared or not, and for one host."""
    rows = []
    for hosts, lifetime, label in ((1, 60, "lookup, 1 host"), (50, 60, "lookup, 50 hosts, shared listing"),
                                   (50, 0, "lookup, 50 hosts, cache_lifetime=0")):
        inventory = os.path.join(directory, "hosts-%d.ini" % hosts)
        with open(inventory, "w", encoding="utf-8") as handle:
            handle.write("".join("host%02d\n" % number for number in range(hosts)))
        path = os.path.join(directory, "lookup-%d-%d.yml" % (hosts, lifetime))
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(LOOKUP_PLAYBOOK % lifetime)
        rows.append((label, measure(emulator, [os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory, "--forks", "5",
                                               path], repeat, inner=False)))
    return rows


def memory_row():
    """Peak memory listing 100,000 images, and how long the emulator takes to serve one full page of them."""
    import requests

    # Stable order among equal names: the listing with duplicates cannot narrow to a name, so under the server's
    # unstable order some of 100,000 images would stay missed and the listing would fail, as it should; this row
    # measures memory, not that recovery.
    emulator = Emulator(100000, 50, 5, 0, "--stable-ties")
    try:
        completed = subprocess.run([sys.executable, os.path.join(BENCH, "memory.py"), emulator.url, emulator.token],
                                   capture_output=True, text=True, check=True)
        session = requests.Session()
        session.headers["Authorization"] = "Token " + emulator.token
        page_times = []
        for page in range(1, 21):
            started = time.perf_counter()
            session.get(emulator.url + "/api/openstack-images/", params={"page_size": 300, "page": page}).raise_for_status()
            page_times.append(time.perf_counter() - started)
    finally:
        emulator.stop()
    return dict(json.loads(completed.stdout), page_seconds=statistics.median(page_times))


def versions(waldur_api_client):
    import ansible
    import requests

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": "%s, %s, %d cores" % (platform.platform(), platform.machine(), os.cpu_count()),
        "python": platform.python_version(),
        "ansible-core": ansible.__version__,
        "requests": requests.__version__,
        "waldur-api-client": waldur_api_client,
    }


def tie_rows(arguments, repeat):
    """The client's listing of the default list where the server's order among equal names is unstable (17 clouds,
    300 names), against the same listing where it is stable: the extra requests and time the cut tie groups cost."""
    rows = []
    for label, options in (("stable", ("--stable-ties",)), ("unstable", ())):
        emulator = Emulator(arguments.images, 50, 17, arguments.latency_ms, "--names", "300", *options)
        try:
            rows.append(("listing with many equal names, %s order among them" % label,
                         measure(emulator, with_url(emulator, listing("collection_default")), repeat)))
            if label == "unstable":
                rows.append(("page boundaries that cut a group of equal names", {
                    "seconds": 0, "requests": cut_boundaries(emulator), "runs": 1}))
        finally:
            emulator.stop()
    return rows


def cut_boundaries(emulator):
    """How many boundaries between pages of 300 fall inside a group of equal names (names keep their places in any order)."""
    names = []
    page = 1
    while True:
        request = urllib.request.Request("%s/api/openstack-images/?page_size=300&page=%d" % (emulator.url, page),
                                         headers={"Authorization": "Token " + emulator.token})
        with urllib.request.urlopen(request) as response:
            names += [image["name"] for image in json.load(response)]
            if 'rel="next"' not in (response.headers.get("Link") or ""):
                break
        page += 1
    return sum(1 for boundary in range(300, len(names), 300) if names[boundary - 1] == names[boundary])


PROVIDER_GROUPING = """keyed_groups:
  - key: waldur_tenant_uuids | map('extract', waldur_tenants, 'project_name') | unique
    prefix: project
"""
# The parts of a cached inventory run that the provider shape makes large, by the functions that do them.
PARTS = (
    ("reading the cache (JSON decoding)", ("cache/__init__.py", "__getitem__")),
    ("tenant links, in tenant name order", ("inventory.py", "tenant_links")),
    ("host variables", ("inventory.py", "host_vars")),
    ("unsafe wrapping", ("unsafe.py", "make_unsafe")),
    ("host and group names (tie checks)", ("inventory.py", "unique_names")),
    ("placing hosts in groups (Ansible's add_host)", ("data.py", "add_host")),
    ("setting variables (Ansible's set_variable)", ("manager.py", "set_variable")),
    ("compose, groups, keyed_groups", ("openstack_images.py", "_construct")),
    ("the whole parse", ("openstack_images.py", "parse")),
    ("writing --list (JSON encoding)", ("inventory.py", "dump")),
)


def provider_rows(arguments, directory):
    """The provider's shape (bench/shape.py): the inventory, its floor and a script inventory printing its output."""
    dataset = os.path.join(directory, "provider.json")
    subprocess.run([sys.executable, os.path.join(BENCH, "shape.py"), dataset, "--tenants", str(arguments.provider_tenants),
                    "--images", str(arguments.provider_images), "--per-tenant", str(arguments.provider_per_tenant)],
                   check=True)
    emulator = Emulator(0, 0, 1, arguments.provider_latency_ms, "--dataset", dataset)
    try:
        rows = [("floor: the same requests, plain requests, 4 in parallel",
                 measure(emulator, with_url(emulator, listing("inventory_floor")), 1))]
        inventory = os.path.join(VENV_BIN, "ansible-inventory")
        env = dict(environment(emulator), ANSIBLE_INVENTORY_ENABLED="waldur.cloud.openstack_images,script")
        sources = {}
        for name, extra in (("plain", ""), ("project", PROVIDER_GROUPING), ("settings", "group_by: [settings]\n")):
            sources[name] = os.path.join(directory, "%s.waldur_images.yml" % name)
            with open(sources[name], "w", encoding="utf-8") as handle:
                handle.write("plugin: waldur.cloud.openstack_images\ncache: true\ncache_plugin: ansible.builtin.jsonfile\n"
                             "cache_connection: %s\ncache_timeout: 0\n%s" % (os.path.join(directory, "cache-" + name), extra))
        output = os.path.join(directory, "provider-list.json")

        def run(name, label, repeat, *options):
            rows.append((label, measure(emulator, [inventory, "-i", sources[name], "--list", "--output", output] + list(options),
                                        repeat, inner=False, env=env)))

        run("plain", "inventory, cold (default options)", 1, "--flush-cache")
        size = os.path.getsize(output)
        script = os.path.join(directory, "provider-script.sh")
        with open(script, "w", encoding="utf-8") as handle:
            handle.write("#!/bin/sh\n# The inventory's own --list output, as a script inventory prints it.\n"
                         "if [ \"$1\" = --list ]; then exec cat %s.saved; fi\necho '{}'\n" % output)
        os.chmod(script, 0o755)
        shutil.copy(output, output + ".saved")
        run("plain", "inventory, cached", arguments.repeat)
        rows.append(("script inventory printing the same --list output", measure(
            emulator, [inventory, "-i", script, "--list", "--output", output], arguments.repeat, inner=False, env=env)))
        subprocess.run([inventory, "-i", sources["project"], "--list", "--output", os.devnull], cwd=ROOT, env=env, check=True,
                       capture_output=True)  # fills its cache
        run("project", "inventory, cached, + keyed_groups by project (waldur_tenants)", arguments.repeat)
        run("settings", "inventory, cold, group_by: [settings] (no tenant listings)", 1, "--flush-cache")
        parts = profile_parts(inventory, sources["plain"], output, env)
    finally:
        emulator.stop()
    return rows, size, parts


def profile_parts(inventory, source, output, env):
    """Where a cached run's time goes: cumulative seconds of the functions of PARTS under cProfile (which slows
    Python code, so compare the parts with each other, not with the timed runs)."""
    import pstats

    profile = os.path.join(os.path.dirname(output), "provider.prof")
    subprocess.run([sys.executable, "-m", "cProfile", "-o", profile, inventory, "-i", source, "--list", "--output", output],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    stats = pstats.Stats(profile).stats
    parts = []
    for label, (file_name, function) in PARTS:
        seconds = sum(values[3] for (path, _line, name), values in stats.items()
                      if name == function and path.endswith(file_name))
        parts.append((label, seconds))
    total = max(values[3] for values in stats.values())
    return parts + [("the whole run under the profiler", total)]


def ratio(a, b):
    return a / b if b else float("inf")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs per fast contender (slow ones run 3 times)")
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--provider-tenants", type=int, default=1006)
    parser.add_argument("--provider-images", type=int, default=703)
    parser.add_argument("--provider-per-tenant", type=int, default=100)
    parser.add_argument("--provider-latency-ms", type=int, default=510,
                        help="latency of the provider shape (default 510: the real Waldur of issue 24 answered these "
                             "listings in 129 s for 1,013 requests, 4 at a time, about 510 ms each)")
    parser.add_argument("--only-provider", action="store_true", help="measure the provider shape only")
    arguments = parser.parse_args()
    repeat, slow = arguments.repeat, min(3, arguments.repeat)

    if arguments.only_provider:
        directory = tempfile.mkdtemp(prefix="waldur-bench-")
        try:
            provider = provider_rows(arguments, directory)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        section = render_provider(provider, arguments)
        sys.stdout.write(section)
        write_provider_section(section)
        return
    waldur_api_client = ensure_bench_venv()
    rows = {}
    ties = tie_rows(arguments, repeat)
    # The contenders are compared where a plain page walk is right: on a stable order among equal names.
    emulator = Emulator(arguments.images, 50, 5, arguments.latency_ms, "--stable-ties")
    directory = tempfile.mkdtemp(prefix="waldur-bench-")
    try:
        rows["floor"] = measure(emulator, with_url(emulator, listing("floor")), repeat)
        rows["collection"] = measure(emulator, with_url(emulator, listing("collection")), repeat)
        rows["link_walk"] = measure(emulator, with_url(emulator, listing("link_walk")), slow)
        rows["sync_all"] = measure(emulator, with_url(emulator, listing("sync_all", BENCH_PYTHON)), slow)
        rows["module_all"] = measure(emulator, playbook(directory, "info_all", "waldur.cloud.openstack_image_info:"), repeat,
                                     inner=False)
        rows["module_one_page"] = measure(emulator, playbook(
            directory, "info_one", "waldur.cloud.openstack_image_info:\n        name_exact: debian-12"), repeat, inner=False)
        rows["uri_one_page"] = measure(emulator, playbook(
            directory, "uri_one", "ansible.builtin.uri:\n        url: \"{{ lookup('env', 'WALDUR_API_URL') }}/api/openstack-images/"
            "?name_exact=debian-12&page_size=300\"\n        headers:\n          Authorization: \"Token {{ lookup('env', "
            "'WALDUR_API_TOKEN') }}\""), repeat, inner=False)
        inventory = inventory_rows(emulator, directory, repeat)
        lookups = lookup_rows(emulator, directory, slow)
    finally:
        emulator.stop()
    try:
        provider = provider_rows(arguments, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    memory = memory_row()
    report = render(rows, inventory + lookups + ties, memory, versions(waldur_api_client), arguments)
    report += "\n" + render_provider(provider, arguments)
    sys.stdout.write(report)
    with open(os.path.join(BENCH, "RESULTS.md"), "w", encoding="utf-8") as handle:
        handle.write(report)


def render(rows, inventory, memory, facts, arguments):
    lines = ["# Benchmark results", ""]
    lines += ["- %s: %s" % (key, value) for key, value in facts.items()]
    lines += ["- emulator: %d images, 50 tenants, 5 service settings, %d ms latency per response, in its own process" % (
        arguments.images, arguments.latency_ms), ""]
    lines += ["Produced by `make bench` (bench/run.py): medians of repeated runs in one session; request counts from the "
              "emulator's accounting.", ""]
    lines += ["| contender | median s | requests | runs |", "|---|---:|---:|---:|"]
    names = {
        "floor": "floor: plain requests, 300/page, keep-alive, 4 in parallel",
        "collection": "waldur.cloud client (list_all)",
        "link_walk": "Link walk, 10/page, new connection each (generated modules)",
        "sync_all": "waldur-api-client sync_all (100/page, sequential)",
        "module_all": "ansible-playbook: openstack_image_info, every image",
        "module_one_page": "ansible-playbook: openstack_image_info, one page (name_exact)",
        "uri_one_page": "ansible-playbook: ansible.builtin.uri, the same page",
    }
    for key, label in names.items():
        row = rows[key]
        lines.append("| %s | %.3f | %d | %d |" % (label, row["seconds"], row["requests"], row["runs"]))
    for label, row in inventory:
        lines.append("| %s | %.3f | %d | %d |" % (label, row["seconds"], row["requests"], row["runs"]))
    lines += ["", "## Targets", "", "| target | measured | met |", "|---|---:|---|"]

    def target(text, value, limit, smaller_is_better=True, unit="x"):
        met = value <= limit if smaller_is_better else value >= limit
        lines.append("| %s | %.2f%s | %s |" % (text, value, unit, "yes" if met else "**no**"))

    target("listing / floor <= 1.1", ratio(rows["collection"]["seconds"], rows["floor"]["seconds"]), 1.1)
    target("Link walk / listing >= 20", ratio(rows["link_walk"]["seconds"], rows["collection"]["seconds"]), 20, False)
    target("sync_all / listing >= 3", ratio(rows["sync_all"]["seconds"], rows["collection"]["seconds"]), 3, False)
    target("openstack_image_info task / uri task (same page) <= 1.5",
           ratio(rows["module_one_page"]["seconds"], rows["uri_one_page"]["seconds"]), 1.5)
    measured = dict(inventory)
    if "inventory, cached" in measured:
        target("cached inventory / static YAML inventory <= 1.2",
               ratio(measured["inventory, cached"]["seconds"], measured["ansible-inventory on static YAML"]["seconds"]), 1.2)
    target("requests: lookup over 50 hosts / lookup for 1 host == 1",
           ratio(measured["lookup, 50 hosts, shared listing"]["requests"], measured["lookup, 1 host"]["requests"]), 1)
    stable = measured["listing with many equal names, stable order among them"]
    unstable = measured["listing with many equal names, unstable order among them"]
    target("extra requests of the unstable order / page boundaries that cut equal names <= 1",
           ratio(unstable["requests"] - stable["requests"], measured["page boundaries that cut a group of equal names"]["requests"]), 1)
    growth = memory["peak"] - memory["baseline"]
    target("peak RSS above baseline / JSON payload, %d images <= 3" % memory["images"], ratio(growth, memory["payload"]), 3)
    lines += ["", "The emulator serves a page of 300 of 100,000 images in %.1f ms (median of 20, keep-alive, no latency added), "
              "well under the %d ms latency it adds, so it is not the bottleneck." % (memory["page_seconds"] * 1000,
                                                                                      arguments.latency_ms)]
    lines += ["", "Memory: baseline %.1f MiB, peak %.1f MiB, JSON payload %.1f MiB." % (
        memory["baseline"] / 2 ** 20, memory["peak"] / 2 ** 20, memory["payload"] / 2 ** 20)]
    lines += ["", "The emulator serves the 8.0.8 image fields (backend_id, backend_created_at, rescue fields), which "
              "waldur-api-client's model requires; no fields had to be filled in."]
    return "\n".join(lines) + "\n"


def write_provider_section(section):
    """Put the provider's section of a run with --only-provider in bench/RESULTS.md, in place of an older one."""
    path = os.path.join(BENCH, "RESULTS.md")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    start = text.find(PROVIDER_TITLE)
    text = text[:start].rstrip("\n") + "\n\n" if start >= 0 else text.rstrip("\n") + "\n\n"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text + section)


PROVIDER_TITLE = "\n## A provider's shape"


def render_provider(provider, arguments):
    rows, size, parts = provider
    measured = dict(rows)
    lines = [PROVIDER_TITLE.strip("\n") + ": %d tenants, each seeing %d of %d images" % (
        arguments.provider_tenants, arguments.provider_per_tenant, arguments.provider_images), "",
        "Measured %s, in one run of this section (`bench/run.py --only-provider` measures it alone)." % (
            datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")), "",
        "One OpenStack service settings, every tenant linked to %d images drawn at random (bench/shape.py); the emulator "
        "adds %d ms to every response (510 ms by default: the real Waldur of issue 24 served these 1,013 listings in 129 s, "
        "4 at a time, about 510 ms each; the emulator models that server). The server sends whole images in every tenant's listing (images take no "
        "`?field=`), so the floor decodes the same bytes." % (arguments.provider_per_tenant, arguments.provider_latency_ms),
        "", "| run | median s | requests | runs |", "|---|---:|---:|---:|"]
    lines += ["| %s | %.3f | %d | %d |" % (label, row["seconds"], row["requests"], row["runs"]) for label, row in rows]
    lines += ["", "| target | measured | met |", "|---|---:|---|"]

    def target(text, value, limit, unit="x"):
        lines.append("| %s | %.2f%s | %s |" % (text, value, unit, "yes" if value <= limit else "**no**"))

    floor = measured["floor: the same requests, plain requests, 4 in parallel"]["seconds"]
    target("cold inventory / floor of its requests <= 1.15",
           ratio(measured["inventory, cold (default options)"]["seconds"], floor), 1.15)
    target("cached inventory / script inventory printing the same <= 1.2",
           ratio(measured["inventory, cached"]["seconds"], measured["script inventory printing the same --list output"]["seconds"]), 1.2)
    target("size of ansible-inventory --list <= 12 MB", size / 1e6, 12, " MB")
    lines += ["", "Where a cached run's time goes (cumulative seconds under cProfile, which slows Python code about twofold; "
              "parts overlap where one calls another):", "", "| part | s |", "|---|---:|"]
    lines += ["| %s | %.2f |" % (label, seconds) for label, seconds in parts]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as exc:
        # A step's output is captured to be measured: a failing one shows what it said.
        for name, output in (("stdout", exc.stdout), ("stderr", exc.stderr)):
            if output:
                text = output if isinstance(output, str) else output.decode("utf-8", "replace")
                sys.stderr.write("--- %s of %s\n%s\n" % (name, " ".join(map(str, exc.cmd)), text[-8000:]))
        sys.stderr.write("bench: %s\n" % exc)
        sys.exit(1)
