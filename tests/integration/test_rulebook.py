# End to end: ansible-rulebook runs the collection's example rulebook waldur.cloud.new_images with the
# event source against the emulator; an image appears; the rulebook's playbook writes its uuid and name to a file.
from __future__ import annotations

import os
import queue
import shutil
import subprocess
import threading
import time

import pytest
import yaml

from tests.emulator import WaldurEmulator, generate_dataset
from tests.integration.harness import BIN, ansible_environment, stop_process_group

IMAGES = "/api/openstack-images/"
# ansible-rulebook starts a JVM (drools): allow for a slow, shared machine.
STARTUP = 180.0
REACTION = 120.0
# A name that Jinja would run if the pipeline templated it: it must arrive as text.
NEW_IMAGE = "ubuntu-26.04 {{ lookup('pipe', 'id') }}"
SOURCE_LOG = "waldur.cloud.openstack_images - "


def _require_rulebook():
    missing = [what for what, found in (("java (Java 17, e.g. openjdk-17-jre-headless)", shutil.which("java")),
                                        ("ansible-rulebook", os.path.exists(os.path.join(BIN, "ansible-rulebook"))))
               if not found]
    if missing:
        reason = "ansible-rulebook end-to-end test needs %s" % " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI must install it: .ci/run, requirements-dev.txt)")
        pytest.skip(reason)


@pytest.fixture
def emulator():
    with WaldurEmulator(generate_dataset(images=30, tenants=4, settings=2, seed=5), port=0) as server:
        yield server


class Output:
    """The lines a process prints, read in a thread, so a test can wait for one with a deadline."""

    def __init__(self, stream):
        self.lines = []
        self._queue = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def fail(self, message):
        self._thread.join(timeout=5)
        while not self._queue.empty():
            line = self._queue.get()
            if line is not None:
                self.lines.append(line)
        pytest.fail("%s; ansible-rulebook printed:\n%s" % (message, "".join(self.lines)))

    def wait_for(self, text, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                self.fail("no %r within %s s" % (text, timeout))
            if line is None:
                self.fail("ansible-rulebook ended before printing %r" % text)
            self.lines.append(line)
            if text in line:
                return


class ImageListings:
    """Counts the event source's image listings: the second means the first, the baseline, is complete."""

    def __init__(self, emulator):
        self.second = threading.Event()
        self.count = 0
        emulator.add_hook(self._count)

    def _count(self, method, path, params):
        if method == "GET" and path == IMAGES:
            self.count += 1
            if self.count >= 2:
                self.second.set()


def add_image_after_the_baseline(emulator, listings, process, output):
    """Wait until the baseline listing is complete, add NEW_IMAGE, and wait for the play it starts; the image."""
    deadline = time.monotonic() + STARTUP
    while not listings.second.wait(1.0):
        if process.poll() is not None or time.monotonic() > deadline:
            output.fail("the event source did not poll twice within %s s" % STARTUP)
    settings_uuid = next(row["uuid"] for row in emulator.dataset["service_settings"] if row["type"] == "OpenStack")
    # -v: one line per poll after "Waiting for events".
    visible = len(emulator.dataset["visibility"]["staff"]["default_list"])
    output.wait_for(SOURCE_LOG + "INFO - poll: %d images, the baseline (no events for them)" % visible, REACTION)
    added = emulator.add_image(NEW_IMAGE, settings_uuid)
    output.wait_for(SOURCE_LOG + "INFO - poll: %d images, 1 added, 0 removed, 0 changed" % (visible + 1), REACTION)
    output.wait_for("PLAY RECAP", REACTION)
    return added


def test_the_example_rulebook_runs_its_playbook_for_a_new_image(emulator, tmp_path):
    _require_rulebook()
    listings = ImageListings(emulator)
    new_images_file = tmp_path / "new-images.txt"
    variables = tmp_path / "vars.yml"
    variables.write_text(yaml.safe_dump({"poll_interval": 0.2, "new_images_file": str(new_images_file)}))
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {"ansible_connection": "local"}}}}))
    # ansible-rulebook finds ansible-galaxy and ansible-playbook on PATH.
    environment = ansible_environment(emulator, ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
                                      PATH=os.pathsep.join([BIN, os.environ.get("PATH", "")]))
    process = subprocess.Popen(
        [os.path.join(BIN, "ansible-rulebook"), "-r", "waldur.cloud.new_images", "-i", str(inventory),
         "--vars", str(variables), "-v"],
        cwd=str(tmp_path), env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output = Output(process.stdout)
        added = add_image_after_the_baseline(emulator, listings, process, output)
        assert new_images_file.read_text() == "%s %s\n" % (added["uuid"], NEW_IMAGE)
        assert emulator.tokens["staff"] not in "".join(output.lines)
    finally:
        stop_process_group(process)
        emulator.clear_hooks()
