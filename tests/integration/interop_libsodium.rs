//! What secretsync seals must open with REAL libsodium (`crypto_box_seal_open`, here through
//! PyNaCl's `SealedBox`), as GitHub opens it. The sandbox only stores the ciphertext it received;
//! libsodium opens it with the sandbox's private key, and the result must be the value, byte for
//! byte.
//!
//! Needs `python3` with PyNaCl; see `.ci/install-real-components`. Without it the test skips,
//! except under `CI`, where it fails.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::support::{require_python_module, Env, REPO};

/// `crypto_box_SEALBYTES`: an ephemeral public key (32) and a MAC (16).
const SEAL_OVERHEAD: usize = 48;
/// GitHub's limit, and the largest value secretsync accepts.
const BIG_LEN: usize = 49152;

/// Reads the private key, then one ciphertext per line (hex); prints each plaintext (hex) on its
/// own line, or `ERR <reason>`.
const OPEN_SCRIPT: &str = r#"
import sys
from nacl.public import PrivateKey, SealedBox
lines = sys.stdin.read().split("\n")
key = PrivateKey(bytes.fromhex(lines[0]))
print(bytes(key.public_key).hex())
box = SealedBox(key)
for line in lines[1:]:
    if not line:
        continue
    try:
        print(box.decrypt(bytes.fromhex(line)).hex())
    except Exception as e:
        print("ERR " + type(e).__name__)
"#;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).expect("ascii");
            assert_eq!(pair.len(), 2, "odd hex: {text}");
            u8::from_str_radix(pair, 16).expect("hex")
        })
        .collect()
}

/// Open each ciphertext with libsodium; returns the public key libsodium derived from
/// `secret_key`, and each plaintext.
fn open_with_libsodium(secret_key: &[u8; 32], ciphertexts: &[Vec<u8>]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut child = Command::new("python3")
        .args(["-c", OPEN_SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    let mut input = hex(secret_key);
    for ciphertext in ciphertexts {
        input.push('\n');
        input.push_str(&hex(ciphertext));
    }
    input.push('\n');
    // Written from a thread: python's output is read meanwhile, so no pipe can fill and block.
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("python3 output");
    writer.join().expect("writer").expect("write to python3");
    assert!(
        output.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf-8");
    let mut lines = text.lines();
    let public = unhex(lines.next().expect("public key line"));
    let plaintexts = lines
        .map(|line| {
            assert!(
                !line.starts_with("ERR"),
                "libsodium could not open a value: {line}"
            );
            unhex(line)
        })
        .collect::<Vec<_>>();
    assert_eq!(plaintexts.len(), ciphertexts.len(), "{text}");
    (public, plaintexts)
}

/// Printable but varied, so a truncation or a shifted block cannot go unnoticed.
fn big_value() -> String {
    let mut state: u32 = 0x2545_f491;
    (0..BIG_LEN)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            char::from(b'!' + (state % 94) as u8)
        })
        .collect()
}

#[test]
fn sealed_values_open_with_real_libsodium() {
    if !require_python_module(
        "sealed_values_open_with_real_libsodium",
        "nacl.public",
        "pynacl",
    ) {
        return;
    }
    let env = Env::new();

    let big = big_value();
    assert_eq!(big.len(), BIG_LEN);
    // A file source loses one trailing newline; this one has none.
    env.write("big.txt", &big);
    let unicode = "pässwörd ✓ 密码 🔑 \"quoted\" \\ tab\tend";
    let values: [(&str, &str); 4] = [
        ("EMPTY_VALUE", ""),
        ("ONE_BYTE", "x"),
        ("UNICODE_VALUE", unicode),
        ("BIG_VALUE", &big),
    ];
    env.config_for_repo(
        r#"[secrets.EMPTY_VALUE]
value = ""
allow_empty = true

[secrets.ONE_BYTE]
value = "x"

[secrets.UNICODE_VALUE]
value = "pässwörd ✓ 密码 🔑 \"quoted\" \\ tab\tend"

[secrets.BIG_VALUE]
file = "big.txt"
"#,
    );
    env.apply();

    let mut ciphertexts = Vec::new();
    for (name, value) in &values {
        let ciphertext = env
            .sandbox
            .ciphertext(REPO, name)
            .unwrap_or_else(|| panic!("the sandbox has no `{name}`"));
        assert_eq!(
            ciphertext.len(),
            value.len() + SEAL_OVERHEAD,
            "`{name}` is not a sealed box of its value's length"
        );
        ciphertexts.push(ciphertext);
    }

    let (public, plaintexts) = open_with_libsodium(&env.sandbox.secret_key_bytes(), &ciphertexts);
    assert_eq!(
        public,
        env.sandbox.public_key_bytes(),
        "libsodium derives another public key from the sandbox's private key"
    );
    for ((name, value), plaintext) in values.iter().zip(&plaintexts) {
        assert!(
            plaintext.as_slice() == value.as_bytes(),
            "`{name}`: libsodium opened {} bytes, expected the {} bytes of the value",
            plaintext.len(),
            value.len()
        );
    }
    // Each seal has its own ephemeral key (the first 32 bytes of a sealed box).
    let ephemeral: std::collections::BTreeSet<&[u8]> =
        ciphertexts.iter().map(|c| &c[..32]).collect();
    assert_eq!(
        ephemeral.len(),
        ciphertexts.len(),
        "an ephemeral key was reused"
    );
}
