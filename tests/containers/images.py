"""The images: a base from Debian's packages, and the EE and the DE built on it with ansible-builder.

No container registry is reachable here, so the definitions in this folder are the ones users build
(the "without Galaxy" ones of docs/guides/awx.md and docs/guides/event-driven.md) with the base swapped for
one made from Debian's packages, plus what that base needs (test_definitions.py holds them to that). Each
image is kept in the user's podman storage and labelled with a digest of what it is built from; a build
whose digest matches is skipped, so a warm run only checks labels.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

import yaml

from tests.containers.engine import CACHE_DIR, environment, image_field, image_label, podman, replaced
from tests.waldur_server.server import digest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.dirname(sys.executable)
LABEL = "cloud.waldur.built-from"

BASE_IMAGE = "localhost/waldur-cloud-base:debian-12"
SUITE = "bookworm"
# What AWX's EEs have that minbase lacks: Python with pip, and certificates to reach the package registries.
BASE_PACKAGES = "python3 python3-pip python3-venv ca-certificates"
# This machine reaches the registries through TLS signed by certificates it adds locally; pip in a build
# fails with CERTIFICATE_VERIFY_FAILED without them.
LOCAL_CERTIFICATES = "/usr/local/share/ca-certificates"

IMAGES = {
    "ee": ("localhost/waldur-cloud-ee:test", os.path.join(HERE, "execution-environment.yml")),
    "de": ("localhost/waldur-cloud-de:test", os.path.join(HERE, "decision-environment.yml")),
}


def log(message):
    print("containers: %s" % message, flush=True)


@contextlib.contextmanager
def build_lock():
    """One build at a time per user: clones of the checkout share the images."""
    os.makedirs(CACHE_DIR, exist_ok=True)
    with open(os.path.join(CACHE_DIR, "build.lock"), "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def debian_mirror():
    """The Debian mirror this machine's apt uses (a deb822 or a one-line source)."""
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")) + ["/etc/apt/sources.list"]:
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            match = re.search(r"^URIs:\s*(\S+/debian)/?\s*$", text, re.M) or re.search(r"^deb\s+(\S+/debian)/?\s", text, re.M)
            if match:
                return match.group(1)
    return "http://deb.debian.org/debian"


def local_certificates():
    """{name: content} of the CA certificates this machine added locally."""
    found = {}
    for path in sorted(glob.glob(os.path.join(LOCAL_CERTIFICATES, "*.crt"))):
        with open(path, "rb") as handle:
            found[os.path.basename(path)] = handle.read()
    return found


def run(command, what, **kwargs):
    completed = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if completed.returncode != 0:
        raise SystemExit("containers: %s failed (exit status %d): %s\n%s%s" % (
            what, completed.returncode, " ".join(command), completed.stdout[-4000:], completed.stderr[-4000:]))
    return completed


def ensure_base():
    """The base image, built from Debian's packages unless the user's storage has it for these inputs."""
    mirror = debian_mirror()
    certificates = local_certificates()
    fingerprints = ["%s=%s" % (name, hashlib.sha256(data).hexdigest()) for name, data in sorted(certificates.items())]
    key = digest(SUITE, mirror, BASE_PACKAGES, *fingerprints)
    if image_label(BASE_IMAGE, LABEL) == key:
        return key
    with build_lock():
        if image_label(BASE_IMAGE, LABEL) == key:
            return key
        log("building %s from Debian %s (%s): debootstrap, then %s" % (BASE_IMAGE, SUITE, mirror, BASE_PACKAGES))
        root = tempfile.mkdtemp(prefix="base-", dir=CACHE_DIR)
        try:
            run(["debootstrap", "--variant=minbase", SUITE, root, mirror], "debootstrap")
            target = os.path.join(root, LOCAL_CERTIFICATES.lstrip("/"))
            os.makedirs(target, exist_ok=True)
            for name, data in certificates.items():
                with open(os.path.join(target, name), "wb") as handle:
                    handle.write(data)
            chroot_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
            run(["chroot", root, "apt-get", "install", "-y", "-q", "--no-install-recommends", *BASE_PACKAGES.split()],
                "installing %s in the base" % BASE_PACKAGES, env=chroot_env)
            run(["chroot", root, "update-ca-certificates"], "update-ca-certificates in the base", env=chroot_env)
            run(["chroot", root, "apt-get", "clean"], "apt-get clean in the base", env=chroot_env)
            # An EE's Python is the image's own, which ansible-builder installs into with pip (PEP 668's marker
            # makes Debian's pip refuse); awx-ee's is not marked either.
            for marker in glob.glob(os.path.join(root, "usr/lib/python3*/EXTERNALLY-MANAGED")):
                os.unlink(marker)
            previous = image_field(BASE_IMAGE, "{{ .Id }}")
            archive = os.path.join(CACHE_DIR, "base.tar")
            with tarfile.open(archive, "w") as tar:
                tar.add(root, arcname=".")
            completed = podman("import", "--change", 'CMD ["/bin/bash"]', "--change", "LABEL %s=%s" % (LABEL, key),
                               archive, BASE_IMAGE)
            os.unlink(archive)
            if completed.returncode != 0:
                raise SystemExit("containers: podman import of the base failed: %s" % completed.stderr)
            replaced(BASE_IMAGE, previous)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    log("built %s" % BASE_IMAGE)
    return key


