"""A real Waldur Mastermind for the tests: built once, cached, started and stopped on demand.

Building (``prepare``) makes, in a per-user cache that every clone on the machine shares
(``WALDUR_SERVER_CACHE``, else ``$XDG_CACHE_HOME/waldur.cloud/waldur-server``, else
``~/.cache/waldur.cloud/waldur-server``):
  - ``venv-<key>``: Waldur's pinned requirements, its git dependency and its source, in a Python
    3.10/3.11 venv; the key hashes the pins and the source commit.
  - ``db-<key>-small.dump`` and ``db-<key>-large.dump``: ``pg_dump -Fc`` of the migrated database
    with seed.py's small and large data; the key hashes the commit and the files that shape the
    data (seed.py, hostile.py, users.py, django_settings.py).
The migrated, unseeded database comes from ``migrated-<commit>.dump`` in ``../shared/waldur-server/``
or the cache when one is there for the source's commit (checked with ``waldur migrate --check``);
else Waldur's 330 migrations are applied (3-7 minutes) and their dump is cached. Each entry is
built under a file lock (a second run waits for the first, then uses its result) and marked
complete only at the end (a dump by an atomic rename, a venv by its ``.complete`` file): an entry
left half-built by a killed run is built again. Entries unused for ``STALE_DAYS`` are deleted.
Running (``WaldurServer``) starts a private PostgreSQL cluster in a temporary directory (Unix
socket only, no TCP port, so it never meets a system cluster), restores the dumps and serves each
database with gunicorn on a free loopback port. If the start fails, the logs of the servers
started so far (PostgreSQL, gunicorn) are printed; everything started is stopped on exit.

The source is, in order: ``WALDUR_SERVER_SOURCE`` (an archive made by ``git archive`` or a
checkout), the archive in ``../shared/waldur-server/`` beside the repository, or a clone of the
pinned commit from GitHub.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED_DIR = os.path.join(os.path.dirname(REPO_ROOT), "shared", "waldur-server")


def _default_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: a relative value is ignored
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "waldur.cloud", "waldur-server")


CACHE_DIR = os.environ.get("WALDUR_SERVER_CACHE") or _default_cache_dir()

PINNED_COMMIT = "1ea6cb8202a4a056296f433ab40aa3daf1883c45"
UPSTREAM = "https://github.com/waldur/waldur-mastermind.git"
UPLOAD_VALIDATOR_COMMIT = "ed2fe00a224e7d093d70c6c549614627e8c0d96e"
UPLOAD_VALIDATOR = "https://github.com/waldur/django-upload-validator.git"
# The lock file's main group in pip's format (from ../shared/waldur-server/, kept here so that a
# clone of the pinned commit needs nothing else).
REQUIREMENTS = os.path.join(HERE, "requirements-1ea6cb82.txt")
# The version upstream's Dockerfile uses; newer ones write a control socket under $HOME.
GUNICORN = "gunicorn==22.0.0"

DB_USER = "waldur"
DB_PORT = "5432"  # only names the socket file inside the private socket directory
DATASETS = ("small", "large", "provider")
READY_SECONDS = 600  # a busy machine (load 20 on 2 cores) took more than 120 s; a dead gunicorn fails at once
STOP_SECONDS = 15
# A cache entry (venv, dump) that no run has used for this long is deleted by the next build.
STALE_DAYS = 14
# How much of each server's log a failure prints.
LOG_LINES = 200
# Debian's packages that the build and the server need, for the messages that name them.
DEBIAN_PACKAGES = "postgresql libldap2-dev libsasl2-dev libxmlsec1-dev xmlsec1 pkg-config"


class Unavailable(Exception):
    """What this machine lacks to run a real Waldur, and how to get it."""


def log(message):
    sys.stderr.write("waldur-server: %s\n" % message)
    sys.stderr.flush()


def digest(*parts):
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part if isinstance(part, bytes) else part.encode("utf-8"))
        hasher.update(b"\0")
    return hasher.hexdigest()[:16]


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def print_log(title, path):
    """The end of a server's log on stderr, for a failure that is about to delete it."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.readlines()
    except OSError as exc:
        log("no %s log to show (%s)" % (title, exc))
        return
    shown = lines[-LOG_LINES:]
    sys.stderr.write("---- %s log, %s (%s) ----\n" % (
        title, path, "last %d of %d lines" % (len(shown), len(lines)) if len(shown) < len(lines) else "%d lines" % len(lines)))
    sys.stderr.writelines(shown)
    sys.stderr.write("---- end of the %s log ----\n" % title)
    sys.stderr.flush()


