"""A real Waldur Mastermind for the tests: built once, cached, started and stopped on demand.

Building (``prepare``) makes, under ``.cache/waldur-server/`` (``WALDUR_SERVER_CACHE``):
  - ``venv-<key>``: Waldur's pinned requirements, its git dependency and its source, in a Python
    3.10/3.11 venv; the key hashes the pins and the source commit.
  - ``db-<key>-small.dump`` and ``db-<key>-large.dump``: ``pg_dump -Fc`` of the migrated database
    with seed.py's small and large data; the key hashes the commit and the files that shape the
    data (seed.py, hostile.py, users.py, django_settings.py). ``migrated-<commit>.dump`` keeps the 330
    migrations (3 minutes) across changes of the seed.
Running (``WaldurServer``) starts a private PostgreSQL cluster in a temporary directory (Unix
socket only, no TCP port, so it never meets a system cluster), restores the dumps and serves each
database with gunicorn on a free loopback port. Everything started is stopped on exit.

The source is, in order: ``WALDUR_SERVER_SOURCE`` (an archive made by ``git archive`` or a
checkout), the archive in ``../shared/waldur-server/`` beside the repository, or a clone of the
pinned commit from GitHub.
"""

from __future__ import annotations

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
CACHE_DIR = os.environ.get("WALDUR_SERVER_CACHE") or os.path.join(REPO_ROOT, ".cache", "waldur-server")

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
DATASETS = ("small", "large")
READY_SECONDS = 600  # a busy machine (load 20 on 2 cores) took more than 120 s; a dead gunicorn fails at once
STOP_SECONDS = 15
# Debian's packages that the build and the server need, for the messages that name them.
DEBIAN_PACKAGES = "postgresql libldap2-dev libsasl2-dev libxmlsec1-dev xmlsec1 pkg-config"


class Unavailable(Exception):
    """What this machine lacks to run a real Waldur, and how to get it."""


def log(message):
    sys.stderr.write("waldur-server: %s\n" % message)
    sys.stderr.flush()


def _digest(*parts):
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part if isinstance(part, bytes) else part.encode("utf-8"))
        hasher.update(b"\0")
    return hasher.hexdigest()[:16]


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


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
    if not _cached_venvs():
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


def _cached_venvs():
    return glob.glob(os.path.join(CACHE_DIR, "venv-*", ".complete"))


# ------------------------------------------------------------------------------------ source

def source_commit():
    """The commit of the source that would be used, without unpacking it (it keys the caches)."""
    given = os.environ.get("WALDUR_SERVER_SOURCE")
    if given and os.path.isdir(given):
        return subprocess.check_output(["git", "-C", given, "rev-parse", "HEAD"], text=True).strip()
    if given:
        return _archive_commit(given)
    return PINNED_COMMIT


def _archive_commit(path):
    """The commit recorded by ``git archive`` in the tar's pax header (git get-tar-commit-id)."""
    with tarfile.open(path) as archive:
        comment = archive.pax_headers.get("comment", "")
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
    archive = given or os.path.join(SHARED_DIR, "waldur-mastermind-%s.tar.gz" % PINNED_COMMIT[:8])
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
    return os.path.join(CACHE_DIR, "venv-" + _digest(_read(REQUIREMENTS), UPLOAD_VALIDATOR_COMMIT, GUNICORN, commit))


