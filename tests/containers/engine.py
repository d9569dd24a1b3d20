"""podman on this kind of machine: what it lacks, the settings it needs, and one way to call it.

Containers here need three settings that podman's defaults do not give (/work/shared/TOOLCHAIN.md,
"Containers", tried on these machines): default ulimits at or below the machine's hard limits (podman
asks for nofile=1048576 and nothing here may raise a hard limit), runc, and cgroupfs. They go in a
private containers.conf, named by CONTAINERS_CONF, which applies to ``podman build``'s RUN steps too.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess

from tests.waldur_server.server import CACHE_DIR as WALDUR_SERVER_CACHE

CACHE_DIR = os.environ.get("WALDUR_CONTAINERS_CACHE") or os.path.join(os.path.dirname(WALDUR_SERVER_CACHE), "containers")
DEBIAN_PACKAGES = "podman runc debootstrap"
# nproc 65536 and above failed on these machines.
NPROC = 32768


def missing():
    """What this machine lacks to build and run the images, one line each."""
    lacks = ["%s (Debian package %s)" % (command, command) for command in DEBIAN_PACKAGES.split() if not shutil.which(command)]
    if os.geteuid() != 0:
        lacks.append("root: debootstrap builds the base image from Debian's packages in a chroot")
    return lacks


def environment():
    """os.environ with CONTAINERS_CONF naming the settings this machine needs (written once per user)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nofile = 1048576 if hard == resource.RLIM_INFINITY else hard
    text = ('[containers]\ndefault_ulimits = ["nofile=%d:%d", "nproc=%d:%d"]\n\n'
            '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n') % (nofile, nofile, NPROC, NPROC)
    os.makedirs(CACHE_DIR, exist_ok=True)
    path = os.path.join(CACHE_DIR, "containers-%d.conf" % nofile)
    if not os.path.exists(path):
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(path + ".tmp", path)
    return dict(os.environ, CONTAINERS_CONF=path)


def podman(*arguments, **kwargs):
    """Run podman with this machine's settings; a CompletedProcess with text output."""
    kwargs.setdefault("capture_output", True)
    return subprocess.run(["podman", *arguments], env=environment(), text=True, check=False, **kwargs)


def image_field(image, template):
    """``podman image inspect --format template`` of ``image`` in the user's podman storage, or None without it."""
    completed = podman("image", "inspect", "--format", template, image)
    if completed.returncode != 0:
        return None
    return completed.stdout.strip()


def image_label(image, label):
    """The value of ``label`` on ``image``, or None when there is no such image."""
    return image_field(image, "{{ index .Labels \"%s\" }}" % label)


def replaced(tag, previous_id):
    """Remove the image ``tag`` named before a rebuild (``previous_id``), which the rebuild left untagged: each
    is hundreds of MB. An image still in use, or the parent of another, stays."""
    if previous_id and previous_id != image_field(tag, "{{ .Id }}"):
        podman("rmi", previous_id)
