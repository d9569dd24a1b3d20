# The README and every guide, run as a new user runs them: in a fresh copy of the checkout, after
# the README's first command (`make demo`), in a shell with the venv activated, against the bundled
# emulator. Run by the `examples` stage of scripts/test.sh, after scripts/run_examples.py (the
# plugins' EXAMPLES, docs/examples/, and the playbooks of getting-started and usage-reports).
#
# In each Markdown file, in order:
#   - a YAML block that names a file (a first line `# name.yml`, or "Save this as `name.yml`" just
#     before it) is written to that file in the copy, for the commands that follow;
#   - a YAML block that is an inventory source (`plugin: waldur.cloud.openstack_images`) is run with
#     `ansible-inventory --list`;
#   - each command of a ```console block runs, unless NOT_RUN says why not. The example server
#     https://waldur.example.com becomes the emulator and a token written `...` its staff token;
#     `export` lines hold for the rest of the file. Where the block shows the output (`$ ` before
#     the commands), the lines shown must appear in the real output, in that order.
# So do the commands that the leading comments of docs/examples/ and playbooks/ show.
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import yaml

from tests.emulator import WaldurEmulator, generate_dataset
from tests.integration.harness import stop_process_group

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE_SERVER = "https://waldur.example.com"
GUIDES = ["README.md", "docs/index.md"] + sorted(
    "docs/guides/" + name for name in os.listdir(os.path.join(REPO, "docs", "guides")) if name.endswith(".md"))
# The data set each file's shown output comes from (inventory.md says so); the others use the
# examples stage's.
DATASETS = {"docs/guides/inventory.md": dict(images=700, tenants=12, settings=3, seed=7)}
DEFAULT_DATASET = dict(images=300, tenants=8, settings=4, seed=3)
# Commands of the guides that this test does not run, and why.
NOT_RUN = [
    (r"^make test\b", "the whole test suite, of which this test is a part"),
    (r"^make docs\b", "builds the documentation site: the docs stage of make test"),
    (r"^ansible-galaxy collection install waldur\.cloud\b", "installs from Galaxy over the network; from a checkout "
     "the collection is found after make demo, and the tarball is built and installed where a guide shows it"),
    (r"^(python3 -m )?pip install\b", "installs into the Python that runs Ansible; make demo's venv has it all"),
    (r"^podman\b", "pushes a container image: needs a container engine"),
    (r"^ansible-runner run private_data_dir\b", "the layout of tests/integration/test_ansible_runner.py, which runs it"),
    (r"-m tests\.emulator --port 8000\b", "serves until stopped; this test starts the same emulator itself"),
    (r"scripts/with_emulator\.py -- bash$", "an interactive shell; this test runs every guide that way"),
    (r"^git clone https://", "clones over the network; this test runs in a fresh copy of the checkout"),
    (r"make test-live$", "checks the reader's own Waldur; the real-server stage of make test runs it against a real "
     "Waldur as each seeded user"),
]
# Commands run in another form, and why: (pattern, replacement).
REWRITTEN = [
    # Building an image needs a container engine; ansible-builder's first step, the build context
    # (Containerfile, requirements, the files copied in), does not.
    (r"^ansible-builder build\b(.*?)\s+-t\s+\S+(.*)$", r"ansible-builder create\1\2"),
]
# Inventory sources shown that this test does not run, by a line they hold, and why.
SOURCES_NOT_RUN = [("community.hashi_vault", "reads the token from a HashiCorp Vault server")]
# Lines in a command's output that mean it did not find the collection, a plugin or a file.
FAILURE_SIGNS = ("was not found", "could not be verified", "Failed to parse", "Unable to parse",
                 "couldn't resolve module", "Error loading plugin")
NEW_IMAGE = "ubuntu-26.04"
WAIT = 240


def _read(path):
    with open(os.path.join(REPO, path), encoding="utf-8") as handle:
        return handle.read()


