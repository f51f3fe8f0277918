//! The set-ups run as their users would run them, with hostile names and folders: no
//! command hidden in a value runs, and each client reads back exactly the values meant.
//! The clients themselves are stood in for (a `boto3` module and `aws`, `s3cmd`,
//! `rclone` commands that print what they were given); end2end/s3/test_setups.py runs the
//! real ones against a running Stook. The quoting functions also meet random text
//! here, read back by Python's parser, sh and bash.

use super::*;
use crate::domain::{normalize_credential_name, normalize_path};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// What a person (or an admin, on a customer's key) may type as a name or folder and
/// what each language here gives a meaning to. `pwned` is the file an injection would
/// make in the working directory.
const HOSTILE: &[&str] = &[
    "\"+__import__(\"os\").system(\"touch pwned\")+\"",
    "'+__import__('os').system('touch pwned')+'",
    "\"\"\"+__import__(\"os\").system(\"touch pwned\")+\"\"\"",
    "x\\\"+__import__(\"os\").system(\"touch pwned\")#",
    "'; touch pwned; echo '",
    "$(touch pwned)",
    "`touch pwned`",
    "${IFS}touch${IFS}pwned",
    "a;touch pwned;b",
    "# not a comment ; nor this",
    "%(secret_access_key)s %(type)s %HOME% $HOME",
    "$HOME",
    "] [evil] [",
    "`backticks`",
    "ünï 写真 😀",
    "__STOOK_SECRET_KEY__",
    "<string>&amp;</string>]]>",
    "back\\slash\\",
    "*?[a-z]!{a,b}~",
];

const SECRET: &str = "sEcReT_kEy-40charactersXXXXXXXXXXXXXXXXX";

