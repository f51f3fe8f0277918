"""The S3 endpoint with real clients: boto3, the AWS CLI and s3cmd (PyPI) and rclone (Debian)."""

import hashlib
import hmac
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import error_code, error_message, until, url_with

MiB = 1024 * 1024


@pytest.fixture(scope="session", autouse=True)
def seeded(stook, master):
    seed = [("photos/a.jpg", b"photo a"), ("docs/readme.txt", b"docs"), ("top.txt", b"top"),
            ("list/a.txt", b"a"), ("list/sub/b.txt", b"b")]
    for key, body in seed:
        master.put_object(Bucket="test-photos", Key=key, Body=body)
    stook.client(stook.master["other-bucket"]).put_object(Bucket="other-bucket", Key="theirs.txt", Body=b"x")


def keys_of(listing):
    return sorted(o["Key"] for o in listing.get("Contents", []))


def test_read_only_key_lists_and_downloads_but_cannot_upload_or_delete(stook):
    s3 = stook.client(stook.key("read-only"))
    assert {"docs/readme.txt", "photos/a.jpg", "top.txt"} <= set(keys_of(s3.list_objects_v2(Bucket="test-photos")))
    assert s3.get_object(Bucket="test-photos", Key="photos/a.jpg")["Body"].read() == b"photo a"
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket="test-photos", Key="photos/new.jpg", Body=b"new")
    assert error_code(denied) == "AccessDenied"
    assert "s3:PutObject" in error_message(denied)
    with pytest.raises(ClientError) as denied:
        s3.delete_object(Bucket="test-photos", Key="photos/a.jpg")
    assert error_code(denied) == "AccessDenied"
    assert "s3:DeleteObject" in error_message(denied)
    # Nothing changed.
    assert stook.client(stook.master["test-photos"]).get_object(Bucket="test-photos", Key="photos/a.jpg")


def test_read_write_key_limited_to_a_folder(stook):
    s3 = stook.client(stook.key("read-write", path="photos/"))
    s3.put_object(Bucket="test-photos", Key="photos/b.jpg", Body=b"b")
    assert s3.get_object(Bucket="test-photos", Key="photos/b.jpg")["Body"].read() == b"b"
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket="test-photos", Key="docs/b.txt", Body=b"no")
    assert error_code(denied) == "AccessDenied"
    assert "photos/" in error_message(denied)
    with pytest.raises(ClientError):
        s3.get_object(Bucket="test-photos", Key="top.txt")
    assert keys_of(s3.list_objects_v2(Bucket="test-photos", Prefix="photos/")) == ["photos/a.jpg", "photos/b.jpg"]
    for prefix in ["docs/", "photos-old/", "top"]:
        with pytest.raises(ClientError) as denied:
            s3.list_objects_v2(Bucket="test-photos", Prefix=prefix)
        assert error_code(denied) == "AccessDenied"
    # Above the folder only the way down shows (test_folder_browse.py holds the rest).
    assert keys_of(s3.list_objects(Bucket="test-photos")) == ["photos/a.jpg", "photos/b.jpg"]
    # A copy may not read from outside the folder, and a batch delete may not reach outside it.
    with pytest.raises(ClientError) as denied:
        s3.copy_object(Bucket="test-photos", Key="photos/stolen.txt", CopySource="test-photos/docs/readme.txt")
    assert "copy source" in error_message(denied)
    s3.copy_object(Bucket="test-photos", Key="photos/copy.jpg", CopySource="test-photos/photos/a.jpg")
    with pytest.raises(ClientError) as denied:
        s3.delete_objects(
            Bucket="test-photos",
            Delete={"Objects": [{"Key": "photos/copy.jpg"}, {"Key": "docs/readme.txt"}]},
        )
    assert error_code(denied) == "AccessDenied"
    master = stook.client(stook.master["test-photos"])
    assert master.head_object(Bucket="test-photos", Key="docs/readme.txt")
    assert master.head_object(Bucket="test-photos", Key="photos/copy.jpg")
    s3.delete_objects(Bucket="test-photos", Delete={"Objects": [{"Key": "photos/copy.jpg"}, {"Key": "photos/b.jpg"}]})
    assert keys_of(s3.list_objects_v2(Bucket="test-photos", Prefix="photos/")) == ["photos/a.jpg"]


