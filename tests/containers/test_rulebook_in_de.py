"""The example rulebook waldur.cloud.new_images with the event source, inside the DE image, as EDA controller runs it.

An image added to the emulator while the rulebook runs gives exactly one action (the rulebook's playbook writes
its uuid and name to a file); a stopped emulator gives none: no image is reported as removed or added.
"""
from __future__ import annotations

import os
import re
import subprocess
import uuid

import pytest
import yaml

from tests.containers.engine import environment, podman
from tests.emulator import WaldurEmulator, generate_dataset
from tests.integration.harness import stop_process_group
from tests.integration.test_rulebook import (NEW_IMAGE, REACTION, SOURCE_LOG, ImageListings, Output,
                                             add_image_after_the_baseline)


@pytest.fixture
def small_emulator():
    with WaldurEmulator(generate_dataset(images=30, tenants=4, settings=2, seed=5), port=0) as server:
        yield server


def test_a_new_image_gives_one_action_and_a_stopped_emulator_none(de_image, small_emulator, tmp_path):
    emulator = small_emulator
    listings = ImageListings(emulator)
    work = tmp_path / "work"
    work.mkdir()
    os.chmod(work, 0o777)  # the DE runs as user 1000
    (work / "vars.yml").write_text(yaml.safe_dump({"poll_interval": 0.2, "new_images_file": "/work/new-images.txt"}))
    (work / "inventory.yml").write_text(yaml.safe_dump(
        {"all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3"}}}}))
    name = "waldur-cloud-de-test-%s" % uuid.uuid4().hex[:12]
    process = subprocess.Popen(
        ["podman", "run", "--rm", "--name", name, "--network", "host", "-v", "%s:/work" % work, "-w", "/work",
         "-e", "WALDUR_API_URL=%s" % emulator.url, "-e", "WALDUR_API_TOKEN=%s" % emulator.tokens["staff"], de_image,
         "ansible-rulebook", "-r", "waldur.cloud.new_images", "-i", "/work/inventory.yml", "--vars", "/work/vars.yml", "-v"],
        env=environment(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    try:
        output = Output(process.stdout)
        added = add_image_after_the_baseline(emulator, listings, process, output)
        recorded = (work / "new-images.txt").read_text()
        assert recorded == "%s %s\n" % (added["uuid"], NEW_IMAGE)

        emulator.stop()
        output.wait_for(SOURCE_LOG + "WARNING - no events until the image listing can be read in full again", REACTION)
        output.wait_for(SOURCE_LOG + "INFO - poll: no complete image listing, 3 failed poll(s) in a row", REACTION)
        text = "".join(output.lines)
        assert text.count("PLAY RECAP") == 1
        assert not re.search(r"poll: \d+ images, \d+ added, [1-9]", text)
        assert (work / "new-images.txt").read_text() == recorded
        assert emulator.tokens["staff"] not in text
    finally:
        podman("rm", "--force", "--time", "0", name)
        stop_process_group(process)
        emulator.clear_hooks()