def collection_tarball(directory):
    """Build the collection's tarball into ``directory``; its path, and a digest of its content."""
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", directory],
        "ansible-galaxy collection build", cwd=REPO_ROOT)
    (path,) = glob.glob(os.path.join(directory, "waldur-cloud-*.tar.gz"))
    with tarfile.open(path) as tar:
        manifest = tar.extractfile("MANIFEST.json").read()
        files = tar.extractfile("FILES.json").read()
    return path, digest(manifest, files)


def named_tarball(definition):
    """The tarball's name that the definition's additional_build_files copies in."""
    (entry,) = [entry for entry in definition.get("additional_build_files", []) if entry["src"].endswith(".tar.gz")]
    return entry["src"]


def ensure_image(kind, force=False):
    """The EE or DE image (``kind``: ee or de), built unless the user's storage has it for the same inputs."""
    tag, definition_path = IMAGES[kind]
    base_key = ensure_base()
    with open(definition_path, encoding="utf-8") as handle:
        text = handle.read()
    definition = yaml.safe_load(text)
    work = tempfile.mkdtemp(prefix="%s-" % kind, dir=CACHE_DIR)
    try:
        tarball, content = collection_tarball(work)
        wanted = named_tarball(definition)
        if os.path.basename(tarball) != wanted:
            raise SystemExit("containers: %s names %s, but the collection builds %s: change the name in %s to the "
                             "version in galaxy.yml" % (os.path.relpath(definition_path, REPO_ROOT), wanted,
                                                        os.path.basename(tarball), os.path.relpath(definition_path, REPO_ROOT)))
        key = digest(text, base_key, content)
        if not force and image_label(tag, LABEL) == key:
            log("%s is up to date (built from %s)" % (tag, key))
            return tag
        with build_lock():
            if not force and image_label(tag, LABEL) == key:
                return tag
            previous = image_field(tag, "{{ .Id }}")
            shutil.copy(definition_path, os.path.join(work, "definition.yml"))
            log("building %s with ansible-builder from %s" % (tag, os.path.relpath(definition_path, REPO_ROOT)))
            completed = run([os.path.join(BIN, "ansible-builder"), "build", "-f", "definition.yml", "-c", "context",
                             "-t", tag, "--container-runtime", "podman", "-v", "2",
                             "--extra-build-cli-args", "--layers=false --label %s=%s" % (LABEL, key)],
                            "ansible-builder build of %s" % tag, cwd=work, env=environment())
            warnings = [line for line in (completed.stdout + completed.stderr).splitlines() if "WARNING" in line.upper()]
            if warnings:
                raise SystemExit("containers: ansible-builder warned while building %s:\n%s" % (tag, "\n".join(warnings)))
            replaced(tag, previous)
        log("built %s" % tag)
        return tag
    finally:
        shutil.rmtree(work, ignore_errors=True)