def _user_environment(home):
    """The environment of a new user's shell: nothing of ours set, and no venv on PATH."""
    path = [entry for entry in os.environ.get("PATH", "").split(os.pathsep)
            if entry and os.sep + ".venv" not in entry]
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("ANSIBLE_", "WALDUR_", "VIRTUAL_ENV", "PYTEST", "PY_COLORS"))}
    environment.update(PATH=os.pathsep.join(path), HOME=str(home))
    return environment


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A copy of the checkout's files, with the venv linked in, and what `make demo` printed there."""
    if os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(REPO, ".venv")):
        pytest.skip("the guides run with the .venv that make demo sets up (the examples stage)")
    root = tmp_path_factory.mktemp("first-hour")
    checkout, home = root / "waldur-cloud", root / "home"
    checkout.mkdir()
    home.mkdir()
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                           capture_output=True).stdout.decode().split("\0")
    # A venv linked in (not a directory, so `.venv/` in .gitignore does not match it) is not copied.
    subprocess.run(["cp", "--parents", "-t", str(checkout)] + [name for name in files
                   if name and not name.startswith(".venv") and os.path.exists(os.path.join(REPO, name))],
                   cwd=REPO, check=True)
    os.symlink(os.path.realpath(os.path.join(REPO, ".venv")), checkout / ".venv")
    environment = _user_environment(home)
    demo = subprocess.run(["make", "demo"], cwd=checkout, env=environment, capture_output=True, text=True, check=False)
    assert demo.returncode == 0, demo.stdout[-4000:] + demo.stderr[-4000:]
    return checkout, environment, demo


@pytest.fixture(scope="module")
def clone(demo):
    """The copy of the checkout after `make demo`, and the environment of a user's shell."""
    return demo[:2]