# ---------------------------------------------------------------------------------- watchdog

class _Watchdog:
    """This process's watchdog.py (started while anything is watched): what ``watch`` names is
    stopped or deleted by it if this process dies without ``forget`` (SIGKILL, say)."""

    process = None
    watched = 0

    @classmethod
    def _tell(cls, entry):
        cls.process.stdin.write(json.dumps(entry) + "\n")
        cls.process.stdin.flush()

    @classmethod
    def watch(cls, *entry):
        if cls.process is None:
            cls.process = subprocess.Popen(  # pylint: disable=consider-using-with  # closed by forget
                [sys.executable, os.path.join(HERE, "watchdog.py")], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                text=True, start_new_session=True)
        cls._tell(list(entry))
        cls.watched += 1

    @classmethod
    def forget(cls, *entry):
        cls._tell(["forget"] + list(entry))
        cls.watched -= 1
        if cls.watched == 0:
            cls.process.stdin.close()
            cls.process.wait()
            cls.process = None


# ------------------------------------------------------------------------------------- cache

@contextlib.contextmanager
def cache_lock():
    """Held while an entry of the cache is checked again and built: a second run (another clone,
    say) waits, then finds the entry ready. The kernel drops the lock of a killed run. Never nested."""
    os.makedirs(CACHE_DIR, exist_ok=True)
    with open(os.path.join(CACHE_DIR, "build.lock"), "a", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("another run is building in %s: waiting for it" % CACHE_DIR)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _mark_used(*paths):
    """Touch what a run uses, so that the stale-entry sweep of another clone's build keeps it."""
    for path in paths:
        os.utime(path)


def _remove_stale(keep):
    """Delete the cache's dumps and venvs but those in ``keep`` (in use) that no run has used for
    STALE_DAYS (the dumps of other seeds and commits, the venvs of other pins): each venv is
    about 1 GB, each seeded dump tens of MB. Run after a build, under its lock."""
    cutoff = time.time() - STALE_DAYS * 86400
    for path in glob.glob(os.path.join(CACHE_DIR, "*.dump")):
        if path not in keep and os.path.getmtime(path) < cutoff:
            os.remove(path)
    for stamp in glob.glob(os.path.join(CACHE_DIR, "venv-*", ".complete")):
        venv = os.path.dirname(stamp)
        if venv not in keep and os.path.getmtime(stamp) < cutoff:
            shutil.rmtree(venv, ignore_errors=True)


# ------------------------------------------------------------------------------- prerequisites

def postgres_bindir():
    """The directory of PostgreSQL's server programs (initdb, pg_ctl, pg_restore), or None."""
    found = shutil.which("pg_ctl")
    if found:
        return os.path.dirname(os.path.realpath(found))
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return os.path.dirname(candidates[-1]) if candidates else None


def server_python():
    """A Python the pins accept (3.10 or 3.11), or None."""
    if sys.version_info[:2] in ((3, 10), (3, 11)):
        return sys.executable
    for name in ("python3.11", "python3.10"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def missing_prerequisites():
    """What is missing to build and run the server here, each with how to get it ([] if nothing)."""
    missing = []
    if postgres_bindir() is None:
        missing.append("PostgreSQL's server programs (initdb, pg_ctl): apt-get install postgresql")
    elif os.geteuid() == 0 and not _postgres_account():
        missing.append("an unprivileged account to run PostgreSQL as root: the 'postgres' user of Debian's package")
    if server_python() is None:
        missing.append("Python 3.10 or 3.11 (Waldur's pins exclude 3.12+)")
    if not _writable(CACHE_DIR):
        missing.append("a writable cache directory (%s is not): set WALDUR_SERVER_CACHE to one" % CACHE_DIR)
    try:
        venv_cached = os.path.exists(os.path.join(venv_dir(source_commit()), ".complete"))
    except Unavailable as exc:
        missing.append(str(exc))
        venv_cached = True  # the source is what is missing; the headers are checked once it is given
    if not venv_cached:
        for header, package in (("/usr/include/ldap.h", "libldap2-dev"), ("/usr/include/sasl/sasl.h", "libsasl2-dev")):
            if not os.path.exists(header):
                missing.append("%s (to build python-ldap): apt-get install %s" % (header, package))
        if shutil.which("pkg-config") is None or subprocess.call(
                ["pkg-config", "--exists", "xmlsec1"], stderr=subprocess.DEVNULL) != 0:
            missing.append("xmlsec1's headers (to build xmlsec): apt-get install libxmlsec1-dev xmlsec1 pkg-config")
    return missing


def _postgres_account():
    try:
        import pwd  # pylint: disable=import-outside-toplevel  # POSIX only, like PostgreSQL itself

        return pwd.getpwnam("postgres")
    except (ImportError, KeyError):
        return None


def _writable(directory):
    """Whether ``directory``, or the nearest existing folder above it (where it would be made), is writable."""
    while not os.path.exists(directory):
        directory = os.path.dirname(directory)
    return os.access(directory, os.W_OK)


# ------------------------------------------------------------------------------------ source

def source_commit():
    """The commit of the source that would be used, without unpacking it (it keys the caches)."""
    given = os.environ.get("WALDUR_SERVER_SOURCE")
    if given and os.path.isdir(given):
        return subprocess.check_output(["git", "-C", given, "rev-parse", "HEAD"], text=True).strip()
    if given:
        return _archive_commit(given)
    if os.path.exists(shared_archive()):
        return _archive_commit(shared_archive())
    return PINNED_COMMIT


def shared_archive():
    return os.path.join(SHARED_DIR, "waldur-mastermind-%s.tar.gz" % PINNED_COMMIT[:8])


def _archive_commit(path):
    """The commit recorded by ``git archive`` in the tar's pax header (git get-tar-commit-id)."""
    try:
        with tarfile.open(path) as archive:
            comment = archive.pax_headers.get("comment", "")
    except (OSError, tarfile.TarError) as exc:
        raise Unavailable("%s: not a readable archive (%s)" % (path, str(exc).splitlines()[0])) from None
    if len(comment) != 40:
        raise Unavailable("%s: not an archive made by git archive (no commit id in it)" % path)
    return comment


def unpack_source(destination):
    """Put the source (see the module's docstring) in ``destination``; returns its commit."""
    given = os.environ.get("WALDUR_SERVER_SOURCE")
    if given and os.path.isdir(given):
        os.makedirs(destination)
        archive = subprocess.run(["git", "-C", given, "archive", "HEAD"], check=True, stdout=subprocess.PIPE).stdout
        subprocess.run(["tar", "-x", "-C", destination], input=archive, check=True)
        return source_commit()
    archive = given or shared_archive()
    if os.path.exists(archive):
        with tempfile.TemporaryDirectory(prefix="waldur-source-", dir=os.path.dirname(destination)) as workdir:
            with tarfile.open(archive) as tar:
                top = tar.getnames()[0].split("/")[0]
                tar.extractall(workdir)  # nosec: our own pinned archive
            os.rename(os.path.join(workdir, top), destination)
        return _archive_commit(archive)
    log("no archive at %s: cloning %s at %s" % (archive, UPSTREAM, PINNED_COMMIT[:8]))
    _clone(UPSTREAM, PINNED_COMMIT, destination)
    return PINNED_COMMIT


def _clone(url, commit, path):
    try:
        subprocess.run(["git", "clone", "--quiet", "--filter=blob:none", "--no-checkout", url, path], check=True)
        subprocess.run(["git", "-C", path, "checkout", "--quiet", commit], check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise Unavailable("cannot clone %s (%s): give WALDUR_SERVER_SOURCE, an archive or a checkout of %s"
                          % (url, exc, commit)) from None


def _upload_validator(workdir):
    archive = os.path.join(SHARED_DIR, "django-upload-validator-%s.tar.gz" % UPLOAD_VALIDATOR_COMMIT[:7])
    if os.path.exists(archive):
        return archive
    checkout = os.path.join(workdir, "django-upload-validator")
    _clone(UPLOAD_VALIDATOR, UPLOAD_VALIDATOR_COMMIT, checkout)
    return checkout


# -------------------------------------------------------------------------------------- venv

def venv_dir(commit):
    return os.path.join(CACHE_DIR, "venv-" + digest(_read(REQUIREMENTS), UPLOAD_VALIDATOR_COMMIT, GUNICORN, commit))


def ensure_venv():
    """Waldur's venv (built if it is not cached); returns its directory.

    Built in place under the entry's lock (a venv records its own path, so it cannot be built
    elsewhere and renamed); ``.complete``, written last, marks a finished build, and a venv
    without it (a killed build) is built again. The source is installed editable from
    ``<venv>/source``: a plain install would copy only the ``waldur_mastermind`` package (the one
    pyproject.toml names), not ``waldur_core`` and the other packages beside it in ``src/``."""
    target = venv_dir(source_commit())
    stamp = os.path.join(target, ".complete")
    if not os.path.exists(stamp):
        with cache_lock():
            if not os.path.exists(stamp):
                _build_venv(target)
    _mark_used(stamp)
    return target


def _build_venv(target):
    python = server_python()
    if python is None:
        raise Unavailable("Python 3.10 or 3.11 is needed for Waldur's pins")
    shutil.rmtree(target, ignore_errors=True)
    started = time.monotonic()
    log("building Waldur's venv in %s: about 1 GB, a few minutes" % target)
    subprocess.run([python, "-m", "venv", target], check=True)
    source = os.path.join(target, "source")
    unpack_source(source)
    pip = [os.path.join(target, "bin", "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run(pip + ["--upgrade", "pip", "setuptools", "wheel"], check=True)
    subprocess.run(pip + ["-r", REQUIREMENTS, GUNICORN], check=True)
    with tempfile.TemporaryDirectory(prefix="waldur-upload-validator-") as workdir:
        subprocess.run(pip + [_upload_validator(workdir)], check=True)
    subprocess.run(pip + ["--no-deps", "--editable", source], check=True)
    with open(os.path.join(target, ".complete"), "w", encoding="utf-8") as stamp:
        stamp.write("built in %ds\n" % (time.monotonic() - started))
    log("venv built in %ds" % (time.monotonic() - started))


# ---------------------------------------------------------------------------------- postgres

class Cluster:
    """A private PostgreSQL cluster in a temporary directory, reachable only by its Unix socket.

    PostgreSQL refuses to run as root: as root the cluster belongs to the ``postgres`` account
    (the directory is given to it); otherwise to the current user. Its superuser is ``waldur``,
    trusted on the socket, which is in the cluster's own directory."""

    def __init__(self, directory=None):
        """A new cluster; or, given the ``directory`` of one started by another process, that one."""
        self.bindir = postgres_bindir()
        if self.bindir is None:
            raise Unavailable("PostgreSQL is not installed (apt-get install postgresql)")
        self.owned = directory is None
        self._as = []
        account = None
        if self.owned and os.geteuid() == 0:
            account = _postgres_account()
            if account is None:
                raise Unavailable("running as root without a 'postgres' account to run PostgreSQL as")
            self._as = ["runuser", "-u", "postgres", "--"]
        self.directory = directory or tempfile.mkdtemp(prefix="waldur-pg-")
        self.data = os.path.join(self.directory, "data")
        self.socket_dir = self.directory
        self.log_path = os.path.join(self.directory, "postgres.log")
        self.started = self.removed = False
        if not self.owned:
            return
        _Watchdog.watch("remove", self.directory)
        if account is not None:
            os.chown(self.directory, account.pw_uid, account.pw_gid)

    def _server_command(self, program, *args):
        """Run one of PostgreSQL's server programs; its output is shown only if it fails."""
        completed = subprocess.run(self._as + [os.path.join(self.bindir, program)] + list(args), check=False,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
        if completed.returncode != 0:
            sys.stderr.write(completed.stdout)
            raise RuntimeError("PostgreSQL's %s failed with exit status %d" % (program, completed.returncode))

    def start(self):
        """initdb and start; on a failure, PostgreSQL's log is shown and the cluster removed."""
        _Watchdog.watch(*self._watched())
        self.started = True
        try:
            self._server_command("initdb", "--pgdata", self.data, "--username", DB_USER, "--auth", "trust",
                                 "--encoding", "UTF8", "--locale", "C", "--no-sync")
            # fsync off: a test database that is rebuilt from its dump whenever in doubt.
            options = "-c listen_addresses='' -k %s -p %s -c fsync=off -c full_page_writes=off" % (
                self.socket_dir, DB_PORT)
            self._server_command("pg_ctl", "start", "--pgdata", self.data, "--wait", "--timeout", str(READY_SECONDS),
                                 "--log", self.log_path, "-o", options)
        except BaseException:
            self.print_log()
            self.stop()
            raise
        return self

    def print_log(self):
        print_log("PostgreSQL", self.log_path)

    def stop(self):
        """Stop the postmaster if it runs (whatever started it: a failed ``pg_ctl start`` may leave
        one), then delete the cluster. ``fast`` rolls back open sessions; ``immediate`` if that fails."""
        if not self.owned or self.removed:
            return
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            for mode in ("fast", "immediate"):
                try:
                    self._server_command("pg_ctl", "stop", "--pgdata", self.data, "--mode", mode, "--wait")
                    break
                except RuntimeError as exc:
                    log("%s; stopping it in mode immediate" % exc if mode == "fast" else str(exc))
        if self.started:
            _Watchdog.forget(*self._watched())
            self.started = False
        shutil.rmtree(self.directory, ignore_errors=True)
        _Watchdog.forget("remove", self.directory)
        self.removed = True

    def _watched(self):
        return ["cluster", self.data, os.path.join(self.bindir, "pg_ctl")] + self._as

    def client(self, program, *args, **kwargs):
        """Run a client program (psql, createdb, pg_dump, pg_restore) as the cluster's superuser."""
        return subprocess.run(self._client_command(program, *args), check=True, **kwargs)

    def _client_command(self, program, *args):
        return [os.path.join(self.bindir, program), "--host", self.socket_dir, "--port", DB_PORT,
                "--username", DB_USER] + list(args)

    def create_database(self, name, template=None):
        self.client("createdb", *(["--template", template] if template else []), name)

    def drop_database(self, name):
        self.client("dropdb", "--if-exists", name)

    def dump(self, database, path):
        self.client("pg_dump", "--format", "custom", "--file", path + ".partial", database)
        os.replace(path + ".partial", path)

    def restore(self, path, database):
        self.restore_all({database: path})

    def restore_all(self, dumps):
        """Restore each dump of ``dumps`` (database: dump) into a new database, all at once."""
        restores = {}
        try:
            for database, path in dumps.items():
                self.create_database(database)
                restores[database] = subprocess.Popen(  # pylint: disable=consider-using-with  # waited below
                    self._client_command("pg_restore", "--no-owner", "--dbname", database, path))
        finally:
            failed = [database for database, process in restores.items() if process.wait() != 0]
        if failed:
            raise RuntimeError("pg_restore failed for %s (its errors are above)" % ", ".join(failed))

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, *_exc_info):
        if exc_type is not None:
            self.print_log()
        self.stop()


def waldur_environment(cluster, database, state_dir):  # pylint: disable=redefined-outer-name
    """The environment in which Waldur's programs (waldur, gunicorn, seed.py) use ``database``."""
    environment = dict(os.environ)
    for name in ("WALDUR_API_URL", "WALDUR_API_TOKEN", "PYTHONHOME"):
        environment.pop(name, None)
    environment.update(
        PYTHONPATH=HERE, DJANGO_SETTINGS_MODULE="django_settings",
        WALDUR_TEST_DB_NAME=database, WALDUR_TEST_DB_USER=DB_USER,
        WALDUR_TEST_DB_SOCKET_DIR=cluster.socket_dir, WALDUR_TEST_DB_PORT=DB_PORT,
        WALDUR_TEST_STATE_DIR=state_dir)
    return environment


def run_in_waldur(venv, cluster, database, state_dir, *command, **kwargs):
    """Run ``command`` (a program of Waldur's venv and its arguments) against ``database``."""
    program = os.path.join(venv, "bin", command[0])
    check = kwargs.pop("check", True)
    return subprocess.run([program] + list(command[1:]), env=waldur_environment(cluster, database, state_dir),
                          cwd=HERE, check=check, **kwargs)


# --------------------------------------------------------------------------------- the dumps

def data_key(commit):
    shaping = [_read(os.path.join(HERE, name)) for name in ("seed.py", "hostile.py", "users.py", "django_settings.py")]
    return digest(commit, *shaping)


def dump_paths(commit):
    key = data_key(commit)
    return {name: os.path.join(CACHE_DIR, "db-%s-%s.dump" % (key, name)) for name in DATASETS}


def migrated_dump_paths(commit):
    """Where a dump of ``commit``'s migrated, unseeded database may be: beside the repository
    (``../shared/waldur-server/``), then in the cache (made by an earlier run)."""
    name = "migrated-%s.dump" % commit[:12]
    return [os.path.join(SHARED_DIR, name), os.path.join(CACHE_DIR, name)]


def ensure_dumps(venv, cluster, state_dir):
    """The seeded dumps (built in ``cluster`` if they are not cached)."""
    commit = source_commit()
    dumps = dump_paths(commit)
    if not all(os.path.exists(path) for path in dumps.values()):
        with cache_lock():
            if not all(os.path.exists(path) for path in dumps.values()):
                _build_dumps(venv, cluster, state_dir, commit, dumps)
    _mark_used(*dumps.values())
    return dumps


def _build_dumps(venv, cluster, state_dir, commit, dumps):
    started = time.monotonic()
    migrated = _migrated_database(venv, cluster, state_dir, commit)
    # The large data set is the small one plus thousands of images: one seeds on the other.
    previous = "migrated"
    for name in DATASETS:
        seeding = time.monotonic()
        cluster.create_database("seed_" + name, template=previous)
        run_in_waldur(venv, cluster, "seed_" + name, state_dir, "python", os.path.join(HERE, "seed.py"), name)
        cluster.dump("seed_" + name, dumps[name])
        log("seeded the %s data set in %ds" % (name, time.monotonic() - seeding))
        previous = "seed_" + name
    for name in ("migrated",) + tuple("seed_" + n for n in DATASETS):
        cluster.drop_database(name)
    _remove_stale(set(dumps.values()) | {migrated, venv})
    log("database dumps ready in %ds" % (time.monotonic() - started))


def _migrated_database(venv, cluster, state_dir, commit):
    """Make the database ``migrated``: Waldur's migrations at ``commit``, restored from a dump
    when one is there for that commit, else applied and dumped to the cache. Returns the dump."""
    for path in migrated_dump_paths(commit):
        if not os.path.exists(path):
            continue
        started = time.monotonic()
        cluster.restore(path, "migrated")
        # The file name says which commit the dump is of; Django says whether it holds every
        # migration of the source at hand (--check applies none, and fails if any is missing).
        checked = run_in_waldur(venv, cluster, "migrated", state_dir, "waldur", "migrate", "--check",
                                check=False, stdout=subprocess.DEVNULL)
        if checked.returncode == 0:
            log("restored the migrated database from %s in %ds" % (path, time.monotonic() - started))
            return path
        log("%s lacks migrations of the source at %s: not used" % (path, commit[:12]))
        cluster.drop_database("migrated")
    started = time.monotonic()
    log("applying Waldur's 330 migrations (3-7 minutes on 2 cores)")
    cluster.create_database("migrated")
    run_in_waldur(venv, cluster, "migrated", state_dir, "waldur", "migrate", "--noinput", stdout=subprocess.DEVNULL)
    migrated = migrated_dump_paths(commit)[-1]
    cluster.dump("migrated", migrated)
    log("migrated in %ds" % (time.monotonic() - started))
    return migrated


def prepare():
    """Build everything the server needs (venv, dumps); fast when all is cached."""
    venv = ensure_venv()
    if all(os.path.exists(path) for path in dump_paths(source_commit()).values()):
        return venv
    with Cluster() as cluster, tempfile.TemporaryDirectory(prefix="waldur-state-") as state_dir:
        ensure_dumps(venv, cluster, state_dir)
    return venv


# ---------------------------------------------------------------------------------- serving

class Gunicorn:
    """Waldur served by gunicorn on a free loopback port, from ``database`` of ``cluster``.

    gunicorn runs in a session of its own: ``stop`` ends its master and every worker together,
    whatever state they are in."""

    def __init__(self, venv, cluster, database, state_dir, log_path):
        self.venv = venv
        self.cluster = cluster
        self.database = database
        self.state_dir = state_dir
        self.log_path = log_path
        self.process = None
        self.port = None
        self.url = None
        self.deadline = None

    def start(self, port=None):
        """Serve on ``port`` (a restart passes the port it served on), else on a free one."""
        self.launch(port)
        self.wait_until_ready()
        return self

    def launch(self, port=None):
        """Start gunicorn without waiting for it to serve (``wait_until_ready``): several start together.

        A first start binds a free port here and hands gunicorn the bound socket (``fd://``): a port
        merely found free could be taken by another process before gunicorn bound it."""
        with contextlib.ExitStack() as stack:
            if port is None:
                listener = stack.enter_context(socket.socket())
                listener.bind(("127.0.0.1", 0))
                port = listener.getsockname()[1]
                bind, inherited = "fd://%d" % listener.fileno(), (listener.fileno(),)
            else:
                bind, inherited = "127.0.0.1:%d" % port, ()
            self.port = port
            self.url = "http://127.0.0.1:%d" % port
            log_file = stack.enter_context(open(self.log_path, "ab"))
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with
                [os.path.join(self.venv, "bin", "gunicorn"), "--config", os.path.join(HERE, "gunicorn_conf.py"),
                 "--bind", bind, "waldur_core.server.wsgi:application"],
                env=waldur_environment(self.cluster, self.database, self.state_dir), cwd=HERE, pass_fds=inherited,
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, start_new_session=True)
        _Watchdog.watch("group", self.process.pid)
        self.deadline = time.monotonic() + READY_SECONDS

    def wait_until_ready(self):
        """Poll ``GET /api/`` until it answers 401 (up, and authentication wired), or stop gunicorn and fail."""
        try:
            self._poll_until_ready()
        except BaseException:
            self.stop()
            raise

    def _poll_until_ready(self):
        while time.monotonic() < self.deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn (%s) exited with status %s before serving; its log: %s"
                                   % (self.database, self.process.returncode, self.log_path))
            try:
                urllib.request.urlopen(self.url + "/api/", timeout=5)  # nosec: loopback  pylint: disable=consider-using-with
            except urllib.error.HTTPError as exc:
                if exc.code == 401:
                    return
            except OSError:
                pass
            # Not a synchronisation sleep: the poll interval of a bounded readiness check.
            time.sleep(0.1)
        raise RuntimeError("Waldur (%s) did not answer on %s within %ds; its log: %s"
                           % (self.database, self.url, READY_SECONDS, self.log_path))

    def stop(self):
        """SIGTERM to the whole session (master and workers), SIGKILL to what is left after STOP_SECONDS."""
        if self.process is None:
            return
        for signal_number in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, signal_number)
            except ProcessLookupError:  # the master and every worker have exited
                break
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                continue
            if not _session_alive(self.process.pid):
                break
        self.process.wait()
        _Watchdog.forget("group", self.process.pid)
        self.process = None


def _session_alive(session):
    """Whether a process of the session ``session`` (its leader's pid, which is also its group) is left."""
    try:
        os.killpg(session, 0)
    except ProcessLookupError:
        return False
    return True


class WaldurServer:
    """The real Waldur with both data sets, each in its database and served on its own port.

    ``info`` (also written to ``info_path``, a JSON file for child processes, which read it with
    ``LiveWaldur``) holds, per data set, the ``url``, ``database`` and ``dump``; the ``tokens``;
    and what is needed to reach the databases and Waldur's code (``venv``, ``cluster_dir``).
    A failure of ``start`` (of PostgreSQL, a restore, the seed, gunicorn) shows the logs of the
    servers it started, then stops them; ``print_logs`` shows them for a failure of the tests."""

    def __init__(self, datasets=DATASETS):
        self.datasets = datasets
        self.cluster = None
        self.servers = {}
        self.state_dir = None
        self.info = None
        self.info_path = None

    def start(self):
        from .users import TOKENS  # pylint: disable=import-outside-toplevel

        try:
            self._start(TOKENS)
        except BaseException:
            self.print_logs()
            self.stop()
            raise
        return self

    def _start(self, tokens):
        started = time.monotonic()
        venv = ensure_venv()
        self.state_dir = tempfile.mkdtemp(prefix="waldur-state-")
        _Watchdog.watch("remove", self.state_dir)
        self.cluster = Cluster().start()
        dumps = ensure_dumps(venv, self.cluster, self.state_dir)
        restoring = time.monotonic()
        self.cluster.restore_all({name: dumps[name] for name in self.datasets})
        log("restored %s in %ds" % (", ".join(self.datasets), time.monotonic() - restoring))
        serving = time.monotonic()
        for name in self.datasets:
            self.servers[name] = Gunicorn(venv, self.cluster, name, self.state_dir,
                                          os.path.join(self.state_dir, "gunicorn-%s.log" % name))
            self.servers[name].launch()
        for server in self.servers.values():
            server.wait_until_ready()
        log("gunicorn ready in %ds" % (time.monotonic() - serving))
        self.info = {
            "venv": venv, "state_dir": self.state_dir, "cluster_dir": self.cluster.directory, "tokens": tokens,
            "datasets": {name: {"url": self.servers[name].url, "database": name, "dump": dumps[name]}
                         for name in self.datasets},
        }
        self.info_path = os.path.join(self.state_dir, "server.json")
        with open(self.info_path, "w", encoding="utf-8") as handle:
            json.dump(self.info, handle, indent=1)
        served = ", ".join("%s at %s" % (name, server.url) for name, server in self.servers.items())
        log("serving %s in %ds" % (served, time.monotonic() - started))

    def print_logs(self):
        """PostgreSQL's log and every gunicorn's of this run (those the tests started too)."""
        if self.cluster is not None:
            self.cluster.print_log()
        if self.state_dir:
            for path in sorted(glob.glob(os.path.join(self.state_dir, "gunicorn-*.log"))):
                print_log("gunicorn (%s)" % os.path.basename(path)[len("gunicorn-"):-len(".log")], path)

    def stop(self):
        for server in self.servers.values():
            server.stop()
        self.servers = {}
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None
        if self.state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            _Watchdog.forget("remove", self.state_dir)
            self.state_dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


class LiveWaldur:
    """A running ``WaldurServer`` seen from any process (its ``info``): URLs, tokens, Waldur's code.

    ``dataset("small")`` has the ``url`` and ``tokens`` attributes that the integration tests'
    ``ansible_environment`` reads from an emulator."""

    def __init__(self, info):
        self.info = info
        self.venv = info["venv"]
        self.state_dir = info["state_dir"]
        self.tokens = info["tokens"]
        self.cluster = Cluster(directory=info["cluster_dir"])

    def dataset(self, name):
        return Served(self.info["datasets"][name]["url"], self.tokens, self.info["datasets"][name]["database"])

    def waldur_python(self, database, script, *args):
        """Run ``script`` (oracle.py) with Waldur's Python on ``database``; its stdout as JSON."""
        completed = run_in_waldur(self.venv, self.cluster, database, self.state_dir, "python",
                                  os.path.join(HERE, script), *[str(arg) for arg in args],
                                  stdout=subprocess.PIPE)
        return json.loads(completed.stdout)

    def orm_session(self, database):
        """change.py on ``database``, started once: ``ask(action, *arguments)`` returns its answer; ``close()``."""
        return OrmSession(subprocess.Popen(  # pylint: disable=consider-using-with  # closed by OrmSession.close
            [os.path.join(self.venv, "bin", "python"), os.path.join(HERE, "change.py")],
            env=waldur_environment(self.cluster, database, self.state_dir), cwd=HERE,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))

    def private_database(self, name, dataset="small"):
        """A new database ``name`` restored from ``dataset``'s dump, for a test that changes data."""
        self.cluster.drop_database(name)
        self.cluster.restore(self.info["datasets"][dataset]["dump"], name)

    def gunicorn(self, database):
        """A gunicorn (not started) serving ``database``: ``start()``, ``stop()``, ``start(port)`` again."""
        return Gunicorn(self.venv, self.cluster, database, self.state_dir,
                        os.path.join(self.state_dir, "gunicorn-%s.log" % database))


class OrmSession:
    """A running change.py: one JSON line per change asked, one per answer."""

    def __init__(self, process):
        self.process = process

    def ask(self, *arguments):
        self.process.stdin.write(json.dumps([str(argument) for argument in arguments]) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError("change.py exited with status %s on %r" % (self.process.wait(), arguments))
        return json.loads(answer)

    def close(self):
        """End change.py's input and wait for it to exit: within READY_SECONDS, not STOP_SECONDS, as
        a Django process on a loaded machine can take longer than STOP_SECONDS to end (seen at a
        load of 20 on 2 cores). One that never ends is killed, and is an error."""
        self.process.stdin.close()
        try:
            status = self.process.wait(READY_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise RuntimeError("change.py did not exit within %ds of the end of its input" % READY_SECONDS) from None
        if status != 0:
            raise RuntimeError("change.py exited with status %d" % status)


class Served:
    """One served data set: ``url``, ``tokens`` by user name, ``database``."""

    def __init__(self, url, tokens, database):
        self.url = url
        self.tokens = tokens
        self.database = database
