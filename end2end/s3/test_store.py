"""The embedded store as clients see it: every key S3 accepts is stored, listed and read
back exactly as given, and a server killed during uploads loses nothing it acknowledged
and keeps nothing it did not."""

import hashlib
import os
import signal
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import Stook, error_code

# Keys that broke a store that named files after keys: a key that is a prefix of another's
# path, a file where a directory would be, a segment over 255 bytes, a trailing slash with
# a body, percent signs and pluses that a decoding listing would change, dot segments,
# the longest key S3 allows.
HARD_KEYS = [
    "hard/p/2025",
    "hard/p/2025/x.jpg",
    "hard/q/file",
    "hard/q/file/child",
    "hard/" + "x" * 300,
    "hard/r/",
    "hard/v/%2e%2e/w",
    "hard/report%20final.pdf",
    "hard/a+b=c&d",
    "hard/ünï 写真 😀 <tag>&amp;",
    "hard/sp ace/ and\ttab",
    "hard/" + "k" * (1024 - len("hard/")),
]


def body_of(key):
    return hashlib.sha256(key.encode()).digest() * 3 + key.encode()


def test_every_valid_key_round_trips(stook, master):
    for key in HARD_KEYS:
        master.put_object(Bucket="test-photos", Key=key, Body=body_of(key))
    try:
        for key in HARD_KEYS:
            got = master.get_object(Bucket="test-photos", Key=key)
            assert got["Body"].read() == body_of(key), key
        # boto3 asks for EncodingType=url and decodes; the raw listing must agree.
        listed = [o["Key"] for o in master.list_objects_v2(Bucket="test-photos", Prefix="hard/")["Contents"]]
        assert listed == sorted(HARD_KEYS, key=str.encode)
        paged = []
        for page in master.get_paginator("list_objects_v2").paginate(
            Bucket="test-photos", Prefix="hard/", PaginationConfig={"PageSize": 2}
        ):
            paged += [o["Key"] for o in page.get("Contents", [])]
        assert paged == listed
        top = master.list_objects_v2(Bucket="test-photos", Prefix="hard/", Delimiter="/")
        prefixes = [p["Prefix"] for p in top.get("CommonPrefixes", [])]
        assert prefixes == sorted({k[: k.index("/", 5) + 1] for k in HARD_KEYS if "/" in k[5:]}, key=str.encode)
        if stook.backend == "local":
            with pytest.raises(ClientError) as refused:
                master.put_object(Bucket="test-photos", Key="hard/" + "k" * 1024, Body=b"x")
            assert error_code(refused) == "KeyTooLongError"
    finally:
        for key in HARD_KEYS:
            master.delete_object(Bucket="test-photos", Key=key)
    assert "Contents" not in master.list_objects_v2(Bucket="test-photos", Prefix="hard/")


def test_a_url_encoded_listing_decodes_to_the_stored_key(stook, master, local_only):
    key = "enc/a+b %2e ü"
    master.put_object(Bucket="test-photos", Key=key, Body=b"x")
    try:
        # Asked for explicitly, boto3 leaves the encoded keys to the caller: decoding them
        # either way (with "+" as a space or not) must give the key exactly.
        raw = master.list_objects_v2(Bucket="test-photos", Prefix="enc/", EncodingType="url")
        [listed] = [o["Key"] for o in raw["Contents"]]
        assert listed != key
        assert urllib.parse.unquote_plus(listed) == key
        assert urllib.parse.unquote(listed) == key
        assert urllib.parse.unquote(raw["Prefix"]) == "enc/"
    finally:
        master.delete_object(Bucket="test-photos", Key=key)


def blob_bytes(data_dir):
    root = Path(data_dir) / "objects" / ".stook-store" / "blobs"
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file())


def test_a_kill_during_uploads_loses_nothing_acknowledged(tmp_path):
    server = Stook("sqlite")
    try:
        master = server.client(server.master["test-photos"])
        acknowledged = {}
        stop = threading.Event()

        def upload(worker):
            n = 0
            while not stop.is_set():
                key = f"crash/{worker}/{n}"
                size = (n % 5) * 700_000 + 1
                data = os.urandom(size)
                try:
                    if n % 7 == 3:
                        # A multipart upload of two parts.
                        made = master.create_multipart_upload(Bucket="test-photos", Key=key)
                        half = 5 * 1024 * 1024
                        data = os.urandom(half + 1000)
                        parts = []
                        for number, chunk in ((1, data[:half]), (2, data[half:])):
                            done = master.upload_part(Bucket="test-photos", Key=key, UploadId=made["UploadId"],
                                                      PartNumber=number, Body=chunk)
                            parts.append({"PartNumber": number, "ETag": done["ETag"]})
                        master.complete_multipart_upload(Bucket="test-photos", Key=key, UploadId=made["UploadId"],
                                                         MultipartUpload={"Parts": parts})
                    else:
                        master.put_object(Bucket="test-photos", Key=key, Body=data)
                    acknowledged[key] = hashlib.md5(data).hexdigest()
                except Exception:
                    return
                n += 1

        workers = [threading.Thread(target=upload, args=(w,)) for w in range(4)]
        for w in workers:
            w.start()
        deadline = time.time() + 60
        while len(acknowledged) < 40 and time.time() < deadline:
            time.sleep(0.05)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        stop.set()
        for w in workers:
            w.join()
        assert len(acknowledged) >= 40, "the uploads did not get going"

        server.process = server.serve(server.s3_port)
        master = server.client(server.master["test-photos"])
        listed = {}
        for page in master.get_paginator("list_objects_v2").paginate(Bucket="test-photos", Prefix="crash/"):
            for o in page.get("Contents", []):
                listed[o["Key"]] = o["Size"]
        missing = set(acknowledged) - set(listed)
        assert not missing, f"acknowledged objects lost: {sorted(missing)[:5]}"
        for key, size in listed.items():
            data = master.get_object(Bucket="test-photos", Key=key)["Body"].read()
            assert len(data) == size, key
            if key in acknowledged:
                assert hashlib.md5(data).hexdigest() == acknowledged[key], key
        # Uploads cut short are still there to resume or abort; aborted, nothing is left
        # but the listed objects' bytes.
        for upload in master.list_multipart_uploads(Bucket="test-photos").get("Uploads", []):
            master.abort_multipart_upload(Bucket="test-photos", Key=upload["Key"], UploadId=upload["UploadId"])
        assert blob_bytes(server.data_dir) == sum(listed.values())
    finally:
        server.stop()
