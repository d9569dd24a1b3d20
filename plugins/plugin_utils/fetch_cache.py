# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a lookup fetched, shared by all its evaluations in one Ansible run.

Ansible evaluates a lookup on the controller once per host and loop item, in whichever fork runs
that host: a play over 50 hosts would list the same images 50 times. The first evaluation fetches
and stores the result; the others wait for it on a file lock and read it. The files live in the
run's local temporary directory (``C.DEFAULT_LOCAL_TMP``): readable by the current user only,
shared by the forks, removed when the run ends. A file is named by a hash of the API root, the
token and the query, so it holds no token, and is used for ``lifetime`` seconds at most. A failed
fetch stores nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import time


def cache_key(api_root, token, query):
    """A name for what ``query`` (a JSON-able dict) returns from ``api_root`` to ``token``."""
    material = json.dumps({"api_root": api_root, "token": hashlib.sha256(token.encode("utf-8")).hexdigest(),
                           "query": query}, sort_keys=True)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class FetchCache:
    def __init__(self, directory, lifetime, clock=time.time):
        self.directory = directory
        self.lifetime = lifetime
        self.clock = clock

    def get(self, key, fetch):
        """``fetch()``'s JSON-able result, from the cache when a fresh one is stored under ``key``."""
        if not self.lifetime or self.lifetime <= 0:
            return fetch()
        path = os.path.join(self.directory, "waldur-cloud-%s.json" % key)
        lock = os.open(path + ".lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            # One fetch at a time per key: the forks that wait then read what the first stored.
            fcntl.flock(lock, fcntl.LOCK_EX)
            stored = self._read(path)
            if stored is not None:
                return stored["value"]
            value = fetch()
            self._write(path, {"stored_at": self.clock(), "value": value})
            return value
        finally:
            os.close(lock)

    def _read(self, path):
        try:
            with open(path, encoding="utf-8") as handle:
                stored = json.load(handle)
        except (OSError, ValueError):
            return None
        age = self.clock() - stored.get("stored_at", 0)
        return stored if 0 <= age < self.lifetime else None

    def _write(self, path, stored):
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=".waldur-cloud-")  # mode 0600
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(stored, handle)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
