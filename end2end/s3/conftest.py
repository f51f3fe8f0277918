"""Starts a real `stook serve` for the S3 client tests, once on SQLite and once on
PostgreSQL (when STOOK_TEST_POSTGRES_URL is set), and makes keys with the `stook` CLI."""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
STOOK = Path(os.environ.get("STOOK_BIN", REPO / "target" / "debug" / "stook"))
CUSTOMER = "s3-tests@stook.test"
BUCKETS = ("test-photos", "other-bucket")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"stook exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"stook did not listen on {port} within {seconds} s")


class Postgres:
    """A throwaway database on the server STOOK_TEST_POSTGRES_URL names."""

    def __init__(self, admin_url):
        self.admin_url = admin_url
        self.name = "stook_s3_" + uuid.uuid4().hex[:12]
        self.psql(f"CREATE DATABASE {self.name}")
        base = admin_url.rsplit("/", 1)[0]
        self.url = f"{base}/{self.name}"

    def psql(self, sql):
        subprocess.run(["psql", self.admin_url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)

    def drop(self):
        self.psql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


class Garage:
    """A one-node Garage on loopback: the upstream store for the proxy backend."""

    REGION = "garage"

    def __init__(self, buckets):
        self.tmp = tempfile.TemporaryDirectory(prefix="stook-garage-")
        root = Path(self.tmp.name)
        self.s3_port, rpc_port, admin_port = free_port(), free_port(), free_port()
        self.config = root / "garage.toml"
        self.config.write_text(f"""
metadata_dir = "{root}/meta"
data_dir = "{root}/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:{rpc_port}"
rpc_public_addr = "127.0.0.1:{rpc_port}"
rpc_secret = "{os.urandom(32).hex()}"

[s3_api]
s3_region = "{self.REGION}"
api_bind_addr = "127.0.0.1:{self.s3_port}"

[admin]
api_bind_addr = "127.0.0.1:{admin_port}"
""")
        self.log = open(root / "garage.log", "w")
        self.process = subprocess.Popen(
            ["garage", "-c", str(self.config), "server"], stdout=self.log, stderr=subprocess.STDOUT,
            env=dict(os.environ, RUST_LOG="warn"),
        )
        wait_for_port(self.s3_port, self.process)
        node = self.garage("node", "id", "-q").split("@")[0]
        self.garage("layout", "assign", "-z", "dc1", "-c", "1G", node)
        self.garage("layout", "apply", "--version", "1")
        created = self.garage("key", "create", "stook-operator")
        self.access_key_id = re.search(r"Key ID:\s*(\S+)", created).group(1)
        self.secret_access_key = re.search(r"Secret key:\s*(\S+)", created).group(1)
        for bucket in buckets:
            self.garage("bucket", "create", bucket)
            self.garage("bucket", "allow", "--read", "--write", "--owner", bucket, "--key", "stook-operator")
        self.url = f"http://127.0.0.1:{self.s3_port}"

    def garage(self, *args):
        deadline = time.time() + 30
        while True:
            done = subprocess.run(["garage", "-c", str(self.config), *args], capture_output=True, text=True)
            if done.returncode == 0:
                return done.stdout
            # Right after start the node may not answer RPC yet.
            if time.time() > deadline:
                raise RuntimeError(f"garage {' '.join(args)} failed: {done.stderr}")
            time.sleep(0.5)

    def stop(self):
        self.process.terminate()
        self.process.wait(10)
        self.log.close()
        self.tmp.cleanup()


class Stook:
    def __init__(self, database, s3_domain=None, upstream=None, serve_env=None):
        self.tmp = tempfile.TemporaryDirectory(prefix="stook-s3-")
        self.data_dir = Path(self.tmp.name)
        self.postgres = None
        self.env = dict(os.environ, STOOK_DATA_DIR=str(self.data_dir), RUST_LOG="warn")
        # Every secret this server issued: none may ever show in its log.
        self.secrets = []
        self.env.pop("STOOK_DATABASE_URL", None)
        self.env.pop("DATABASE_URL", None)
        if database == "postgres":
            self.postgres = Postgres(os.environ["STOOK_TEST_POSTGRES_URL"])
            self.env["STOOK_DATABASE_URL"] = self.postgres.url
        self.s3_port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.s3_port}"
        self.cli("user", "add", "--email", CUSTOMER, "--password", "s3-tests-password")
        self.cli("region", "add", "--name", "eu-test-1", "--endpoint", self.endpoint)
        self.master = {}
        for bucket in BUCKETS:
            added = self.cli("bucket", "add", "--owner", CUSTOMER, "--region", "eu-test-1", "--name", bucket)
            self.master[bucket] = (added["master_key"]["access_key_id"], added["master_key"]["secret_key"])
            self.secrets.append(added["master_key"]["secret_key"])
        self.site = self.data_dir / "site"
        self.s3_domain = s3_domain
        self.upstream = upstream
        self.serve_env = serve_env or {}
        self.backend = "proxy" if upstream else "local"
        # The panel needs built assets to start; these tests only use the S3 endpoint.
        (self.site / "pkg").mkdir(parents=True)
        (self.site / "pkg" / "stook.js").write_text("")
        self.log = open(self.data_dir / "stook.log", "w")
        self.process = self.serve(self.s3_port)
        self.others = []

    def serve(self, s3_port, data_dir=None):
        """Starts `stook serve` on this database and data directory (or on `data_dir` with
        this one's master key), its S3 endpoint on s3_port."""
        env = dict(
            self.env,
            STOOK_LISTEN=f"127.0.0.1:{free_port()}",
            STOOK_S3_LISTEN=f"127.0.0.1:{s3_port}",
            STOOK_SITE_ROOT=str(self.site),
            STOOK_SECURE_COOKIES="false",
            STOOK_ADMIN_PASSWORD="s3-tests-admin-password",
            # Everything, s3s's request traces included, so the secret check below means something.
            RUST_LOG="debug,s3s=debug,sqlx=warn,hyper=info,h2=info,aws_smithy_runtime=info",
        )
        if self.s3_domain:
            env["STOOK_S3_DOMAIN"] = self.s3_domain
        env.update(self.serve_env)
        if data_dir:
            env.update(STOOK_DATA_DIR=str(data_dir), STOOK_MASTER_KEY_FILE=str(self.data_dir / "master.key"))
        if self.upstream:
            env.update(
                STOOK_S3_BACKEND="proxy",
                STOOK_S3_UPSTREAM_URL=self.upstream.url,
                STOOK_S3_UPSTREAM_REGION=self.upstream.REGION,
                STOOK_S3_UPSTREAM_ACCESS_KEY_ID=self.upstream.access_key_id,
                STOOK_S3_UPSTREAM_SECRET_ACCESS_KEY=self.upstream.secret_access_key,
            )
        process = subprocess.Popen([str(STOOK), "serve"], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(s3_port, process)
        return process

    def another_instance(self):
        """A second `stook serve` on the same database: its S3 endpoint URL. On the local
        backend it keeps objects in a data directory of its own: one process owns a store."""
        port = free_port()
        data_dir = None
        if self.backend == "local":
            data_dir = self.data_dir / f"instance-{len(self.others) + 2}"
            data_dir.mkdir()
        self.others.append(self.serve(port, data_dir))
        return f"http://127.0.0.1:{port}"

    def another_instance_on_this_data_directory(self):
        """Starts a second `stook serve` on this very data directory (raises if it exits)."""
        self.others.append(self.serve(free_port()))

    def sql(self, statement):
        """Runs one SQL statement on this server's database, behind its back."""
        if self.postgres:
            subprocess.run(["psql", self.postgres.url, "-v", "ON_ERROR_STOP=1", "-qc", statement], check=True)
        else:
            import sqlite3
            with sqlite3.connect(self.data_dir / "stook.db") as db:
                db.execute(statement)

    def cli(self, *args):
        done = subprocess.run(
            [str(STOOK), "--json", *args], env=self.env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"stook {' '.join(args)} failed: {done.stderr}")
        return json.loads(done.stdout) if done.stdout.strip() else None

    def key(self, actions, path=None, bucket="test-photos", networks=None):
        """A new scoped key: (access key id, secret)."""
        args = ["credential", "create", "--bucket", bucket, "--name", "key-" + uuid.uuid4().hex[:10]]
        args += ["--actions", actions]
        if path:
            args += ["--path", path]
        if networks:
            args += ["--networks", networks]
        made = self.cli(*args)
        self.secrets.append(made["secret_key"])
        return made["credential"]["access_key_id"], made["secret_key"]

    def credential(self, access_key_id):
        return next(c for c in self.cli("credential", "list") if c["access_key_id"] == access_key_id)

    def client(self, key, endpoint=None, **config):
        access_key_id, secret = key
        return boto3.client(
            "s3",
            endpoint_url=endpoint or self.endpoint,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret,
            region_name="us-east-1",
            config=Config(**{
                "s3": {"addressing_style": "path"},
                "retries": {"max_attempts": 1},
                # boto3 presigns with Signature Version 2 unless told otherwise.
                "signature_version": "s3v4",
                **config,
            }),
        )

    def stop(self):
        for process in [self.process, *self.others]:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.log.close()
        if self.postgres:
            self.postgres.drop()
        log = (self.data_dir / "stook.log").read_text()
        self.tmp.cleanup()
        assert "s3s" in log, "the debug log should hold the request traces"
        leaked = [s for s in self.secrets if s in log]
        assert not leaked, f"{len(leaked)} secret keys appear in the server log"



def setups():
    """Local backend on SQLite (and PostgreSQL when configured), and the proxy to Garage."""
    found = ["sqlite"]
    if os.environ.get("STOOK_TEST_POSTGRES_URL"):
        found.append("postgres")
    found.append("garage")
    return found


@pytest.fixture(scope="session", params=setups())
def stook(request):
    if request.param == "garage":
        if not shutil.which("garage"):
            pytest.fail("garage is not installed: scripts/test.sh installs it (cargo install garage --version 2.5.0)")
        upstream = Garage(BUCKETS)
        try:
            server = Stook("sqlite", upstream=upstream)
        except Exception:
            upstream.stop()
            raise
        yield server
        server.stop()
        upstream.stop()
    else:
        server = Stook(request.param)
        yield server
        server.stop()


@pytest.fixture
def local_only(stook):
    """For behaviour Stook's local backend provides itself (an upstream answers for its own)."""
    if stook.backend != "local":
        pytest.skip("the upstream store answers this, not Stook")


@pytest.fixture(scope="session")
def master(stook):
    return stook.client(stook.master["test-photos"])


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def error_message(excinfo):
    return excinfo.value.response["Error"].get("Message", "")


def url_with(url, **changes):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(**changes))


def until(condition, seconds=1.0, what="the change"):
    """Waits for condition() to hold; fails if it takes longer than `seconds`."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, f"{what} did not take effect within {seconds} s"
        time.sleep(0.05)
