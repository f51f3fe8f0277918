"""Stook's S3 endpoint beside a one-node Garage, in one run (called by scripts/bench-s3.sh).

Starts Garage and two release `stook serve`s (the local backend, and the proxy backend
over that Garage), makes a key with the `stook` CLI on each, and prints:

- throughput: 4 KiB GET req/s (wrk through presigned URLs), 64 MiB and 1 GiB PUT and
  GET MiB/s (boto3, 8 MiB parts, 4 threads), each Stook figure also as a share of
  Garage's; the targets take turns within every round (interleaved) and each figure is
  the median of the rounds. A plain TCP relay (socat) to the same Garage runs beside
  them: what any extra hop costs on this machine, apart from what the proxy itself does.
  Each server's CPU seconds per GiB show where the time goes when client and servers
  share the cores;
- ListObjectsV2 page times in a bucket of 100,000 objects: first and continued pages,
  with and without a prefix and a delimiter;
- the resident memory of each server while 4 parallel 1 GiB uploads stream.

Nothing here asserts a time: figures are printed, to be read side by side.

Sizes come from the environment: STOOK_BENCH_QUICK=1 is a smoke run with small sizes;
STOOK_BENCH_ROUNDS, _WRK_SECONDS, _MEDIUM_MIB, _LARGE_MIB, _LIST_OBJECTS,
_RSS_UPLOADS and _FILL_THREADS override single figures (0 objects to list, or 0
uploads, skips that part).
"""

import concurrent.futures
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

REPO = Path(__file__).resolve().parents[1]
STOOK = Path(os.environ.get("STOOK_BIN", REPO / "target" / "release" / "stook"))
QUICK = os.environ.get("STOOK_BENCH_QUICK", "") not in ("", "0")
MIB = 1024 * 1024


def setting(name, full, quick):
    return int(os.environ.get(f"STOOK_BENCH_{name}", quick if QUICK else full))


ROUNDS = setting("ROUNDS", 3, 1)
WRK_SECONDS = setting("WRK_SECONDS", 5, 1)
MEDIUM = setting("MEDIUM_MIB", 64, 16) * MIB
LARGE = setting("LARGE_MIB", 1024, 48) * MIB
LIST_OBJECTS = setting("LIST_OBJECTS", 100_000, 3_000)
RSS_UPLOADS = setting("RSS_UPLOADS", 4, 4)
FILL_THREADS = setting("FILL_THREADS", 48, 16)
SMALL = 4096
PART = 8 * MIB
THREADS = 4
PAGE = 1000

BUCKET = "bench"
LIST_BUCKET = "bench-list"
CUSTOMER = "bench@stook.test"


def log(message):
    print(f"  {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on {port} within {seconds} s")


def mib(size):
    return f"{size / MIB:g} MiB" if size < 1024 * MIB else f"{size / (1024 * MIB):g} GiB"


class Target:
    """One S3 endpoint under test: where it is, keys for it, and the server processes
    that answer it ((label, pid) pairs: the proxy's requests load Stook and Garage)."""

    def __init__(self, name, label, endpoint, region, key, list_key, processes, small_objects=True):
        self.name, self.label, self.endpoint, self.region = name, label, endpoint, region
        self.key, self.list_key, self.processes = key, list_key, processes
        self.small_objects = small_objects
        self.host = urllib.parse.urlsplit(endpoint).netloc
        self.client = self.boto(key)

    def boto(self, key):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=key[0],
            aws_secret_access_key=key[1],
            region_name=self.region,
            config=Config(
                s3={"addressing_style": "path"},
                signature_version="s3v4",
                # A failure shows instead of being retried into the figures.
                retries={"max_attempts": 1},
                max_pool_connections=4 * THREADS * max(RSS_UPLOADS, 1),
                read_timeout=300,
            ),
        )


