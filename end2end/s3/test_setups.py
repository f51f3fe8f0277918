"""The client set-ups of `stook credential setup` (the drawer's, with the secret filled in)
written out and run as their users would, for keys whose names and folders were chosen to
break out of every language the set-ups are written in (issue 17, item 5: a folder in
the boto3 set-up ran code). Each hostile value carries `touch pwned`: the file must never
appear in the directory the client runs in, and each client must read back the very
bucket, folder and key it was given, working inside the folder and nowhere else."""

import os
import plistlib
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

VENV_BIN = str(Path(sys.executable).parent)

# What someone may type as a key's name and folder (the panel and `stook credential
# create/update` accept all of it) and what Python, a shell, an INI reader, a URL or XML
# would read as code, a quote, a comment, a variable or a section.
HOSTILE = {
    "python": '"+__import__("os").system("touch pwned")+"',
    "quotes": "'; touch pwned; echo '",
    "subshells": "$(touch pwned) `touch pwned` ${IFS}",
    "variables": "a;touch pwned #b %(secret_access_key)s %HOME% $HOME",
    "sections": "] [evil] [ \\back\\slash\\ \"\"\"x",
    "unicode": "ünï 写真 😀 <string>&amp;</string> 50%",
}


@pytest.fixture(scope="module")
def hostile_keys(stook):
    """A read-write key per hostile value, named and limited to a folder by it, each folder
    holding one object put there with the bucket's master key."""
    if stook.backend != "local":
        pytest.skip("the set-ups are the same whatever stores the objects")
    master = stook.client(stook.master["test-photos"])
    keys = {}
    for which, value in HOSTILE.items():
        # Names are unique per customer and at most 64 characters.
        name = f"{value[:55]} {uuid.uuid4().hex[:8]}"
        made = stook.cli("credential", "create", "--bucket", "test-photos", "--name", name,
                         "--path", value, "--actions", "read-write")
        stook.secrets.append(made["secret_key"])
        path = made["credential"]["path"]
        assert path == value.strip() + "/", "the folder is stored as typed"
        master.put_object(Bucket="test-photos", Key=f"{path}hello.txt", Body=b"hello")
        keys[which] = {"id": made["credential"]["access_key_id"], "name": name, "path": path}
    return keys


def setup(stook, key, client):
    return stook.cli("credential", "setup", key["id"], "--client", client)["text"]


