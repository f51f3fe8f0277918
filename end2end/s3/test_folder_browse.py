"""A key limited to a folder opens its bucket at the root with real clients (the AWS CLI,
rclone, s3cmd, boto3), on the local and the proxy backend: above its folder it sees only
the way down, inside it everything, and beside it nothing, ever (issue 18, item 6)."""

import os
import shutil
import subprocess

import pytest
from botocore.exceptions import ClientError

from conftest import error_code

FOLDER = "browse/2025/"
INSIDE = ["browse/2025/a.jpg", "browse/2025/sub/b.jpg", "browse/2025/x y+z%41.jpg"]
# Put with the master key: beside the folder, above it, and names that start like it.
OUTSIDE = ["browse/2024/old.jpg", "browse/cover.jpg", "browse/2025x/leak.txt", "browse/2025 copy/c.txt",
           "browse-other/c.txt", "secret-top.txt"]
# rclone -R shows the folders on the way as entries of their own.
WALKED = ["browse/", "browse/2025/", "browse/2025/a.jpg", "browse/2025/sub/", "browse/2025/sub/b.jpg",
          "browse/2025/x y+z%41.jpg"]


@pytest.fixture(scope="module")
def folder_key(stook, master):
    for key in INSIDE + OUTSIDE:
        master.put_object(Bucket="test-photos", Key=key, Body=b"x")
    return stook.key("read-only", path=FOLDER)


def run(args, **kwargs):
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{args[0]} failed: {done.stderr}"
    return done.stdout


def aws(stook, key, *args):
    access_key_id, secret = key
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") or k == "AWS_CA_BUNDLE"}
    env.update(AWS_ACCESS_KEY_ID=access_key_id, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return run([shutil.which("aws") or "aws", "--endpoint-url", stook.endpoint, "s3", *args], env=env)


def aws_names(listing):
    """`aws s3 ls` lines: `PRE name/`, or date, time, size and key (which may hold spaces)."""
    names = []
    for line in listing.splitlines():
        parts = line.split(None, 3)
        names.append(parts[1] if parts[0] == "PRE" else parts[3])
    return names


def rclone(stook, key, *args):
    access_key_id, secret = key
    config = [
        "--s3-provider", "Other", "--s3-endpoint", stook.endpoint, "--s3-access-key-id", access_key_id,
        "--s3-secret-access-key", secret, "--s3-region", "us-east-1", "--s3-force-path-style",
        "--retries", "1", "--low-level-retries", "1",
    ]
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    return run(["rclone", *config, *args], env=env)


def s3cmd(stook, key, tmp_path, *args):
    access_key_id, secret = key
    host = stook.endpoint.removeprefix("http://")
    config = tmp_path / "s3cfg"
    config.write_text(
        f"[default]\naccess_key = {access_key_id}\nsecret_key = {secret}\nhost_base = {host}\n"
        f"host_bucket = {host}\nuse_https = False\nbucket_location = us-east-1\nsignature_v2 = False\n"
    )
    return run([shutil.which("s3cmd") or "s3cmd", "-c", str(config), *args])


def test_aws_cli_lists_a_folder_key_from_the_bucket_root(stook, folder_key):
    assert aws_names(aws(stook, folder_key, "ls", "s3://test-photos/")) == ["browse/"]
    assert aws_names(aws(stook, folder_key, "ls", "s3://test-photos/browse/")) == ["2025/"]
    assert aws_names(aws(stook, folder_key, "ls", "s3://test-photos/browse/20")) == ["2025/"]
    assert sorted(aws_names(aws(stook, folder_key, "ls", "s3://test-photos/browse/2025/"))) == [
        "a.jpg", "sub/", "x y+z%41.jpg"]
    # Recursive from the root (no delimiter): the objects under the folder, decoded.
    assert sorted(aws_names(aws(stook, folder_key, "ls", "--recursive", "s3://test-photos/"))) == INSIDE
    # The master key sees the rest: it is there, just not for this key.
    master_listing = aws_names(aws(stook, stook.master["test-photos"], "ls", "--recursive", "s3://test-photos/"))
    assert set(INSIDE + OUTSIDE) <= set(master_listing)


def test_rclone_walks_a_folder_key_from_the_bucket_root(stook, folder_key):
    assert rclone(stook, folder_key, "lsf", ":s3:test-photos/").split("\n")[:-1] == ["browse/"]
    walked = rclone(stook, folder_key, "lsf", "-R", ":s3:test-photos/").split("\n")[:-1]
    assert sorted(walked) == WALKED
    # With --fast-list rclone lists the bucket in one go, without a delimiter.
    fast = rclone(stook, folder_key, "lsf", "-R", "--fast-list", ":s3:test-photos/").split("\n")[:-1]
    assert sorted(fast) == WALKED


def test_s3cmd_lists_a_folder_key_from_the_bucket_root(stook, folder_key, tmp_path):
    listing = s3cmd(stook, folder_key, tmp_path, "ls", "s3://test-photos/")
    assert listing.split() == ["DIR", "s3://test-photos/browse/"]
    listing = s3cmd(stook, folder_key, tmp_path, "ls", "s3://test-photos/browse/")
    assert listing.split() == ["DIR", "s3://test-photos/browse/2025/"]
    recursive = s3cmd(stook, folder_key, tmp_path, "ls", "--recursive", "s3://test-photos/")
    listed = sorted(line.split(None, 3)[3].removeprefix("s3://test-photos/") for line in recursive.splitlines())
    assert listed == INSIDE


def test_boto3_sees_the_bucket_and_nothing_beside_the_folder(stook, folder_key):
    s3 = stook.client(folder_key)
    s3.head_bucket(Bucket="test-photos")
    assert "LocationConstraint" in s3.get_bucket_location(Bucket="test-photos")
    # Markers, start-after and page sizes from the root never bring out another name.
    paged, token = [], None
    while True:
        page = s3.list_objects_v2(Bucket="test-photos", MaxKeys=1, StartAfter="browse/2024/zzz",
                                  **({"ContinuationToken": token} if token else {}))
        assert page["KeyCount"] == len(page.get("Contents", []))
        paged += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert paged == INSIDE
    v1 = s3.list_objects(Bucket="test-photos", Delimiter="/", Marker="a")
    assert [p["Prefix"] for p in v1.get("CommonPrefixes", [])] == ["browse/"]
    assert "Contents" not in v1
    past = s3.list_objects_v2(Bucket="test-photos", Delimiter="/", StartAfter="browse/")
    assert past["KeyCount"] == 0 and "CommonPrefixes" not in past
    # URL-encoded as asked (boto3 leaves names it did not ask to encode as they come).
    encoded = s3.list_objects_v2(Bucket="test-photos", Prefix="browse/", EncodingType="url")
    assert [o["Key"] for o in encoded["Contents"]] == [
        "browse/2025/a.jpg", "browse/2025/sub/b.jpg", "browse/2025/x%20y%2Bz%2541.jpg"]
    # Beside the folder is refused.
    for prefix in ["browse/2024/", "browse/2025x", "secret"]:
        with pytest.raises(ClientError) as denied:
            s3.list_objects_v2(Bucket="test-photos", Prefix=prefix)
        assert error_code(denied) == "AccessDenied"