def test_dot_segments_cannot_leave_the_folder_or_the_bucket(stook):
    s3 = stook.client(stook.key("read-write", path="photos/"))
    master = stook.client(stook.master["test-photos"])
    for key in ["photos/../../other-bucket/evil.txt", "photos/../top.txt", "photos/./x.txt", "photos//x.txt"]:
        for client in (s3, master):
            with pytest.raises(ClientError) as refused:
                client.put_object(Bucket="test-photos", Key=key, Body=b"evil")
            assert error_code(refused) == "AccessDenied"
            assert "“..” segment" in error_message(refused)
    other = stook.client(stook.master["other-bucket"])
    assert keys_of(other.list_objects_v2(Bucket="other-bucket")) == ["theirs.txt"]
    assert master.get_object(Bucket="test-photos", Key="top.txt")["Body"].read() == b"top"


def test_a_key_never_reaches_another_bucket(stook):
    s3 = stook.client(stook.key("all"))
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["test-photos"]
    for call in [
        lambda: s3.get_object(Bucket="other-bucket", Key="theirs.txt"),
        lambda: s3.put_object(Bucket="other-bucket", Key="mine.txt", Body=b"x"),
        lambda: s3.list_objects_v2(Bucket="other-bucket"),
    ]:
        with pytest.raises(ClientError) as denied:
            call()
        assert error_code(denied) == "AccessDenied"
        assert "test-photos" in error_message(denied)
    with pytest.raises(ClientError) as missing:
        s3.put_object(Bucket="no-such-bucket-here", Key="x", Body=b"x")
    assert error_code(missing) == "NoSuchBucket"


def test_a_denied_upload_leaves_the_client_working(stook):
    # boto3 sends uploads with `Expect: 100-continue`; a refusal before the body is read
    # must not leave the body on a connection the next request reuses.
    s3 = stook.client(stook.key("read-only"))
    for _ in range(50):
        with pytest.raises(ClientError) as denied:
            s3.put_object(Bucket="test-photos", Key="photos/no.jpg", Body=b"x")
        assert error_code(denied) == "AccessDenied"
        assert "Contents" in s3.list_objects_v2(Bucket="test-photos", Prefix="photos/")


def test_master_key_does_everything_in_its_bucket_and_nothing_elsewhere(stook):
    s3 = stook.client(stook.master["test-photos"])
    s3.put_object(Bucket="test-photos", Key="m/one.txt", Body=b"1", ContentType="text/plain", Metadata={"owner": "ann"})
    head = s3.head_object(Bucket="test-photos", Key="m/one.txt")
    assert head["ContentType"] == "text/plain"
    assert head["Metadata"] == {"owner": "ann"}
    s3.copy_object(Bucket="test-photos", Key="m/two.txt", CopySource="test-photos/m/one.txt")
    assert "m/two.txt" in keys_of(s3.list_objects_v2(Bucket="test-photos", Prefix="m/"))
    s3.delete_objects(Bucket="test-photos", Delete={"Objects": [{"Key": "m/one.txt"}, {"Key": "m/two.txt"}]})
    assert keys_of(s3.list_objects_v2(Bucket="test-photos", Prefix="m/")) == []
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["test-photos"]
    with pytest.raises(ClientError) as denied:
        s3.get_object(Bucket="other-bucket", Key="theirs.txt")
    assert error_code(denied) == "AccessDenied"