/// A fresh empty directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Scratch {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "stook-setups-{}-{label}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let file = self.0.join(name);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, text).unwrap();
        file
    }

    fn pwned(&self) -> bool {
        self.0.join("pwned").exists()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(mut command: Command, cwd: &Path) -> Output {
    command
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("the program runs")
}

/// Every hostile value as a key's folder and as its name, as the panel stores them.
fn hostile_keys() -> Vec<KeyAccess> {
    let mut keys = Vec::new();
    for raw in HOSTILE {
        let path = normalize_path(raw).unwrap_or_else(|e| panic!("{raw:?}: {e}"));
        let name = normalize_credential_name(raw).unwrap_or_else(|e| panic!("{raw:?}: {e}"));
        keys.push(KeyAccess {
            endpoint_url: "http://127.0.0.1:9000".into(),
            region: "eu-west-1".into(),
            bucket: "media".into(),
            path,
            name: Some(name),
            access_key_id: "AKIAEXAMPLE000000001".into(),
        });
    }
    keys
}

/// The values `print_args` printed, one per NUL.
fn printed(output: &Output) -> Vec<String> {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    text.split_terminator('\0').map(str::to_string).collect()
}

/// Stand-ins for the clients' commands: each prints its arguments, one per NUL.
fn stand_ins(scratch: &Scratch) -> String {
    for client in ["aws", "s3cmd", "rclone", "restic"] {
        let file = scratch.write(&format!("bin/{client}"), "#!/bin/sh\nprintf '%s\\0' \"$@\"\n");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    format!(
        "{}:{}",
        scratch.0.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn the_boto3_setup_runs_no_code_from_the_folder_and_lists_it() {
    let scratch = Scratch::new("boto3");
    // A `boto3` that prints what the set-up asked for instead of calling the endpoint.
    scratch.write(
        "stub/boto3/__init__.py",
        "import json\n\nclass _Client:\n    def __init__(self, kw):\n        self.kw = kw\n\n    def list_objects_v2(self, **kw):\n        print(json.dumps({'client': self.kw, 'list': kw}))\n        return {}\n\ndef client(service, **kw):\n    kw.pop('config')\n    kw['service'] = service\n    return _Client(kw)\n",
    );
    scratch.write("stub/botocore/__init__.py", "");
    scratch.write(
        "stub/botocore/config.py",
        "class Config:\n    def __init__(self, **kw):\n        pass\n",
    );
    for key in hostile_keys() {
        let setup = boto3(&key, SECRET);
        let file = scratch.write("list.py", &setup.text);
        let mut python = Command::new("python3");
        python.arg(&file).env("PYTHONPATH", scratch.0.join("stub"));
        let output = run(python, &scratch.0);
        assert!(!scratch.pwned(), "{:?} ran a command:\n{}", key.path, setup.text);
        assert!(
            output.status.success(),
            "{:?}:\n{}\n{}",
            key.path,
            setup.text,
            String::from_utf8_lossy(&output.stderr)
        );
        let asked: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(
            asked,
            serde_json::json!({
                "client": {
                    "service": "s3",
                    "endpoint_url": "http://127.0.0.1:9000",
                    "region_name": "eu-west-1",
                    "aws_access_key_id": "AKIAEXAMPLE000000001",
                    "aws_secret_access_key": SECRET,
                },
                "list": { "Bucket": "media", "Prefix": key.path.as_deref().unwrap() },
            }),
            "{}",
            setup.text
        );
    }
}

#[test]
fn the_restic_exports_and_try_it_commands_run_nothing_and_say_what_they_mean() {
    let scratch = Scratch::new("shell");
    let path_env = stand_ins(&scratch);
    for shell in ["sh", "bash"] {
        for key in hostile_keys() {
            let folder = key.path.clone().unwrap();
            let restic = restic(&key, SECRET);
            let script = format!(
                "{}printf '%s\\0' \"$AWS_ACCESS_KEY_ID\" \"$AWS_SECRET_ACCESS_KEY\" \"$AWS_DEFAULT_REGION\" \"$RESTIC_REPOSITORY\"\n",
                restic.text
            );
            let mut command = Command::new(shell);
            command.arg("-c").arg(&script).env("PATH", &path_env);
            let exported = printed(&run(command, &scratch.0));
            assert!(!scratch.pwned(), "{shell}: {folder:?} ran a command:\n{script}");
            assert_eq!(exported[..3], ["AKIAEXAMPLE000000001", SECRET, "eu-west-1"]);
            let repository = &exported[3];
            let encoded = repository
                .strip_prefix("s3:http://127.0.0.1:9000/media/")
                .and_then(|rest| rest.strip_suffix("restic"))
                .unwrap_or_else(|| panic!("{repository}"));
            assert_eq!(percent_decode(encoded), folder, "{repository}");

            let commands = [
                (aws_cli(&key, SECRET).try_it, format!("s3://media/{folder}")),
                (s3cmd(&key, SECRET).try_it, format!("s3://media/{folder}")),
            ];
            for (try_it, target) in commands {
                let mut command = Command::new(shell);
                command.arg("-c").arg(&try_it).env("PATH", &path_env);
                let args = printed(&run(command, &scratch.0));
                assert!(!scratch.pwned(), "{shell}: {try_it}");
                assert_eq!(args.last(), Some(&target), "{shell}: {try_it}");
            }
            let rclone_try = rclone(&key, SECRET).try_it;
            let mut command = Command::new(shell);
            command.arg("-c").arg(&rclone_try).env("PATH", &path_env);
            let args = printed(&run(command, &scratch.0));
            assert!(!scratch.pwned(), "{shell}: {rclone_try}");
            assert_eq!(args[0], "lsf", "{rclone_try}");
        }
    }
}

#[test]
fn the_aws_files_read_back_as_written_by_botocores_parser() {
    let scratch = Scratch::new("aws");
    for key in hostile_keys() {
        let setup = aws_cli(&key, SECRET);
        let (config, credentials) = setup.text.split_once("# ~/.aws/credentials\n").unwrap();
        scratch.write("config", config);
        scratch.write("credentials", credentials);
        // botocore reads both files with RawConfigParser.
        let mut python = Command::new("python3");
        python.arg("-c").arg(
            "import configparser, json\nout = {}\nfor f in ('config', 'credentials'):\n    cp = configparser.RawConfigParser()\n    cp.read(f)\n    out[f] = {s: dict(cp[s]) for s in cp.sections()}\nprint(json.dumps(out))\n",
        );
        let output = run(python, &scratch.0);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let read: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let profile = key.profile();
        assert_eq!(
            read["config"][format!("profile {profile}")]["endpoint_url"],
            "http://127.0.0.1:9000"
        );
        assert_eq!(read["config"].as_object().unwrap().len(), 1, "{read}");
        assert_eq!(
            read["credentials"],
            serde_json::json!({ profile: {
                "aws_access_key_id": "AKIAEXAMPLE000000001",
                "aws_secret_access_key": SECRET,
            }})
        );
    }
}

#[test]
fn the_cyberduck_bookmark_reads_back_as_the_keys_values() {
    let scratch = Scratch::new("duck");
    for key in hostile_keys() {
        let bookmark = cyberduck_bookmark(&key);
        let file = scratch.write("bookmark.duck", &bookmark);
        let mut python = Command::new("python3");
        python
            .arg("-c")
            .arg("import json, plistlib, sys\nprint(json.dumps(plistlib.load(open(sys.argv[1], 'rb'))))\n")
            .arg(&file);
        let output = run(python, &scratch.0);
        assert!(
            output.status.success(),
            "{}\n{bookmark}",
            String::from_utf8_lossy(&output.stderr)
        );
        let read: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(read["Path"], format!("/media/{}", key.path.as_deref().unwrap()));
        assert_eq!(read["Nickname"], format!("{} (Stook)", key.name.as_deref().unwrap()));
        assert_eq!(read["Username"], "AKIAEXAMPLE000000001");
    }
}

/// `%XX` escapes decoded; anything else (a stray `%` too) kept as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let escape = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escape {
            Some(byte) => {
                decoded.push(byte);
                i += 3;
            }
            None => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Random text for the property tests, from a fixed seed so that a failure repeats:
/// mostly the characters the languages here treat specially, now and then any character.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        // xorshift64
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn text(&mut self) -> String {
        const SPECIAL: &[char] = &[
            '"', '\'', '`', '\\', '$', '(', ')', '{', '}', '[', ']', ';', '#', '%', '&', '<', '>', '|', '*', '?', '!',
            '~', '=', ' ', '\t', '\n', '\r', '/', ':', '@', '+', ',', '-', '.', '_', 'a', 'Z', '0', 's', 'ü', '写',
            '😀', '\u{7f}', '\u{85}', '\u{a0}', '\u{2028}', '\u{feff}', '\u{1}', '\u{1b}', '\u{fffe}',
        ];
        let len = self.below(25);
        (0..len)
            .map(|_| match self.below(8) {
                0 => char::from_u32(self.below(0x11_0000) as u32).unwrap_or('\u{fffd}'),
                _ => SPECIAL[self.below(SPECIAL.len())],
            })
            .collect()
    }

    fn texts(&mut self, count: usize) -> Vec<String> {
        (0..count).map(|_| self.text()).collect()
    }
}

/// Runs a Python script that reads JSON on its standard input and writes JSON.
fn python(script: &str, input: &serde_json::Value) -> serde_json::Value {
    use std::io::Write;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn random_text_reads_back_from_python_xml_and_url_quoting() {
    let mut random = Random(0x5EED_F057_00C0);
    let texts = random.texts(3000);
    let quoted = serde_json::json!({
        "py": texts.iter().map(|t| py_str(t)).collect::<Vec<_>>(),
        "xml": texts.iter().map(|t| xml_text(t)).collect::<Vec<_>>(),
        "url": texts.iter().map(|t| url_path(t)).collect::<Vec<_>>(),
    });
    let read = python(
        "import ast, json, sys, urllib.parse, xml.etree.ElementTree as ET\nq = json.load(sys.stdin)\njson.dump({\n    'py': [ast.literal_eval(x) for x in q['py']],\n    'xml': [ET.fromstring('<s>' + x + '</s>').text or '' for x in q['xml']],\n    'url': [urllib.parse.unquote(x, errors='strict') for x in q['url']],\n}, sys.stdout)\n",
        &quoted,
    );
    for (i, text) in texts.iter().enumerate() {
        assert_eq!(read["py"][i], *text, "{}", quoted["py"][i]);
        assert!(quoted["py"][i].as_str().unwrap().is_ascii());
        // What XML cannot hold comes back as U+FFFD; everything else as it was.
        let storable: String = text
            .chars()
            .map(|c| match c {
                '\t' | '\n' | '\r' => c,
                c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => '\u{fffd}',
                c => c,
            })
            .collect();
        assert_eq!(read["xml"][i], storable, "{}", quoted["xml"][i]);
        assert_eq!(read["url"][i], *text, "{}", quoted["url"][i]);
    }
}

#[test]
fn random_text_reads_back_from_shell_words_in_sh_and_bash() {
    let mut random = Random(0xBA5E_BA11);
    // An argument cannot hold NUL, in any shell.
    let texts: Vec<String> = random.texts(2000).into_iter().map(|t| t.replace('\0', "")).collect();
    let script = format!(
        "printf '%s\\0' {}\n",
        texts.iter().map(|t| shell_word(t)).collect::<Vec<_>>().join(" ")
    );
    let scratch = Scratch::new("words");
    for shell in ["sh", "bash"] {
        let mut command = Command::new(shell);
        command.arg("-c").arg(&script);
        let output = run(command, &scratch.0);
        assert!(!scratch.pwned());
        // Split by hand: an empty last word leaves a trailing NUL that `printed` drops.
        let words: Vec<&[u8]> = output.stdout.split(|&b| b == 0).collect();
        assert_eq!(words.len(), texts.len() + 1, "{shell}");
        for (word, text) in words.iter().zip(&texts) {
            assert_eq!(String::from_utf8_lossy(word), *text, "{shell}: {}", shell_word(text));
        }
    }
}

#[test]
fn random_text_that_an_ini_reader_accepts_reads_back_unchanged() {
    let mut random = Random(0x1417);
    let texts = random.texts(3000);
    for text in &texts {
        for ini in [Ini::Aws, Ini::Rclone, Ini::S3cmd] {
            if let Some(value) = ini.value(text) {
                assert_eq!(value, text);
                assert!(!value.contains(['\n', '\r']), "{ini:?} {text:?}");
            }
        }
    }
    // botocore's own reader, on every value Ini::Aws lets through.
    let accepted: Vec<&String> = texts.iter().filter(|t| Ini::Aws.value(t).is_some()).collect();
    assert!(accepted.len() > 300, "the generator should make plenty of plain values");
    let file: String = accepted
        .iter()
        .enumerate()
        .map(|(i, v)| format!("k{i} = {v}\n"))
        .collect();
    let read = python(
        "import configparser, json, sys\ncp = configparser.RawConfigParser()\ncp.read_string(json.load(sys.stdin))\njson.dump([cp['p'][k] for k in cp['p']], sys.stdout)\n",
        &serde_json::json!(format!("[p]\n{file}")),
    );
    assert_eq!(read, serde_json::json!(accepted));
}

#[test]
fn random_names_make_plain_profiles_and_endpoints_stay_plain() {
    let mut random = Random(0xD0C);
    for text in random.texts(3000) {
        let access = KeyAccess {
            endpoint_url: format!("https://{text}"),
            region: "eu-west-1".into(),
            bucket: "media".into(),
            path: None,
            name: Some(text.clone()),
            access_key_id: "AKIAEXAMPLE000000001".into(),
        };
        let profile = access.profile();
        assert!(
            profile == "stook"
                || profile.strip_prefix("stook-").is_some_and(|slug| {
                    slug.split('-').all(|part| {
                        !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                    })
                }),
            "{text:?} made {profile:?}"
        );
        let endpoint = safe_endpoint(&access.endpoint_url);
        assert!(
            endpoint
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~:/@[]%".contains(&b)),
            "{endpoint}"
        );
        assert_eq!(safe_endpoint(&endpoint), endpoint, "encoding twice changes nothing");
        for ini in [Ini::Aws, Ini::Rclone, Ini::S3cmd] {
            assert!(ini.value(&endpoint).is_some(), "{ini:?} {endpoint}");
        }
    }
}