def _shell(command, checkout, environment, exports=(), timeout=600, **popen):
    script = "set -e\n. .venv/bin/activate\n%s\n%s\n" % ("\n".join("export " + line for line in exports), command)
    if popen:
        return subprocess.Popen(["bash", "-c", script], cwd=checkout, env=environment, **popen)
    return subprocess.run(["bash", "-c", script], cwd=checkout, env=environment, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_the_first_commands_print_no_warning(demo):
    """A library's DeprecationWarning on every command (cryptography's on DSA, imported by ansible-core) or Ansible's
    own warnings would bury what matters in a user's first output."""
    checkout, environment, made = demo
    doc = _shell("ansible-doc waldur.cloud.openstack_image_info", checkout, environment)
    for command, completed in (("make demo", made), ("ansible-doc waldur.cloud.openstack_image_info", doc)):
        # Python's "file:line: SomeWarning: text", Ansible's "[WARNING]: text" and "[DEPRECATION WARNING]: text".
        warnings = [line for line in (completed.stdout + completed.stderr).splitlines()
                    if re.search(r"Warning: |\[(DEPRECATION )?WARNING\]", line)]
        assert not warnings, (command, warnings)
    # The emulator's own log (its start and its stop on SIGTERM) is for a failed run only.
    assert "waldur emulator:" not in made.stdout + made.stderr, made.stderr


@pytest.mark.parametrize("how", ["from the checkout, venv not activated", "from another directory, venv activated"])
def test_after_make_demo_ansible_finds_the_collection_of_the_checkout(clone, tmp_path, how):
    checkout, environment = clone
    if how.startswith("from the checkout"):
        command, cwd = [str(checkout / ".venv" / "bin" / "ansible-doc"), "waldur.cloud.openstack_flavor_info"], checkout
    else:
        command = ["bash", "-c", '. "$1"/.venv/bin/activate && ansible-doc waldur.cloud.openstack_flavor_info', "-", str(checkout)]
        cwd = tmp_path
    completed = subprocess.run(command, cwd=cwd, env=dict(environment, HOME=str(tmp_path)), capture_output=True, text=True,
                               check=False)
    assert "(%s/.cache/collections/ansible_collections/waldur/cloud/plugins/modules/openstack_flavor_info.py)" % checkout \
        in completed.stdout, completed.stdout[:2000] + completed.stderr


def _blocks(path):
    """(line, language, text, file name or None) of every fenced block of a Markdown file."""
    text = _read(path)
    for match in re.finditer(r"^(?P<indent> *)```(?P<lang>\w*)\n(?P<body>.*?)^(?P=indent)```", text, re.M | re.S):
        body = textwrap.dedent(match.group("body"))
        name = None
        first = body.splitlines()[0] if body.strip() else ""
        named = re.match(r"^# ([\w./-]+\.(?:ya?ml|cfg|txt))$", first)
        before = re.search(r"[Ss]ave (?:this|it) as `([\w./-]+)`[^`]*$", text[max(0, match.start() - 200):match.start()])
        if named:
            name = named.group(1)
        elif before:
            name = before.group(1)
        yield text.count("\n", 0, match.start()) + 1, match.group("lang"), body, name


def _commands(body):
    """(command, output lines shown after it) of a console block."""
    lines = body.splitlines()
    prompted = any(line.startswith("$ ") for line in lines)
    commands = []
    for line in lines:
        if prompted and not line.startswith("$ "):
            if commands:
                commands[-1][1].append(line)
            continue
        line = line[2:] if prompted else line
        if commands and commands[-1][0].endswith("\\"):
            commands[-1][0] = commands[-1][0][:-1].rstrip() + " " + line.strip()
        elif line.strip():
            commands.append([line.strip(), []])
    return [tuple(command) for command in commands]


def _localise(text, emulator):
    text = text.replace(EXAMPLE_SERVER, emulator.url)
    return re.sub(r"(WALDUR_API_TOKEN=)\.\.\.", r"\g<1>" + emulator.tokens["staff"], text)


def _normalise(text):
    return re.sub(r"http://127\.0\.0\.1:\d+", "http://127.0.0.1:PORT", text)


def _check_output(label, completed, shown):
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, "%s failed (exit status %s):\n%s" % (label, completed.returncode, output[-6000:])
    signs = [line for line in output.splitlines() if any(sign in line for sign in FAILURE_SIGNS)]
    assert not signs, "%s:\n%s\n\nfull output:\n%s" % (label, "\n".join(signs), output[-6000:])
    actual = [line.rstrip() for line in _normalise(completed.stdout).splitlines()]
    position = 0
    for line in (line.rstrip() for line in _normalise("\n".join(shown)).splitlines() if line.strip()):
        try:
            position = actual.index(line, position) + 1
        except ValueError:
            pytest.fail("%s: the guide shows the line\n%s\nwhich is not in the output (in that order):\n%s"
                        % (label, line, completed.stdout[-6000:]))


def _run_rulebook(label, command, checkout, environment, exports, emulator):
    """ansible-rulebook as the event-driven guide runs it: two images of one name appear, two lines are written."""
    variables = checkout / "vars.yml"
    assert variables.exists(), "%s: the guide shows no vars.yml before the command" % label
    # The one change to what the guide shows: poll every second, not every minute.
    settings = yaml.safe_load(variables.read_text()) or {}
    settings["poll_interval"] = 1
    variables.write_text(yaml.safe_dump(settings))
    new_images = re.sub(r"^~", environment["HOME"], settings.get("new_images_file", "~/new-images.txt"))
    listed = threading.Event()
    listings = []

    def count(method, path, params):
        if method == "GET" and path == "/api/openstack-images/":
            listings.append(path)
            if len(listings) >= 2:
                listed.set()

    emulator.add_hook(count)
    process = _shell(command, checkout, environment, exports, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + WAIT
        while not listed.wait(1.0):
            assert process.poll() is None and time.monotonic() < deadline, \
                "%s: the event source did not poll twice:\n%s" % (label, "".join(output))
        clouds = [row["uuid"] for row in emulator.dataset["service_settings"] if row["type"] == "OpenStack"][:2]
        added = [emulator.add_image(NEW_IMAGE, cloud)["uuid"] for cloud in clouds]
        wanted = sorted("%s %s" % (uuid, NEW_IMAGE) for uuid in added)
        deadline = time.monotonic() + WAIT
        lines = []
        while time.monotonic() < deadline and process.poll() is None:
            if os.path.exists(new_images):
                with open(new_images, encoding="utf-8") as handle:
                    lines = sorted(handle.read().splitlines())
                if lines == wanted:
                    break
            time.sleep(1)
        assert lines == wanted, "%s: %s holds %r, not one line per new image %r; ansible-rulebook printed:\n%s" % (
            label, new_images, lines, wanted, "".join(output)[-8000:])
    finally:
        stop_process_group(process)
        emulator.clear_hooks()


@pytest.mark.parametrize("guide", GUIDES)
def test_the_guide_runs_as_written(guide, clone, tmp_path):
    checkout, environment = clone
    # A home of its own: what one guide installs under ~/.ansible is not there for the next.
    environment = dict(environment, HOME=str(tmp_path))
    exports, ran, skipped = [], [], []
    with WaldurEmulator(generate_dataset(**DATASETS.get(guide, DEFAULT_DATASET)), port=0) as emulator:
        for line, language, body, name in _blocks(guide):
            label = "%s:%d" % (guide, line)
            if language in ("yaml", "yml"):
                if name:
                    target = checkout / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(_localise(body, emulator))
                if not re.search(r"^plugin: waldur\.cloud\.openstack_images$", body, re.M):
                    continue
                reason = next((why for sign, why in SOURCES_NOT_RUN if sign in body), None)
                if reason:
                    skipped.append("%s (%s)" % (label, reason))
                    continue
                source = checkout / (name if name and name.endswith(("waldur_images.yml", "waldur_images.yaml"))
                                     else "guide-%d.waldur_images.yml" % line)
                source.parent.mkdir(parents=True, exist_ok=True)
                source.write_text(_localise(body, emulator))
                completed = _shell("ansible-inventory -i %s --list" % source, checkout, environment,
                                   ["WALDUR_API_URL=%s WALDUR_API_TOKEN=%s" % (emulator.url, emulator.tokens["staff"])])
                _check_output("%s (ansible-inventory --list)" % label, completed, [])
                ran.append(label)
            elif language in ("console", "shell", "bash", "sh"):
                for command, shown in _commands(_localise(body, emulator)):
                    for pattern, replacement in REWRITTEN:
                        command = re.sub(pattern, replacement, command)
                    reason = next((why for pattern, why in NOT_RUN if re.search(pattern, command)), None)
                    if reason:
                        skipped.append("%s `%s` (%s)" % (label, command, reason))
                    elif command.startswith("export "):
                        exports.append(command[len("export "):].split(" #")[0].strip())
                    elif command.startswith("ansible-rulebook "):
                        _run_rulebook("%s `%s`" % (label, command), command, checkout, environment, exports, emulator)
                        ran.append(command)
                    else:
                        _check_output("%s `%s`" % (label, command), _shell(command, checkout, environment, exports), shown)
                        ran.append(command)
    print("%s: ran %d, not run: %s" % (guide, len(ran), "; ".join(skipped) or "none"))


def _header_commands(path):
    """The commands the leading comment of an example file shows, indented: `#   ansible-...`, `#   WALDUR_...`."""
    commands = []
    for line in _read(path).splitlines():
        if not line.startswith("#"):
            if line.strip() and line.strip() != "---":
                break
            continue
        if commands and commands[-1].endswith("\\"):
            commands[-1] = commands[-1][:-1].rstrip() + " " + line[1:].strip()
        elif re.match(r"^#\s{2,}(ansible-(playbook|inventory)|WALDUR_API_URL=)", line):
            commands.append(line[1:].strip())
    return commands


HEADER_FILES = [directory + "/" + name for directory in ("docs/examples", "playbooks")
                for name in sorted(os.listdir(os.path.join(REPO, directory)))
                if name.endswith(".yml") and _header_commands(directory + "/" + name)]


@pytest.mark.parametrize("path", HEADER_FILES)
def test_the_commands_an_example_file_shows_run_as_written(path, clone, tmp_path):
    checkout, environment = clone
    environment = dict(environment, HOME=str(tmp_path))
    with WaldurEmulator(generate_dataset(**DEFAULT_DATASET), port=0) as emulator:
        exports = ["WALDUR_API_URL=%s/api/ WALDUR_API_TOKEN=%s" % (emulator.url, emulator.tokens["staff"])]
        for command in _header_commands(path):
            _check_output("%s `%s`" % (path, command), _shell(_localise(command, emulator), checkout, environment, exports), [])


# --- What the docs say about each other and about the plugins (no emulator needed) ---------------

DOC_FILES = GUIDES + ["docs/bad-inputs.md", "SECURITY.md"]
PLUGIN_DIRS = {"module": "modules", "inventory": "inventory", "lookup": "lookup", "filter": "filter"}


def _slug(heading):
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _headings(path):
    """(level, anchor, line index) of the headings of a Markdown file, outside fenced blocks."""
    fenced, found = False, []
    for index, line in enumerate(_read(path).splitlines()):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"^#+ ", line):
            level, title = line.split(" ", 1)
            found.append((len(level), _slug(title), index))
    return found


def _anchors(path):
    return {anchor for _level, anchor, _index in _headings(path)}


def _section(path, anchor):
    lines, headings = _read(path).splitlines(), _headings(path)
    for position, (level, slug, index) in enumerate(headings):
        if slug == anchor:
            end = next((other for other_level, _other_slug, other in headings[position + 1:] if other_level <= level),
                       len(lines))
            return "\n".join(lines[index + 1:end])
    return None


@pytest.mark.parametrize("path", DOC_FILES)
def test_every_link_to_a_file_or_section_of_the_repository_resolves(path):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", _read(path)):
        if re.match(r"^[a-z]+:", target):
            continue
        file_part, anchor = (target.split("#", 1) + [""])[:2]
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        if not os.path.exists(os.path.join(REPO, resolved)):
            broken.append("%s: no such file" % target)
        elif anchor and resolved.endswith(".md") and anchor not in _anchors(resolved):
            broken.append("%s: %s has no section #%s" % (target, resolved, anchor))
    assert not broken, "%s links to:\n%s" % (path, "\n".join(broken))


@pytest.mark.parametrize("path", ["README.md", "meta/execution-environment.yml"])
def test_installing_from_a_tarball_is_documented_where_readme_and_the_ee_file_point(path):
    pointers = re.findall(r"(docs/guides/[\w-]+\.md)#([\w-]+)", _read(path))
    assert pointers, "%s names no section of a guide for building an EE from a tarball" % path
    for guide, anchor in pointers:
        section = _section(guide, anchor)
        assert section is not None, "%s points to %s#%s, which has no such section" % (path, guide, anchor)
        assert "ansible-galaxy collection build" in section, (guide, anchor)
        assert "type: file" in section or "ansible-galaxy collection install --force dist/waldur-cloud-" in section, \
            (guide, anchor)


def test_every_tarball_a_document_names_has_the_version_of_galaxy_yml():
    # ansible-builder only warns when additional_build_files names a tarball that is not there, and
    # the EE is then built without the collection: a stale version in a guide fails silently.
    version = yaml.safe_load(_read("galaxy.yml"))["version"]
    stale = ["%s: %s" % (path, name) for path in DOC_FILES + ["meta/execution-environment.yml"]
             for name in re.findall(r"waldur-cloud-(\d[\w.+-]*?)\.tar\.gz", _read(path)) if name != version]
    assert not stale, "tarballs named with another version than galaxy.yml's %s:\n%s" % (version, "\n".join(stale))


def test_the_reference_lists_ansible_doc_for_every_plugin():
    listed = set(re.findall(r"^ansible-doc (?:-t (\w+) )?waldur\.cloud\.(\w+)$", _read("docs/index.md"), re.M))
    listed = {(plugin_type or "module", name) for plugin_type, name in listed}
    plugins = {(plugin_type, name[:-3]) for plugin_type, directory in PLUGIN_DIRS.items()
               for name in os.listdir(os.path.join(REPO, "plugins", directory))
               if name.endswith(".py") and not name.startswith("_")}
    assert listed == plugins


@pytest.mark.parametrize("path, anchor", [("README.md", None), ("docs/index.md", "guides"),
                                          ("docs/guides/getting-started.md", "next-steps")])
def test_every_list_of_the_guides_lists_each_of_them(path, anchor):
    text = _section(path, anchor) if anchor else re.search(r"^Guides: .*?\n\n", _read(path), re.M | re.S).group(0)
    linked = {os.path.basename(target) for target in re.findall(r"\]\(([\w./-]+\.md)\)", text)}
    wanted = {os.path.basename(guide) for guide in GUIDES if guide.startswith("docs/guides/")} - {os.path.basename(path)}
    assert wanted <= linked, "%s lists no link to %s" % (path, ", ".join(sorted(wanted - linked)))


def _example_task_lists():
    """(where, tasks) for the YAML of the README, the guides, playbooks/, docs/examples/ and the plugins' EXAMPLES."""
    for path in DOC_FILES:
        for line, language, body, _name in _blocks(path):
            if language in ("yaml", "yml"):
                yield "%s:%d" % (path, line), body
    for directory in ("playbooks", "docs/examples"):
        for name in sorted(os.listdir(os.path.join(REPO, directory))):
            if name.endswith(".yml"):
                yield "%s/%s" % (directory, name), _read("%s/%s" % (directory, name))
    for directory in PLUGIN_DIRS.values():
        for name in sorted(os.listdir(os.path.join(REPO, "plugins", directory))):
            match = re.search(r"^EXAMPLES = r?(['\"]{3})(.*?)\1", _read("plugins/%s/%s" % (directory, name)), re.M | re.S)
            if match:
                yield "plugins/%s/%s EXAMPLES" % (directory, name), match.group(2)


def _tasks(data):
    if isinstance(data, list):
        for item in data:
            yield from _tasks(item)
    elif isinstance(data, dict):
        if isinstance(data.get("name"), str):
            yield data
        for key in ("tasks", "block", "rescue", "always", "pre_tasks", "post_tasks"):
            yield from _tasks(data.get(key))


@pytest.mark.parametrize("where, text", list(_example_task_lists()), ids=lambda value: value.split("\n")[0][:60])
def test_a_task_named_by_name_uuid_or_url_passes_that(where, text):
    """A task whose name says "by its name" passes a name, not a URL; "by uuid" a uuid; "by URL" a URL."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        pytest.skip("not YAML on its own")
    wrong = []
    for task in _tasks(data):
        arguments = " ".join(str(value) for key, value in task.items() if key.startswith("waldur.cloud."))
        said = re.search(r"\bby (?:its |the )?(name|uuid|url)\b", task["name"], re.I)
        if not said or not arguments:
            continue
        url_like = re.search(r"https?://|\.(?:settings|url|tenant)\b|_url\b", arguments)
        kind = said.group(1).lower()
        if (kind == "name" and url_like) or (kind == "uuid" and "uuid" not in arguments) or (kind == "url" and not url_like):
            wrong.append("%r passes %s" % (task["name"], arguments))
    assert not wrong, "%s: %s" % (where, "; ".join(wrong))