def http_status(url):
    try:
        with urllib.request.urlopen(url) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_presigned_get_works_and_expired_or_tampered_ones_are_refused(stook):
    s3 = stook.client(stook.key("read-only"))
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "test-photos", "Key": "photos/a.jpg"}, ExpiresIn=60)
    assert urllib.request.urlopen(url).read() == b"photo a"
    tampered = url_with(url, path="/test-photos/docs/readme.txt")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(tampered)
    assert refused.value.code == 403
    assert b"SignatureDoesNotMatch" in refused.value.read()
    short = s3.generate_presigned_url("get_object", Params={"Bucket": "test-photos", "Key": "photos/a.jpg"}, ExpiresIn=1)
    until(lambda: http_status(short) == 403, seconds=5, what="the presigned URL's expiry")


def post_form(url, fields, content):
    boundary = "stook-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    return urllib.request.urlopen(request)


def test_browser_post_upload_checks_the_key_in_the_form(stook):
    key = stook.key("read-write", path="posted/")
    s3 = stook.client(key)
    allowed = s3.generate_presigned_post("test-photos", "posted/form.txt", ExpiresIn=60)
    assert post_form(allowed["url"], allowed["fields"], b"posted").status in (200, 204)
    assert s3.get_object(Bucket="test-photos", Key="posted/form.txt")["Body"].read() == b"posted"
    outside = s3.generate_presigned_post("test-photos", "docs/posted.txt", ExpiresIn=60)
    with pytest.raises(urllib.error.HTTPError) as refused:
        post_form(outside["url"], outside["fields"], b"nope")
    assert refused.value.code == 403
    assert b"outside" in refused.value.read()