def client_env(home, keep_ca_bundle=True):
    """The environment of someone whose home is `home`: no AWS_* variables of ours."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "RCLONE_", "RESTIC_")) or (keep_ca_bundle and k == "AWS_CA_BUNDLE")}
    env.update(HOME=str(home), PATH=f"{VENV_BIN}:{os.environ['PATH']}")
    return env


def run(args, home, **kw):
    try:
        return subprocess.run(args, cwd=home, capture_output=True, text=True, **kw)
    finally:
        assert not (home / "pwned").exists(), f"{args} ran a command hidden in a name or folder"


def objects(stook, prefix):
    """The keys under `prefix`, as boto3 reads a listing."""
    listing = stook.client(stook.master["test-photos"]).list_objects_v2(Bucket="test-photos", Prefix=prefix)
    return sorted(o["Key"] for o in listing.get("Contents", []))


def stored(stook, key):
    """Whether an object has exactly this key (asked by name, so no listing's encoding
    stands between)."""
    try:
        stook.client(stook.master["test-photos"]).head_object(Bucket="test-photos", Key=key)
        return True
    except ClientError:
        return False


def home_for(tmp_path):
    """A home directory of its own for one run of a client: its config files go there."""
    home = tmp_path / uuid.uuid4().hex[:8]
    home.mkdir()
    return home


@pytest.mark.parametrize("which", HOSTILE)
def test_boto3_setup_runs_no_code_and_lists_the_folder(stook, hostile_keys, which, tmp_path):
    key = hostile_keys[which]
    home = home_for(tmp_path)
    (home / "list.py").write_text(setup(stook, key, "boto3"))
    done = run([sys.executable, "list.py"], home, env=client_env(home))
    assert done.returncode == 0, done.stderr
    # The set-up asked for the folder as stored: it lists what the master key lists
    # there (compared as boto3 reads both, see test_listed_keys_come_back_as_stored).
    listed = done.stdout.splitlines()
    assert listed == objects(stook, key["path"]), (key, done.stdout, done.stderr)
    assert len(listed) >= 1 and listed[0].endswith("/hello.txt"), listed


@pytest.mark.parametrize("which", HOSTILE)
def test_aws_cli_setup_works_in_the_folder(stook, hostile_keys, which, tmp_path):
    key = hostile_keys[which]
    home = home_for(tmp_path)
    config, credentials = setup(stook, key, "aws").split("# ~/.aws/credentials\n")
    (home / ".aws").mkdir()
    (home / ".aws" / "config").write_text(config)
    (home / ".aws" / "credentials").write_text(credentials)
    profile = re.search(r"^\[profile (stook[-a-z0-9]*)\]$", config, re.M).group(1)
    aws = [shutil.which("aws", path=VENV_BIN) or "aws", "--profile", profile, "s3"]
    env = client_env(home)
    listed = run([*aws, "ls", f"s3://test-photos/{key['path']}"], home, env=env)
    assert listed.returncode == 0, listed.stderr
    assert any(line.endswith(" hello.txt") for line in listed.stdout.splitlines()), listed.stdout
    (home / "up.txt").write_text("aws")
    done = run([*aws, "cp", "up.txt", f"s3://test-photos/{key['path']}aws.txt"], home, env=env)
    assert done.returncode == 0, done.stderr
    refused = run([*aws, "cp", "up.txt", "s3://test-photos/elsewhere.txt"], home, env=env)
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr
    assert stored(stook, f"{key['path']}aws.txt")


@pytest.mark.parametrize("which", HOSTILE)
def test_rclone_setup_roots_at_the_folder_or_says_why_not(stook, hostile_keys, which, tmp_path):
    key = hostile_keys[which]
    home = home_for(tmp_path)
    text = setup(stook, key, "rclone")
    (home / ".config" / "rclone").mkdir(parents=True)
    (home / ".config" / "rclone" / "rclone.conf").write_text(text)
    remote = re.match(r"\[(stook[-a-z0-9]*)\]\n", text).group(1)
    has_root = f"[{remote}-root]" in text
    folder = f"{remote}-root:" if has_root else f"{remote}:test-photos/{key['path']}"
    rclone = ["rclone", "--retries", "1", "--low-level-retries", "1"]
    env = client_env(home, keep_ca_bundle=False)
    listed = run([*rclone, "lsf", folder], home, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "hello.txt" in listed.stdout.splitlines(), listed.stdout
    (home / "up.txt").write_text("rclone")
    done = run([*rclone, "copyto", "up.txt", f"{folder}rclone.txt"], home, env=env)
    assert done.returncode == 0, done.stderr
    refused = run([*rclone, "copyto", "up.txt", f"{remote}:test-photos/elsewhere.txt"], home, env=env)
    assert refused.returncode != 0
    assert stored(stook, f"{key['path']}rclone.txt")
    # rclone reads `%(name)s` in its config as another key's value: such a folder gets
    # no alias remote and is named on the command line instead.
    assert has_root == ("%(" not in key["path"]), text


@pytest.mark.parametrize("which", HOSTILE)
def test_s3cmd_setup_works_in_the_folder(stook, hostile_keys, which, tmp_path):
    key = hostile_keys[which]
    home = home_for(tmp_path)
    (home / ".s3cfg").write_text(setup(stook, key, "s3cmd"))
    s3cmd = [shutil.which("s3cmd", path=VENV_BIN) or "s3cmd"]
    env = client_env(home)
    listed = run([*s3cmd, "ls", f"s3://test-photos/{key['path']}"], home, env=env)
    assert listed.returncode == 0, listed.stderr
    uri = f"s3://test-photos/{key['path']}hello.txt"
    assert any(line.endswith(f" {uri}") for line in listed.stdout.splitlines()), listed.stdout
    (home / "up.txt").write_text("s3cmd")
    done = run([*s3cmd, "put", "up.txt", f"s3://test-photos/{key['path']}s3cmd.txt"], home, env=env)
    assert done.returncode == 0, done.stderr
    assert stored(stook, f"{key['path']}s3cmd.txt")


@pytest.mark.parametrize("which", HOSTILE)
def test_restic_setup_keeps_its_repository_in_the_folder(stook, hostile_keys, which, tmp_path):
    if not shutil.which("restic"):
        pytest.fail("restic is not installed: scripts/tools.sh installs it (Debian's restic)")
    key = hostile_keys[which]
    home = home_for(tmp_path)
    (home / "data.txt").write_text("backed up")
    # The exports as pasted into a shell, then restic as its users run it.
    script = setup(stook, key, "restic") + "restic init && restic backup data.txt\n"
    env = client_env(home, keep_ca_bundle=False)
    env["RESTIC_PASSWORD"] = "setup-tests"
    # restic retries a failing request for minutes; a few seconds are plenty here.
    done = run(["bash", "-c", script], home, env=env, timeout=25)
    assert done.returncode == 0, (script, done.stderr)
    # The repository sits in the folder, as restic's own URL syntax was given it.
    assert stored(stook, f"{key['path']}restic/config")


def test_cyberduck_bookmark_names_the_folder_and_key(stook, hostile_keys):
    for key in hostile_keys.values():
        bookmark = plistlib.loads(setup(stook, key, "cyberduck").encode())
        assert bookmark["Path"] == f"/test-photos/{key['path']}"
        assert bookmark["Nickname"] == f"{key['name']} (Stook)"
        assert bookmark["Username"] == key["id"]


def test_listed_keys_come_back_as_stored(stook, hostile_keys):
    """boto3 and the AWS CLI decode listed keys (`+` as a space): a folder with a `+`
    comes back as another."""
    for key in hostile_keys.values():
        assert f"{key['path']}hello.txt" in objects(stook, key["path"])