def ensure_venv():
    """Waldur's venv (built if it is not cached); returns its directory.

    The source is installed editable from ``<venv>/source``: a plain install would copy only the
    ``waldur_mastermind`` package (the one pyproject.toml names), not ``waldur_core`` and the other
    packages beside it in ``src/``. ``.complete`` marks a finished build: a killed one is redone."""
    target = venv_dir(source_commit())
    if os.path.exists(os.path.join(target, ".complete")):
        return target
    python = server_python()
    if python is None:
        raise Unavailable("Python 3.10 or 3.11 is needed for Waldur's pins")
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(CACHE_DIR, exist_ok=True)
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
    return target


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
        self.running = False
        self.owned = directory is None
        self.directory = directory or tempfile.mkdtemp(prefix="waldur-pg-")
        self.data = os.path.join(self.directory, "data")
        self.socket_dir = self.directory
        self._as = []
        if not self.owned:
            return
        if os.geteuid() == 0:
            account = _postgres_account()
            if account is None:
                raise Unavailable("running as root without a 'postgres' account to run PostgreSQL as")
            os.chown(self.directory, account.pw_uid, account.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _server_command(self, program, *args, check=True):
        subprocess.run(self._as + [os.path.join(self.bindir, program)] + list(args), check=check,
                       stdout=subprocess.DEVNULL)

    def start(self):
        self._server_command("initdb", "--pgdata", self.data, "--username", DB_USER, "--auth", "trust",
                             "--encoding", "UTF8", "--locale", "C", "--no-sync")
        # fsync off: a test database that is rebuilt from its dump whenever in doubt.
        options = "-c listen_addresses='' -k %s -p %s -c fsync=off -c full_page_writes=off" % (self.socket_dir, DB_PORT)
        self._server_command("pg_ctl", "start", "--pgdata", self.data, "--wait", "--timeout", str(READY_SECONDS),
                             "--log", os.path.join(self.directory, "postgres.log"), "-o", options)
        self.running = True
        return self

    def stop(self):
        if not self.owned:
            return
        if self.running:
            # Not checked: a Ctrl-C reaches PostgreSQL too, which may have stopped already.
            self._server_command("pg_ctl", "stop", "--pgdata", self.data, "--mode", "fast", "--wait", check=False)
            self.running = False
        shutil.rmtree(self.directory, ignore_errors=True)

    def client(self, program, *args, **kwargs):
        """Run a client program (psql, createdb, pg_dump, pg_restore) as the cluster's superuser."""
        command = [os.path.join(self.bindir, program), "--host", self.socket_dir, "--port", DB_PORT,
                   "--username", DB_USER] + list(args)
        return subprocess.run(command, check=True, **kwargs)

    def create_database(self, name, template=None):
        self.client("createdb", *(["--template", template] if template else []), name)

    def drop_database(self, name):
        self.client("dropdb", "--if-exists", name)

    def dump(self, database, path):
        self.client("pg_dump", "--format", "custom", "--file", path + ".partial", database)
        os.replace(path + ".partial", path)

    def restore(self, path, database):
        self.create_database(database)
        self.client("pg_restore", "--no-owner", "--dbname", database, path)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
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
    return subprocess.run([program] + list(command[1:]), env=waldur_environment(cluster, database, state_dir),
                          cwd=HERE, check=True, **kwargs)


# --------------------------------------------------------------------------------- the dumps

def data_key(commit):
    shaping = [_read(os.path.join(HERE, name)) for name in ("seed.py", "hostile.py", "users.py", "django_settings.py")]
    return _digest(commit, *shaping)


def dump_paths(commit):
    key = data_key(commit)
    return {name: os.path.join(CACHE_DIR, "db-%s-%s.dump" % (key, name)) for name in DATASETS}


def ensure_dumps(venv, cluster, state_dir):
    """The seeded dumps (migrating and seeding in ``cluster`` if they are not cached)."""
    commit = source_commit()
    dumps = dump_paths(commit)
    if all(os.path.exists(path) for path in dumps.values()):
        return dumps
    # Migrations depend on the source only (its INSTALLED_APPS come from Waldur's base settings).
    migrated = os.path.join(CACHE_DIR, "migrated-%s.dump" % commit[:12])
    started = time.monotonic()
    if os.path.exists(migrated):
        cluster.restore(migrated, "migrated")
    else:
        log("applying Waldur's migrations (about 3 minutes on 2 cores)")
        cluster.create_database("migrated")
        run_in_waldur(venv, cluster, "migrated", state_dir, "waldur", "migrate", "--noinput", stdout=subprocess.DEVNULL)
        cluster.dump("migrated", migrated)
        log("migrated in %ds" % (time.monotonic() - started))
    # The large data set is the small one plus thousands of images: one seeds on the other.
    previous = "migrated"
    for name in DATASETS:
        log("seeding the %s data set" % name)
        cluster.create_database("seed_" + name, template=previous)
        run_in_waldur(venv, cluster, "seed_" + name, state_dir, "python", os.path.join(HERE, "seed.py"), name)
        cluster.dump("seed_" + name, dumps[name])
        previous = "seed_" + name
    for name in ("migrated",) + tuple("seed_" + n for n in DATASETS):
        cluster.drop_database(name)
    _remove_stale(dumps, migrated)
    log("database dumps ready in %ds" % (time.monotonic() - started))
    return dumps


def _remove_stale(dumps, migrated):
    """Delete the dumps of other seeds and commits: each is tens of MB."""
    keep = set(dumps.values()) | {migrated}
    for path in glob.glob(os.path.join(CACHE_DIR, "*.dump")):
        if path not in keep:
            os.remove(path)


def prepare():
    """Build everything the server needs (venv, dumps); fast when all is cached."""
    venv = ensure_venv()
    commit = source_commit()
    if all(os.path.exists(path) for path in dump_paths(commit).values()):
        return venv
    with Cluster() as cluster, tempfile.TemporaryDirectory(prefix="waldur-state-") as state_dir:
        ensure_dumps(venv, cluster, state_dir)
    return venv


# ---------------------------------------------------------------------------------- serving

def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """Waldur served by gunicorn on a free loopback port, from ``database`` of ``cluster``."""

    def __init__(self, venv, cluster, database, state_dir, log_path):
        self.venv = venv
        self.cluster = cluster
        self.database = database
        self.state_dir = state_dir
        self.log_path = log_path
        self.process = None
        self.port = None
        self.url = None

    def start(self, port=None):
        """Serve on ``port`` (a restart passes the port it served on), else on a free one."""
        port = port or free_port()
        self.port = port
        self.url = "http://127.0.0.1:%d" % port
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with
                [os.path.join(self.venv, "bin", "gunicorn"), "--config", os.path.join(HERE, "gunicorn_conf.py"),
                 "--bind", "127.0.0.1:%d" % port, "waldur_core.server.wsgi:application"],
                env=waldur_environment(self.cluster, self.database, self.state_dir), cwd=HERE,
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file)
        self._wait_until_ready()
        return self

    def _wait_until_ready(self):
        """Poll ``GET /api/`` until it answers 401 (up, and authentication wired), or fail."""
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited with status %s before serving; see %s"
                                   % (self.process.returncode, self.log_path))
            try:
                urllib.request.urlopen(self.url + "/api/", timeout=5)  # nosec: loopback  pylint: disable=consider-using-with
            except urllib.error.HTTPError as exc:
                if exc.code == 401:
                    return
            except OSError:
                pass
            # Not a synchronisation sleep: the poll interval of a bounded readiness check.
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("Waldur did not answer on %s within %ds; see %s" % (self.url, READY_SECONDS, self.log_path))

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class WaldurServer:
    """The real Waldur with both data sets, each in its database and served on its own port.

    ``info`` (also written to ``info_path``, a JSON file for child processes, which read it with
    ``LiveWaldur``) holds, per data set, the ``url``, ``database`` and ``dump``; the ``tokens``;
    and what is needed to reach the databases and Waldur's code (``venv``, ``cluster_dir``)."""

    def __init__(self, datasets=DATASETS):
        self.datasets = datasets
        self.cluster = None
        self.servers = {}
        self.state_dir = None
        self.info = None
        self.info_path = None

    def start(self):
        from .users import TOKENS  # pylint: disable=import-outside-toplevel

        started = time.monotonic()
        venv = ensure_venv()
        self.state_dir = tempfile.mkdtemp(prefix="waldur-state-")
        self.cluster = Cluster().start()
        dumps = ensure_dumps(venv, self.cluster, self.state_dir)
        for name in self.datasets:
            self.cluster.restore(dumps[name], name)
            self.servers[name] = Gunicorn(venv, self.cluster, name, self.state_dir,
                                          os.path.join(self.state_dir, "gunicorn-%s.log" % name)).start()
        self.info = {
            "venv": venv, "state_dir": self.state_dir, "cluster_dir": self.cluster.directory, "tokens": TOKENS,
            "datasets": {name: {"url": self.servers[name].url, "database": name, "dump": dumps[name]}
                         for name in self.datasets},
        }
        self.info_path = os.path.join(self.state_dir, "server.json")
        with open(self.info_path, "w", encoding="utf-8") as handle:
            json.dump(self.info, handle, indent=1)
        served = ", ".join("%s at %s" % (name, server.url) for name, server in self.servers.items())
        log("serving %s in %ds" % (served, time.monotonic() - started))
        return self

    def stop(self):
        for server in self.servers.values():
            server.stop()
        self.servers = {}
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None
        if self.state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

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
        self.process.stdin.close()
        self.process.wait(STOP_SECONDS)


class Served:
    """One served data set: ``url``, ``tokens`` by user name, ``database``."""

    def __init__(self, url, tokens, database):
        self.url = url
        self.tokens = tokens
        self.database = database