def test_multipart_upload_of_12_mib_round_trips(stook, tmp_path):
    s3 = stook.client(stook.key("read-write", path="big/"))
    data = os.urandom(12 * MiB)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    s3.upload_file(str(source), "test-photos", "big/file.bin", Config=config)
    head = s3.head_object(Bucket="test-photos", Key="big/file.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-3"), "three parts of at most 5 MiB"
    back = tmp_path / "back.bin"
    s3.download_file("test-photos", "big/file.bin", str(back))
    assert hashlib.sha256(back.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    # A range read returns exactly the asked bytes.
    part = s3.get_object(Bucket="test-photos", Key="big/file.bin", Range="bytes=100-199")["Body"].read()
    assert part == data[100:200]


def test_revoked_key_is_refused_within_a_second(stook):
    key = stook.key("read-only")
    s3 = stook.client(key)
    s3.head_object(Bucket="test-photos", Key="photos/a.jpg")
    stook.cli("credential", "revoke", key[0])
    revoked_at = time.monotonic()
    while True:
        try:
            s3.head_object(Bucket="test-photos", Key="photos/a.jpg")
        except ClientError:
            break
        assert time.monotonic() - revoked_at < 1.0, "the revoked key still worked after 1 s"
        time.sleep(0.05)
    with pytest.raises(ClientError) as refused:
        s3.list_objects_v2(Bucket="test-photos")
    assert error_code(refused) == "InvalidAccessKeyId"
    assert "revoked" in error_message(refused)


def test_unknown_keys_wrong_secrets_and_signature_v2_are_refused(stook):
    with pytest.raises(ClientError) as refused:
        stook.client(("AKIAUNKNOWNKEY000000", "x" * 40)).list_objects_v2(Bucket="test-photos")
    assert error_code(refused) == "InvalidAccessKeyId"
    access_key_id, _ = stook.key("read-only")
    with pytest.raises(ClientError) as refused:
        stook.client((access_key_id, "y" * 40)).list_objects_v2(Bucket="test-photos")
    assert error_code(refused) == "SignatureDoesNotMatch"
    v2 = stook.client(stook.key("read-only"), signature_version="s3")
    with pytest.raises(ClientError) as refused:
        v2.list_objects(Bucket="test-photos")
    assert error_code(refused) == "InvalidRequest"
    assert "Signature Version 4" in error_message(refused)
    v2_url = v2.generate_presigned_url("get_object", Params={"Bucket": "test-photos", "Key": "photos/a.jpg"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(v2_url)
    assert refused.value.code == 400
    assert b"Signature Version 4" in refused.value.read()
    with pytest.raises(urllib.error.HTTPError) as unsigned:
        urllib.request.urlopen(f"{stook.endpoint}/test-photos/photos/a.jpg")
    assert unsigned.value.code == 403


def test_listings_behave_as_clients_expect(stook):
    s3 = stook.client(stook.key("read-only"))
    # An empty delimiter means no delimiter.
    flat = s3.list_objects_v2(Bucket="test-photos", Prefix="list/", Delimiter="")
    assert keys_of(flat) == ["list/a.txt", "list/sub/b.txt"]
    assert "CommonPrefixes" not in flat
    grouped = s3.list_objects_v2(Bucket="test-photos", Prefix="list/", Delimiter="/")
    assert keys_of(grouped) == ["list/a.txt"]
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["list/sub/"]
    v1 = s3.list_objects(Bucket="test-photos", Prefix="list/", Delimiter="")
    assert keys_of(v1) == ["list/a.txt", "list/sub/b.txt"]
    etag = s3.head_object(Bucket="test-photos", Key="photos/a.jpg")["ETag"]
    with pytest.raises(ClientError) as unchanged:
        s3.get_object(Bucket="test-photos", Key="photos/a.jpg", IfNoneMatch=etag)
    assert unchanged.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as failed:
        s3.get_object(Bucket="test-photos", Key="photos/a.jpg", IfMatch='"0000"')
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert s3.get_object(Bucket="test-photos", Key="photos/a.jpg", IfMatch=etag)["Body"].read() == b"photo a"


def test_unversioned_buckets_list_null_versions(stook, local_only):
    s3 = stook.client(stook.key("read-only", path="photos/"))
    versions = s3.list_object_versions(Bucket="test-photos", Prefix="photos/")
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in versions["Versions"]] == [("photos/a.jpg", "null", True)]
    with pytest.raises(ClientError) as denied:
        s3.list_object_versions(Bucket="test-photos", Prefix="docs/")
    assert error_code(denied) == "AccessDenied"


def test_last_used_and_denied_requests_reach_the_panel(stook):
    key = stook.key("read-only", path="photos/")
    assert stook.credential(key[0])["last_used_at"] is None
    s3 = stook.client(key)
    s3.get_object(Bucket="test-photos", Key="photos/a.jpg")
    for _ in range(2):
        with pytest.raises(ClientError):
            s3.get_object(Bucket="test-photos", Key="docs/readme.txt")
    deadline = time.monotonic() + 10
    while True:
        row = stook.credential(key[0])
        if row["last_used_at"] is not None and row["denied_requests"] == 2:
            break
        assert time.monotonic() < deadline, f"usage not recorded: {row}"
        time.sleep(0.5)


def test_aws_cli_with_a_scoped_key(stook, tmp_path):
    access_key_id, secret = stook.key("read-write", path="cli/")
    env = dict(os.environ, AWS_ACCESS_KEY_ID=access_key_id, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION="us-east-1")
    aws = [shutil.which("aws") or "aws", "--endpoint-url", stook.endpoint, "s3"]
    source = tmp_path / "note.txt"
    source.write_text("from the aws cli")
    subprocess.run([*aws, "cp", str(source), "s3://test-photos/cli/note.txt"], env=env, check=True, capture_output=True)
    listed = subprocess.run([*aws, "ls", "s3://test-photos/cli/"], env=env, check=True, capture_output=True, text=True)
    assert "note.txt" in listed.stdout
    refused = subprocess.run([*aws, "cp", str(source), "s3://test-photos/elsewhere.txt"], env=env, capture_output=True, text=True)
    assert refused.returncode != 0
    assert "AccessDenied" in refused.stderr


def rclone(stook, key, *args):
    access_key_id, secret = key
    config = [
        "--s3-provider", "Other", "--s3-endpoint", stook.endpoint, "--s3-access-key-id", access_key_id,
        "--s3-secret-access-key", secret, "--s3-region", "us-east-1", "--s3-no-check-bucket",
        "--s3-force-path-style", "--retries", "1", "--low-level-retries", "1",
    ]
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    return subprocess.run(["rclone", *config, *args], env=env, capture_output=True, text=True)


def test_rclone_with_a_scoped_key(stook, tmp_path):
    key = stook.key("read-write", path="rclone/")
    source = tmp_path / "up"
    source.mkdir()
    (source / "one.txt").write_text("one")
    (source / "two.txt").write_text("two")
    copied = rclone(stook, key, "copy", str(source), ":s3:test-photos/rclone/")
    assert copied.returncode == 0, copied.stderr
    listed = rclone(stook, key, "lsf", ":s3:test-photos/rclone/")
    assert listed.returncode == 0, listed.stderr
    assert sorted(listed.stdout.split()) == ["one.txt", "two.txt"]
    back = tmp_path / "down"
    fetched = rclone(stook, key, "copy", ":s3:test-photos/rclone/", str(back))
    assert fetched.returncode == 0, fetched.stderr
    assert (back / "two.txt").read_text() == "two"
    outside = rclone(stook, key, "copy", str(source), ":s3:test-photos/elsewhere/")
    assert outside.returncode != 0


def test_generated_setups_work_as_they_are(stook, tmp_path):
    """The set-ups the drawer (and `stook credential setup`) hands out, used unchanged: the
    operations the key allows work, one it does not is refused."""
    access_key_id, _ = stook.key("read-write", path="setup/")
    name = stook.credential(access_key_id)["name"]
    profile = f"stook-{name}"
    setup = lambda client: stook.cli("credential", "setup", access_key_id, "--client", client)["text"]
    source = tmp_path / "note.txt"
    source.write_text("set up")
    # The Cyberduck bookmark names the key but never holds the secret.
    bookmark = setup("cyberduck")
    assert f"<string>{access_key_id}</string>" in bookmark
    assert not any(secret in bookmark for secret in stook.secrets)

    # AWS CLI: the config and credentials files as given.
    config, credentials = setup("aws").split("# ~/.aws/credentials\n")
    (tmp_path / "aws-config").write_text(config)
    (tmp_path / "aws-credentials").write_text(credentials)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") or k == "AWS_CA_BUNDLE"}
    env.update(AWS_CONFIG_FILE=str(tmp_path / "aws-config"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-credentials"))
    aws = [shutil.which("aws") or "aws", "--profile", profile, "s3"]
    done = subprocess.run([*aws, "cp", str(source), "s3://test-photos/setup/aws.txt"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    listed = subprocess.run([*aws, "ls", "s3://test-photos/setup/"], env=env, capture_output=True, text=True)
    assert "aws.txt" in listed.stdout, listed.stderr
    refused = subprocess.run([*aws, "cp", str(source), "s3://test-photos/elsewhere.txt"], env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr

    # rclone: the remote and its alias rooted at the key's folder.
    (tmp_path / "rclone.conf").write_text(setup("rclone"))
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    rclone = ["rclone", "--config", str(tmp_path / "rclone.conf"), "--retries", "1", "--low-level-retries", "1"]
    done = subprocess.run([*rclone, "copyto", str(source), f"{profile}-root:rclone.txt"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    listed = subprocess.run([*rclone, "lsf", f"{profile}-root:"], env=env, capture_output=True, text=True)
    assert sorted(listed.stdout.split()) == ["aws.txt", "rclone.txt"], listed.stderr
    refused = subprocess.run([*rclone, "copyto", str(source), f"{profile}:test-photos/elsewhere.txt"], env=env, capture_output=True, text=True)
    assert refused.returncode != 0

    # s3cmd: the .s3cfg as given.
    (tmp_path / "s3cfg").write_text(setup("s3cmd"))
    s3cmd = [shutil.which("s3cmd") or "s3cmd", "-c", str(tmp_path / "s3cfg")]
    done = subprocess.run([*s3cmd, "put", str(source), "s3://test-photos/setup/s3cmd.txt"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    listed = subprocess.run([*s3cmd, "ls", "s3://test-photos/setup/"], capture_output=True, text=True)
    assert "s3cmd.txt" in listed.stdout, listed.stderr
    refused = subprocess.run([*s3cmd, "put", str(source), "s3://test-photos/elsewhere.txt"], capture_output=True, text=True)
    assert refused.returncode != 0 and "AccessDenied" in (refused.stderr + refused.stdout)


def signed_streaming_put(stook, key, bucket, object_key, data, chunk_size=64 * 1024):
    """A STREAMING-AWS4-HMAC-SHA256-PAYLOAD (aws-chunked) upload, signed chunk by chunk.
    boto3 and the AWS CLI only stream over HTTPS, so the protocol is spelled out here."""
    access_key_id, secret = key
    now = time.gmtime()
    amz_date, day = time.strftime("%Y%m%dT%H%M%SZ", now), time.strftime("%Y%m%d", now)
    scope = f"{day}/us-east-1/s3/aws4_request"
    sha = lambda b: hashlib.sha256(b).hexdigest()
    mac = lambda k, m: hmac.new(k, m.encode(), hashlib.sha256).digest()
    signing_key = mac(mac(mac(mac(("AWS4" + secret).encode(), day), "us-east-1"), "s3"), "aws4_request")
    chunks = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    sizes = sum(len(f"{len(c):x};chunk-signature=") + 64 + 2 + len(c) + 2 for c in chunks)
    host = stook.endpoint.removeprefix("http://")
    path = f"/{bucket}/{object_key}"
    headers = {
        "content-encoding": "aws-chunked",
        "content-length": str(sizes),
        "host": host,
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "x-amz-date": amz_date,
        "x-amz-decoded-content-length": str(len(data)),
    }
    names = ";".join(sorted(headers))
    canonical = "\n".join(["PUT", path, "", *(f"{k}:{headers[k]}" for k in sorted(headers)), "", names,
                           "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, sha(canonical.encode())])
    signature = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key_id}/{scope}, "
                                f"SignedHeaders={names}, Signature={signature}")
    body = b""
    for chunk in chunks:
        chunk_to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, signature, sha(b""), sha(chunk)])
        signature = hmac.new(signing_key, chunk_to_sign.encode(), hashlib.sha256).hexdigest()
        body += f"{len(chunk):x};chunk-signature={signature}\r\n".encode() + chunk + b"\r\n"
    assert len(body) == sizes
    request = urllib.request.Request(f"{stook.endpoint}{path}", data=body, method="PUT")
    for name, value in headers.items():
        request.add_header(name, value)
    return urllib.request.urlopen(request)


def test_streaming_aws_chunked_upload(stook):
    key = stook.key("read-write", path="stream/")
    data = os.urandom(200 * 1024 + 17)
    assert signed_streaming_put(stook, key, "test-photos", "stream/file.bin", data).status == 200
    assert stook.client(key).get_object(Bucket="test-photos", Key="stream/file.bin")["Body"].read() == data
    with pytest.raises(urllib.error.HTTPError) as refused:
        signed_streaming_put(stook, key, "test-photos", "elsewhere/file.bin", data)
    assert refused.value.code == 403


def test_virtual_hosted_style_addressing():
    from conftest import Stook
    import boto3

    server = Stook("sqlite", s3_domain="s3.stook.test")
    try:
        access_key_id, secret = server.master["test-photos"]
        s3 = boto3.client(
            "s3", endpoint_url=f"http://s3.stook.test:{server.s3_port}", aws_access_key_id=access_key_id,
            aws_secret_access_key=secret, region_name="us-east-1",
            config=Config(s3={"addressing_style": "virtual"}, signature_version="s3v4", retries={"max_attempts": 1}),
        )
        sent_to = []

        def to_loopback(request, **_):
            # No DNS for the test domain: keep the signed Host header, connect to loopback.
            netloc = urllib.parse.urlsplit(request.url).netloc
            sent_to.append(netloc)
            request.headers["Host"] = netloc
            request.url = url_with(request.url, netloc=f"127.0.0.1:{server.s3_port}")

        s3.meta.events.register("before-send.s3", to_loopback)
        s3.put_object(Bucket="test-photos", Key="vhost.txt", Body=b"virtual")
        assert s3.get_object(Bucket="test-photos", Key="vhost.txt")["Body"].read() == b"virtual"
        assert sent_to[0] == f"test-photos.s3.stook.test:{server.s3_port}"
        # Path style keeps working on the same server.
        assert server.client(server.master["test-photos"]).get_object(Bucket="test-photos", Key="vhost.txt")
    finally:
        server.stop()


def test_usage_is_written_when_the_server_stops():
    from conftest import Stook

    server = Stook("sqlite")
    try:
        key = server.key("read-only")
        server.client(key).list_objects_v2(Bucket="test-photos")
        # SIGTERM at once, well before the periodic flush: the shutdown writes it.
        server.process.terminate()
        assert server.process.wait(10) == 0
        assert server.credential(key[0])["last_used_at"] is not None
    finally:
        server.stop()


def test_a_stalled_upload_does_not_hold_up_the_stop():
    from conftest import Stook
    import socket

    server = Stook("sqlite", serve_env={"STOOK_SHUTDOWN_GRACE_SECS": "2"})
    try:
        key = server.key("read-write")
        s3 = server.client(key)
        s3.list_objects_v2(Bucket="test-photos")
        url = urllib.parse.urlsplit(s3.generate_presigned_url(
            "put_object", Params={"Bucket": "test-photos", "Key": "stalled.bin"}, ExpiresIn=60))
        stalled = socket.create_connection(("127.0.0.1", server.s3_port))
        stalled.sendall(f"PUT {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                        f"Content-Length: 1000\r\nExpect: 100-continue\r\n\r\n".encode() + b"x" * 10)
        # The server asks for the body once the upload is under way.
        stalled.settimeout(10)
        assert stalled.recv(64).startswith(b"HTTP/1.1 100 Continue"), "the upload did not start"
        # The client sends nothing more and keeps the connection: SIGTERM still stops the
        # server after the grace period, and the last usage is written on the way out.
        stopping = time.monotonic()
        server.process.terminate()
        assert server.process.wait(10) == 0
        assert time.monotonic() - stopping < 8
        assert server.credential(key[0])["last_used_at"] is not None
        stalled.close()
    finally:
        server.stop()


def works(s3, key="photos/a.jpg"):
    try:
        s3.head_object(Bucket="test-photos", Key=key)
        return True
    except ClientError:
        return False


def refusal(s3, key="photos/a.jpg"):
    """The error code and message a GetObject gets (it must be refused)."""
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket="test-photos", Key=key)
    return error_code(refused), error_message(refused)


def test_a_paused_key_is_inactive_until_resumed(stook):
    key = stook.key("read-only")
    s3 = stook.client(key)
    assert works(s3)
    stook.cli("credential", "pause", key[0])
    until(lambda: not works(s3), what="the pause")
    code, message = refusal(s3)
    assert code == "InvalidAccessKeyId" and "inactive" in message
    stook.cli("credential", "resume", key[0])
    until(lambda: works(s3), what="the resume")


def test_an_expired_key_is_refused_saying_so(stook):
    key = stook.key("read-only")
    s3 = stook.client(key)
    assert works(s3)
    stook.sql(f"UPDATE credentials SET expires_at = 1 WHERE access_key_id = '{key[0]}'")
    until(lambda: not works(s3), what="the expiry")
    code, message = refusal(s3)
    assert code == "InvalidAccessKeyId" and "expired" in message


def test_a_key_limited_to_networks_says_which_address_it_refused(stook):
    key = stook.key("read-only", networks="10.0.0.0/8, 2001:db8::/32")
    s3 = stook.client(key)
    code, message = refusal(s3)
    assert code == "AccessDenied"
    assert "127.0.0.1" in message and "10.0.0.0/8" in message
    stook.cli("credential", "update", key[0], "--networks", "127.0.0.0/8")
    until(lambda: works(s3), what="the new network list")


def test_an_edit_reaches_the_endpoint_within_a_second(stook):
    key = stook.key("read-write", path="edit-a/")
    s3 = stook.client(key)
    s3.put_object(Bucket="test-photos", Key="edit-a/x.txt", Body=b"x")
    preview = stook.cli("credential", "update", key[0], "--path", "edit-b/", "--dry-run")
    assert [c["field"] for c in preview["changes"]] == ["Path"]
    assert works(s3, "edit-a/x.txt"), "a dry run changes nothing"
    stook.cli("credential", "update", key[0], "--path", "edit-b/")
    until(lambda: not works(s3, "edit-a/x.txt"), what="the new path")
    s3.put_object(Bucket="test-photos", Key="edit-b/y.txt", Body=b"y")
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket="test-photos", Key="edit-a/z.txt", Body=b"z")
    assert error_code(refused) == "AccessDenied"
    stook.cli("credential", "update", key[0], "--actions", "read-only")
    until(lambda: not _put(s3, "edit-b/w.txt"), what="losing PutObject")
    assert works(s3, "edit-b/y.txt"), "reading stays"


def _put(s3, key):
    try:
        s3.put_object(Bucket="test-photos", Key=key, Body=b"w")
        return True
    except ClientError:
        return False


def test_rotation_keeps_the_old_pair_for_its_grace_period_then_retires_it(stook):
    old = stook.key("read-only")
    old_s3 = stook.client(old)
    rotated = stook.cli("credential", "rotate", old[0], "--grace", "3s")
    new = (rotated["credential"]["access_key_id"], rotated["secret_key"])
    stook.secrets.append(new[1])
    assert rotated["credential"]["replaces"] == old[0]
    new_s3 = stook.client(new)
    assert works(new_s3), "the new pair works at once"
    assert works(old_s3), "the old pair works during the grace period"
    until(lambda: not works(old_s3), seconds=6, what="the end of the grace period")
    # No request succeeds after the grace period, cached or not.
    code, message = refusal(old_s3)
    assert code == "InvalidAccessKeyId" and "rotation" in message
    assert works(new_s3)


def test_two_instances_on_one_database_agree_within_a_second(stook):
    if not stook.postgres:
        pytest.skip("two instances share a PostgreSQL database")
    other = stook.another_instance()
    if stook.backend == "local":
        # One process owns a store: the other instance has objects of its own, the same names.
        master_there = stook.client(stook.master["test-photos"], endpoint=other)
        for name in ("photos/a.jpg", "docs/readme.txt"):
            master_there.put_object(Bucket="test-photos", Key=name, Body=b"the same name")
    key = stook.key("read-only", path="photos/")
    here, there = stook.client(key), stook.client(key, endpoint=other)
    assert works(here) and works(there)
    stook.cli("credential", "update", key[0], "--path", "docs/")
    until(lambda: not works(here) and not works(there), what="the edit on both instances")
    assert works(there, "docs/readme.txt")
    stook.cli("credential", "pause", key[0])
    until(lambda: not works(here, "docs/readme.txt") and not works(there, "docs/readme.txt"), what="the pause")
    stook.cli("credential", "resume", key[0])
    until(lambda: works(here, "docs/readme.txt") and works(there, "docs/readme.txt"), what="the resume")
    stook.cli("credential", "revoke", key[0])
    until(lambda: not works(here, "docs/readme.txt") and not works(there, "docs/readme.txt"), what="the revocation")
