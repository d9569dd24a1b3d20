"""Run the EXAMPLES of every plugin of waldur.cloud against a Waldur API, and lint them.

Usage (make test runs it against a fresh emulator):
    .venv/bin/python scripts/with_emulator.py -- .venv/bin/python scripts/run_examples.py [--lint] [GUIDE.md...]

The documentation users copy from must work as written. For every module, lookup and filter
plugin, the EXAMPLES that ansible-doc shows become one play (the examples are its tasks, verbatim,
so later examples may use what earlier ones registered), run with ansible-playbook. Every YAML
document of an inventory plugin's EXAMPLES becomes a `*.waldur_images.yml` source, run with
`ansible-inventory --list`. Only these changes are made:
  - the example server, https://waldur.example.com, becomes $WALDUR_API_URL;
  - the variables an example leaves to the reader get the values in EXAMPLE_VARS, and environment
    variables it reads with the env lookup get the URL or the token of $WALDUR_API_*;
  - an inventory cache directory (cache_connection) is put in a temporary directory.
Every ```yaml block of the GUIDE.md files given that is a playbook (a list of plays) is run the
same way, with the reader's variables as extra variables. So are the files of docs/examples/:
each `*.waldur_images.yml` with `ansible-inventory --list`, each other playbook with
ansible-playbook and those inventory sources (`-i`).
With --lint the generated playbooks are also checked by ansible-lint with the production profile.

Exits non-zero, naming the plugin, if any example fails.
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

BIN = os.path.dirname(sys.executable)
EXAMPLE_SERVER = "https://waldur.example.com"
COLLECTION = "waldur.cloud"
# Types whose EXAMPLES are tasks, and the type whose EXAMPLES are inventory sources.
TASK_TYPES = ("module", "lookup", "filter", "test")
INVENTORY_TYPE = "inventory"


def example_vars(token):
    """Values for the variables the examples leave to the reader."""
    return {
        "waldur_token": token,
        "vault_waldur_token": token,
        "flavor_disk_mib": 20480,
        "flavor_ram_mib": 4096,
    }


def collection_examples():
    """{plugin type: {fqcn: EXAMPLES text}} of every plugin of the collection, from one ansible-doc run."""
    completed = subprocess.run([os.path.join(BIN, "ansible-doc"), "--metadata-dump", COLLECTION],
                               capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        sys.exit("ansible-doc --metadata-dump %s failed:\n%s" % (COLLECTION, completed.stderr))
    dump = json.loads(completed.stdout)["all"]
    return {plugin_type: {name: (entry.get("examples") or "") for name, entry in sorted((dump.get(plugin_type) or {}).items())
                          if name.startswith(COLLECTION + ".")}
            for plugin_type in TASK_TYPES + (INVENTORY_TYPE,)}


def localise(text, url):
    return text.replace(EXAMPLE_SERVER, url.rstrip("/"))


def play_for(name, examples, variables):
    lines = ["---", "- name: The EXAMPLES of %s" % name, "  hosts: localhost", "  connection: local",
             "  gather_facts: false", "  vars:"]
    lines += ["    %s: %s" % (key, json.dumps(value)) for key, value in sorted(variables.items())]
    lines.append("  tasks:")
    lines += [("    " + line).rstrip() for line in examples.strip("\n").splitlines()]
    return "\n".join(lines) + "\n"


def inventory_sources(examples):
    """The configurations in an inventory plugin's EXAMPLES: each starts at a `plugin:` line.

    They may be separate YAML documents (`---`) or follow each other in one document (as
    ansible-core 2.16's yamllint wants); comment lines just above a `plugin:` line belong to it.
    """
    sources, current, comments = [], [], []
    for line in examples.splitlines():
        if line.strip() == "---":
            continue
        if line.startswith("plugin:"):
            if any(re.match(r"^plugin:", kept) for kept in current):
                sources.append("\n".join(current))
                current = []
            current.extend(comments + [line])
            comments = []
        elif line.startswith("#") or not line.strip():
            comments.append(line)
        else:
            current.extend(comments + [line])
            comments = []
    if any(re.match(r"^plugin:", kept) for kept in current):
        sources.append("\n".join(current + comments))
    return sources


def guide_playbooks(path):
    """The ```yaml blocks of a Markdown guide that are playbooks, as (line number, text)."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    found = []
    for match in re.finditer(r"^```ya?ml\n(.*?)^```", text, re.M | re.S):
        block = match.group(1)
        try:
            data = yaml.safe_load(block)
        except yaml.YAMLError:
            continue
        if isinstance(data, list) and data and all(isinstance(play, dict) and "hosts" in play for play in data):
            found.append((text.count("\n", 0, match.start()) + 1, block))
    return found


def run_all(jobs, failures):
    """Run (label, command, environment) jobs a few at a time; report them in order."""
    def run(job):
        label, command, environment = job
        return label, subprocess.run(command, env=environment, capture_output=True, text=True, check=False)

    workers = int(os.environ.get("EXAMPLES_WORKERS", "3"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for label, completed in pool.map(run, jobs):
            print("  %-6s %s" % ("ok" if completed.returncode == 0 else "FAILED", label), flush=True)
            if completed.returncode != 0:
                failures.append("%s\n%s%s" % (label, completed.stdout[-6000:], completed.stderr[-4000:]))


def main(argv):
    url, token = os.environ.get("WALDUR_API_URL"), os.environ.get("WALDUR_API_TOKEN")
    if not url or not token:
        sys.exit("WALDUR_API_URL and WALDUR_API_TOKEN must be set (run it through scripts/with_emulator.py)")
    lint = "--lint" in argv
    guides = [argument for argument in argv if not argument.startswith("--")]
    workdir = tempfile.mkdtemp(prefix="waldur-examples-")
    environment = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
                       ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_RETRY_FILES_ENABLED="0")
    environment.setdefault("ANSIBLE_PYTHON_INTERPRETER", sys.executable)
    failures, playbooks, jobs = [], [], []

    examples_of = collection_examples()
    for plugin_type in TASK_TYPES:
        for name, examples in examples_of[plugin_type].items():
            if not examples.strip():
                failures.append("%s %s has no EXAMPLES" % (plugin_type, name))
                continue
            path = os.path.join(workdir, "%s_%s.yml" % (plugin_type, name.rsplit(".", 1)[-1]))
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(play_for(name, localise(examples, url), example_vars(token)))
            playbooks.append(path)
            jobs.append(("%s %s" % (plugin_type, name), [os.path.join(BIN, "ansible-playbook"), path], environment))

    for name, examples in examples_of[INVENTORY_TYPE].items():
        for index, source in enumerate(inventory_sources(localise(examples, url)), 1):
            cache = os.path.join(workdir, "inventory-cache-%d" % index)
            source = re.sub(r"^(cache_connection:).*$", r"\1 %s" % cache, source, flags=re.M)
            path = os.path.join(workdir, "example%d.waldur_images.yml" % index)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(source + "\n")
            source_environment = dict(environment)
            for variable in re.findall(r"lookup\('(?:ansible\.builtin\.)?env', '(\w+)'\)", source):
                source_environment[variable] = url if "URL" in variable else token
            jobs.append(("inventory %s, example %d" % (name, index),
                         [os.path.join(BIN, "ansible-inventory"), "-i", path, "--list"], source_environment))

    variables = os.path.join(workdir, "reader-variables.json")
    with open(variables, "w", encoding="utf-8") as handle:
        json.dump(example_vars(token), handle)
    if guides:
        for guide in guides:
            blocks = guide_playbooks(guide)
            if not blocks:
                failures.append("%s has no playbook in a ```yaml block" % guide)
            for line, block in blocks:
                path = os.path.join(workdir, "guide_%s_%d.yml" % (os.path.basename(guide).split(".")[0], line))
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(localise(block, url))
                playbooks.append(path)
                jobs.append(("%s:%d" % (guide, line),
                             [os.path.join(BIN, "ansible-playbook"), path, "-e", "@" + variables], environment))

    examples_dir = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "examples")
    if os.path.isdir(examples_dir):
        files = sorted(os.listdir(examples_dir))
        sources = [os.path.join(examples_dir, name) for name in files if name.endswith("waldur_images.yml")]
        for source in sources:
            jobs.append(("docs/examples/%s" % os.path.basename(source),
                         [os.path.join(BIN, "ansible-inventory"), "-i", source, "--list"], environment))
        inventory_args = [argument for source in sources for argument in ("-i", source)]
        for name in files:
            if name.endswith(".yml") and not name.endswith("waldur_images.yml"):
                jobs.append(("docs/examples/%s" % name, [os.path.join(BIN, "ansible-playbook")] + inventory_args
                             + [os.path.join(examples_dir, name), "-e", "@" + variables], environment))

    if lint and playbooks:
        config = os.path.join(workdir, ".ansible-lint")
        with open(config, "w", encoding="utf-8") as handle:
            handle.write("---\nprofile: production\noffline: true\n")
        jobs.append(("ansible-lint --profile production on all of them",
                     [os.path.join(BIN, "ansible-lint"), "--nocolor", "--project-dir", workdir, "-c", config] + playbooks,
                     dict(environment, PATH=BIN + os.pathsep + environment.get("PATH", ""))))

    run_all(jobs, failures)

    for failure in failures:
        print("\n--- %s" % failure)
    print("%d example sets run, %d failed" % (len(jobs), len(failures)))
    if failures:
        print("The generated playbooks and inventory sources are in %s" % workdir)
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