class Garage:
    """A one-node Garage on loopback, configured as the S3 client tests configure it."""

    REGION = "garage"

    def __init__(self, root, buckets):
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
        self.garage("layout", "assign", "-z", "dc1", "-c", "100G", node)
        self.garage("layout", "apply", "--version", "1")
        created = self.garage("key", "create", "bench-operator")
        self.key = (
            re.search(r"Key ID:\s*(\S+)", created).group(1),
            re.search(r"Secret key:\s*(\S+)", created).group(1),
        )
        for bucket in buckets:
            self.garage("bucket", "create", bucket)
            self.garage("bucket", "allow", "--read", "--write", "--owner", bucket, "--key", "bench-operator")
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
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class Relay:
    """A plain TCP relay (socat) in front of Garage: what any extra hop on this machine
    costs, so that the proxy's figures can be told apart from the hop's."""

    def __init__(self, upstream_port):
        self.port = free_port()
        self.process = subprocess.Popen(
            ["socat", "-b", str(408 * 1024), f"TCP-LISTEN:{self.port},fork,reuseaddr,nodelay,bind=127.0.0.1",
             f"TCP:127.0.0.1:{upstream_port},nodelay"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        wait_for_port(self.port, self.process)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        # socat forks a child per connection: end them all.
        try:
            os.killpg(self.process.pid, 15)
        except ProcessLookupError:
            pass
        self.process.wait(10)


class Stook:
    """A release `stook serve` with a customer owning the bench buckets."""

    def __init__(self, root, upstream=None):
        self.data_dir = root
        self.env = dict(os.environ, STOOK_DATA_DIR=str(root), RUST_LOG="warn")
        self.env.pop("STOOK_DATABASE_URL", None)
        self.env.pop("DATABASE_URL", None)
        self.s3_port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.s3_port}"
        self.cli("user", "add", "--email", CUSTOMER, "--password", "bench-password-0123")
        self.cli("region", "add", "--name", "bench-1", "--endpoint", self.endpoint)
        for bucket in (BUCKET, LIST_BUCKET):
            self.cli("bucket", "add", "--owner", CUSTOMER, "--region", "bench-1", "--name", bucket)
        # Scoped keys, as a customer would make them (not the buckets' master keys).
        self.key = self.credential(BUCKET)
        self.list_key = self.credential(LIST_BUCKET)
        site = root / "site"
        # The panel needs built assets to start; the bench only uses the S3 endpoint.
        (site / "pkg").mkdir(parents=True)
        (site / "pkg" / "stook.js").write_text("")
        env = dict(
            self.env,
            STOOK_LISTEN=f"127.0.0.1:{free_port()}",
            STOOK_S3_LISTEN=f"127.0.0.1:{self.s3_port}",
            STOOK_SITE_ROOT=str(site),
            STOOK_SECURE_COOKIES="false",
            STOOK_ADMIN_PASSWORD="bench-admin-password-0123",
        )
        if upstream:
            env.update(
                STOOK_S3_BACKEND="proxy",
                STOOK_S3_UPSTREAM_URL=upstream.url,
                STOOK_S3_UPSTREAM_REGION=upstream.REGION,
                STOOK_S3_UPSTREAM_ACCESS_KEY_ID=upstream.key[0],
                STOOK_S3_UPSTREAM_SECRET_ACCESS_KEY=upstream.key[1],
            )
        self.log = open(root / "stook.log", "w")
        self.process = subprocess.Popen([str(STOOK), "serve"], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(self.s3_port, self.process)

    def cli(self, *args):
        done = subprocess.run([str(STOOK), "--json", *args], env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"stook {' '.join(args)} failed: {done.stderr}")
        return json.loads(done.stdout) if done.stdout.strip() else None

    def credential(self, bucket):
        made = self.cli("credential", "create", "--bucket", bucket, "--name", f"bench {bucket}", "--actions", "read-write")
        return made["credential"]["access_key_id"], made["secret_key"]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


# --- Signature V4 by hand: boto3 spends more time than the servers on small requests. ---

def _hmac(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _quote(text, safe="-_.~"):
    return urllib.parse.quote(text, safe=safe)


class Signer:
    def __init__(self, target, key):
        self.host, self.region, (self.access_key_id, self.secret) = target.host, target.region, key
        self._keys = {}

    def headers(self, method, path, query=()):
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = amz_date[:8]
        if day not in self._keys:
            k = _hmac(("AWS4" + self.secret).encode(), day)
            for part in (self.region, "s3", "aws4_request"):
                k = _hmac(k, part)
            self._keys[day] = k
        payload = "UNSIGNED-PAYLOAD"
        canonical_query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(query))
        signed = {"host": self.host, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
        names = ";".join(sorted(signed))
        canonical = "\n".join([
            method, _quote(path, "/-_.~"), canonical_query,
            "".join(f"{k}:{signed[k]}\n" for k in sorted(signed)), names, payload,
        ])
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        signature = hmac.new(self._keys[day], to_sign.encode(), hashlib.sha256).hexdigest()
        signed["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.access_key_id}/{scope}, SignedHeaders={names}, Signature={signature}"
        )
        return signed, canonical_query


class Connection:
    """One keep-alive connection that sends signed requests."""

    def __init__(self, target, key):
        host, port = target.host.split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=120)
        self.signer = Signer(target, key)

    def request(self, method, path, query=(), body=b""):
        headers, canonical_query = self.signer.headers(method, path, query)
        url = _quote(path, "/-_.~") + (f"?{canonical_query}" if canonical_query else "")
        self.conn.request(method, url, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path} answered {response.status}: {data[:300]!r}")
        return data


# --- Throughput ---

def transfer_config():
    return TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=THREADS, use_threads=True)


def cpu_seconds(pid):
    """User and system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# CPU seconds each server process spent per GiB moved, by (target, column): on a machine
# whose cores the client and the servers share, this is what a hop costs.
CPU_PER_GIB = {}


def timed_transfer(target, column, size, transfer):
    cpu = [cpu_seconds(pid) for _, pid in target.processes]
    started = time.perf_counter()
    transfer()
    rate = size / MIB / (time.perf_counter() - started)
    spent = [cpu_seconds(pid) - before for (_, pid), before in zip(target.processes, cpu)]
    CPU_PER_GIB.setdefault((target.name, column), []).append([s / (size / (1024 * MIB)) for s in spent])
    return rate


def put_rate(target, column, source, size, key):
    return timed_transfer(
        target, column, size, lambda: target.client.upload_file(str(source), BUCKET, key, Config=transfer_config())
    )


def get_rate(target, column, size, key):
    with open(os.devnull, "wb") as sink:
        return timed_transfer(
            target, column, size,
            lambda: target.client.download_fileobj(BUCKET, key, sink, Config=transfer_config()),
        )


def wrk_rate(url):
    done = subprocess.run(["wrk", "-t1", "-c16", f"-d{WRK_SECONDS}s", url], capture_output=True, text=True)
    if "Non-2xx" in done.stdout or done.returncode != 0:
        raise RuntimeError(f"wrk saw errors from {url.split('?')[0]}:\n{done.stdout}{done.stderr}")
    found = re.search(r"Requests/sec:\s*([\d.]+)", done.stdout)
    if not found:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{done.stdout}")
    return float(found.group(1))


def throughput(targets, medium_file, large_file):
    """Every figure for every target, the targets taking turns (in a rotating order) in each round."""
    figures = {t.name: {} for t in targets}
    urls = {}
    for t in targets:
        if not t.small_objects:
            continue
        t.client.put_object(Bucket=BUCKET, Key=f"{t.name}/small", Body=os.urandom(SMALL))
        urls[t.name] = t.client.generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": f"{t.name}/small"}, ExpiresIn=24 * 3600
        )
        wrk_rate(urls[t.name])  # warm-up, and a check that the URL works
    medium_put, medium_get = f"{mib(MEDIUM)} PUT MiB/s", f"{mib(MEDIUM)} GET MiB/s"
    large_put, large_get = f"{mib(LARGE)} PUT MiB/s", f"{mib(LARGE)} GET MiB/s"
    columns = [
        ("4 KiB GET req/s", lambda t: wrk_rate(urls[t.name])),
        (medium_put, lambda t: put_rate(t, medium_put, medium_file, MEDIUM, f"{t.name}/medium")),
        (medium_get, lambda t: get_rate(t, medium_get, MEDIUM, f"{t.name}/medium")),
        (large_put, lambda t: put_rate(t, large_put, large_file, LARGE, f"{t.name}/large")),
        (large_get, lambda t: get_rate(t, large_get, LARGE, f"{t.name}/large")),
    ]
    for round_ in range(ROUNDS):
        order = targets[round_ % len(targets):] + targets[:round_ % len(targets)]
        for column, measure in columns:
            for t in order:
                if column.endswith("req/s") and not t.small_objects:
                    continue
                figures[t.name].setdefault(column, []).append(measure(t))
        log(f"round {round_ + 1} of {ROUNDS} done")
    return [c for c, _ in columns], figures


def print_throughput(targets, columns, figures):
    base = targets[0]
    print(f"\nThroughput (median of {ROUNDS} interleaved rounds; in brackets: share of {base.label}'s)\n")
    print("| | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for t in targets:
        cells = []
        for column in columns:
            if column not in figures[t.name]:
                cells.append("—")
                continue
            value = statistics.median(figures[t.name][column])
            text = f"{value:,.0f}" if "req/s" in column else f"{value:,.1f}"
            if t is not base:
                text += f" ({value / statistics.median(figures[base.name][column]) * 100:.0f} %)"
            cells.append(text)
        print(f"| {t.label} | " + " | ".join(cells) + " |")
    print("\nServer CPU seconds per GiB moved (median of the rounds; the client's own is not counted)\n")
    transfers = [c for c in columns if "MiB/s" in c]
    print("| | " + " | ".join(c.replace(" MiB/s", "") for c in transfers) + " |")
    print("|---" * (len(transfers) + 1) + "|")
    for t in targets:
        cells = []
        for column in transfers:
            runs = CPU_PER_GIB[(t.name, column)]
            cells.append(" + ".join(
                f"{statistics.median(run[i] for run in runs):.2f} {label}" for i, (label, _) in enumerate(t.processes)
            ))
        print(f"| {t.label} | " + " | ".join(cells) + " |")
    print("\nEach round's figures:")
    for t in targets:
        for column in figures[t.name]:
            runs = ", ".join(f"{v:,.1f}" for v in figures[t.name][column])
            print(f"  {t.label}, {column}: {runs}")


# --- Listings ---

def list_layout(count):
    """Keys for the listing bucket: a tenth at the root, the rest in 45 folders."""
    at_root = count // 10
    per_folder = (count - at_root) // 45
    keys = [f"dir{d:02d}/f{j:05d}" for d in range(45) for j in range(per_folder)]
    keys += [f"f{i:06d}" for i in range(count - len(keys))]
    return keys


def fill(target, keys):
    """Small PUTs on many keep-alive connections at once."""
    chunks = [keys[i::FILL_THREADS] for i in range(FILL_THREADS)]

    def put_all(chunk):
        conn = Connection(target, target.list_key)
        for key in chunk:
            conn.request("PUT", f"/{LIST_BUCKET}/{key}", body=b"listed object 0123456789abcdef")

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(FILL_THREADS) as pool:
        list(pool.map(put_all, chunks))
    return time.perf_counter() - started


LISTINGS = [
    ("every key", "", None),
    ("prefix dir0 (no delimiter)", "dir0", None),
    ("delimiter / at the root", "", "/"),
    ("prefix dir07/ and delimiter /", "dir07/", "/"),
]


def walk(conn, prefix, delimiter):
    """Every page of one listing: (seconds, entries) for each."""
    pages, token = [], None
    while True:
        query = [("list-type", "2"), ("max-keys", str(PAGE))]
        if prefix:
            query.append(("prefix", prefix))
        if delimiter:
            query.append(("delimiter", delimiter))
        if token:
            query.append(("continuation-token", token))
        started = time.perf_counter()
        body = conn.request("GET", f"/{LIST_BUCKET}", query)
        elapsed = time.perf_counter() - started
        text = body.decode()
        entries = text.count("<Key>") + text.count("<CommonPrefixes>")
        pages.append((elapsed, entries))
        found = re.search(r"<NextContinuationToken>([^<]+)</NextContinuationToken>", text)
        if "<IsTruncated>true</IsTruncated>" not in text or not found:
            return pages
        token = found.group(1)


def listings(targets):
    results = {}
    for _ in range(2):  # the second pass is the one kept: caches warm on every target alike
        for name, prefix, delimiter in LISTINGS:
            for t in targets:
                conn = Connection(t, t.list_key)
                results[(name, t.name)] = walk(conn, prefix, delimiter)
    return results


def print_listings(targets, results, fill_times):
    print(f"\nListObjectsV2 in a bucket of {LIST_OBJECTS:,} objects, {PAGE:,} keys a page "
          "(ms: first page; continued pages median / slowest)\n")
    print("| listing | pages, entries | " + " | ".join(t.label for t in targets) + " |")
    print("|---|---|" + "---|" * len(targets))
    for name, _, _ in LISTINGS:
        shapes = {(len(results[(name, t.name)]), sum(e for _, e in results[(name, t.name)])) for t in targets}
        shape = " / ".join(f"{p}, {e:,}" for p, e in sorted(shapes))
        if len(shapes) > 1:
            shape += " (the targets disagree!)"
        cells = []
        for t in targets:
            pages = [s * 1000 for s, _ in results[(name, t.name)]]
            cell = f"{pages[0]:.1f}"
            if len(pages) > 1:
                cell += f"; {statistics.median(pages[1:]):.1f} / {max(pages[1:]):.1f}"
            cells.append(cell)
        print(f"| {name} | {shape} | " + " | ".join(cells) + " |")
    for label, seconds in fill_times:
        print(f"  filled {label} with {LIST_OBJECTS:,} small PUTs ({FILL_THREADS} connections) in "
              f"{seconds:.1f} s: {LIST_OBJECTS / seconds:,.0f} PUT/s")


# --- Memory while large uploads stream ---

def status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) * 1024
    return fields


def upload_memory(target, pids, large_file):
    """Peak memory of each of `pids` while RSS_UPLOADS uploads of the large file run at once."""
    before = {pid: status(pid)["VmRSS"] for pid in pids}
    for pid in pids:
        try:  # Resets VmHWM to the current RSS (Linux 4.0 and later; needs to own the process).
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            pass
    peak = dict(before)
    done = threading.Event()

    def sample():
        while not done.is_set():
            for pid in pids:
                peak[pid] = max(peak[pid], status(pid)["VmRSS"])
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    try:
        with concurrent.futures.ThreadPoolExecutor(RSS_UPLOADS) as pool:
            list(pool.map(
                lambda i: target.client.upload_file(str(large_file), BUCKET, f"{target.name}/parallel-{i}",
                                                    Config=transfer_config()),
                range(RSS_UPLOADS),
            ))
    finally:
        done.set()
        sampler.join()
    rate = RSS_UPLOADS * LARGE / MIB / (time.perf_counter() - started)
    return {pid: (before[pid], peak[pid], status(pid)["VmHWM"]) for pid in pids}, rate


def print_memory(rows):
    print(f"\nMemory while {RSS_UPLOADS} uploads of {mib(LARGE)} stream at once "
          f"({mib(PART)} parts, {THREADS} threads each; MiB)\n")
    print("| uploading to | process | RSS before | peak RSS (sampled) | VmHWM | uploads' MiB/s |")
    print("|---|---|---|---|---|---|")
    for target_label, process_label, (before, peak, hwm), rate in rows:
        print(f"| {target_label} | {process_label} | {before / MIB:.0f} | {peak / MIB:.0f} | {hwm / MIB:.0f} | {rate:.1f} |")


def main():
    for tool in ("garage", "wrk", "socat"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            sys.exit(f"{tool} is not installed (scripts/bench-s3.sh installs it)")
    if not STOOK.exists():
        sys.exit(f"{STOOK} is missing: cargo build --release -p server --bin stook")
    with tempfile.TemporaryDirectory(prefix="stook-bench-") as tmp:
        root = Path(tmp)
        for d in ("garage", "local", "proxy"):
            (root / d).mkdir()
        servers = []
        try:
            garage = Garage(root / "garage", [BUCKET, LIST_BUCKET])
            servers.append(garage)
            local = Stook(root / "local")
            servers.append(local)
            proxy = Stook(root / "proxy", upstream=garage)
            servers.append(proxy)
            targets = [
                Target("garage", "Garage direct", garage.url, Garage.REGION, garage.key, garage.key,
                       [("garage", garage.process.pid)]),
                Target("local", "Stook, local backend", local.endpoint, "us-east-1", local.key, local.list_key,
                       [("stook", local.process.pid)]),
                Target("proxy", "Stook, proxy to that Garage", proxy.endpoint, "us-east-1", proxy.key,
                       proxy.list_key, [("stook", proxy.process.pid), ("garage", garage.process.pid)]),
            ]
            relay = Relay(garage.s3_port)
            servers.append(relay)
            # Signed for the relay's address: Garage checks the Host header as sent.
            relayed = Target("relay", "Plain TCP relay (socat) to that Garage", relay.url, Garage.REGION, garage.key,
                             garage.key, [("garage (socat not counted)", garage.process.pid)],
                             # socat's separate writes of head and body meet Garage's
                             # delayed ACKs: its small-request figure says nothing.
                             small_objects=False)
            log(f"sizes: {ROUNDS} rounds, wrk {WRK_SECONDS} s, {mib(MEDIUM)} and {mib(LARGE)} objects, "
                f"{LIST_OBJECTS:,} objects to list, {RSS_UPLOADS} parallel uploads"
                + (" (STOOK_BENCH_QUICK)" if QUICK else ""))
            medium_file, large_file = root / "medium.bin", root / "large.bin"
            for path, size in ((medium_file, MEDIUM), (large_file, LARGE)):
                with open(path, "wb") as f:
                    for _ in range(size // MIB):
                        f.write(os.urandom(MIB))

            log("throughput")
            columns, figures = throughput(targets + [relayed], medium_file, large_file)
            print_throughput(targets + [relayed], columns, figures)

            if RSS_UPLOADS:
                log("memory while large uploads stream")
                rows = []
                for t in (targets[1], targets[2], targets[0]):
                    found, rate = upload_memory(t, [pid for _, pid in t.processes], large_file)
                    for label, pid in t.processes:
                        rows.append((t.label, label, found[pid], rate))
                print_memory(rows)
            large_file.unlink()

            if LIST_OBJECTS:
                log(f"filling the listing buckets with {LIST_OBJECTS:,} objects")
                keys = list_layout(LIST_OBJECTS)
                # The proxy lists Garage's bucket of the same name: one fill serves both.
                fill_times = [("Garage", fill(targets[0], keys)), ("Stook local", fill(targets[1], keys))]
                log("listing")
                print_listings(targets, listings(targets), fill_times)
        finally:
            for server in reversed(servers):
                server.stop()


if __name__ == "__main__":
    main()
