//! Sealing a value for GitHub: a libsodium sealed box (`crypto_box_seal`) to the target's X25519
//! public key, base64-encoded. Pure apart from the random ephemeral key.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use crypto_box::aead::OsRng;
use secrecy::{ExposeSecret, SecretString};

/// A target's public key, checked: the `key` decodes to exactly 32 bytes and `key_id` is present.
#[derive(Clone)]
pub struct PublicKey {
    pub key_id: String,
    key: crypto_box::PublicKey,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.key_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("has no `key_id`")]
    MissingKeyId,
    #[error("has a `key` that is not valid base64")]
    NotBase64,
    #[error("has a `key` of {0} bytes, not the 32 of an X25519 public key")]
    WrongLength(usize),
}

impl PublicKey {
    pub fn parse(key_id: &str, key_base64: &str) -> Result<PublicKey, KeyError> {
        if key_id.trim().is_empty() {
            return Err(KeyError::MissingKeyId);
        }
        let bytes = STANDARD
            .decode(key_base64.trim())
            .map_err(|_| KeyError::NotBase64)?;
        let bytes: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::WrongLength(bytes.len()))?;
        Ok(PublicKey {
            key_id: key_id.to_string(),
            key: crypto_box::PublicKey::from(bytes),
        })
    }
}

/// A sealed value, ready for the PUT body. Not secret: only the key's owner can open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub encrypted_value: String,
    pub key_id: String,
}

/// Seal `value` to `key`. The only place a value's bytes are exposed for sending.
pub fn seal(key: &PublicKey, value: &SecretString) -> Sealed {
    let ciphertext = key
        .key
        .seal(&mut OsRng, value.expose_secret().as_bytes())
        .expect("sealing to a valid X25519 key cannot fail");
    Sealed {
        encrypted_value: STANDARD.encode(ciphertext),
        key_id: key.key_id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let sk = crypto_box::SecretKey::generate(&mut OsRng);
        let pk = PublicKey::parse("k1", &STANDARD.encode(sk.public_key().as_bytes())).unwrap();
        for len in [0usize, 1, 100, 49_152] {
            let plain = "x".repeat(len);
            let sealed = seal(&pk, &SecretString::from(plain.clone()));
            assert_eq!(sealed.key_id, "k1");
            let ct = STANDARD.decode(&sealed.encrypted_value).unwrap();
            assert_eq!(ct.len(), len + 48);
            assert_eq!(sk.unseal(&ct).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn sealing_is_randomised() {
        let sk = crypto_box::SecretKey::generate(&mut OsRng);
        let pk = PublicKey::parse("k", &STANDARD.encode(sk.public_key().as_bytes())).unwrap();
        let v = SecretString::from("same");
        assert_ne!(seal(&pk, &v).encrypted_value, seal(&pk, &v).encrypted_value);
    }

    #[test]
    fn bad_keys() {
        assert_eq!(
            PublicKey::parse("", "AAAA").unwrap_err(),
            KeyError::MissingKeyId
        );
        assert_eq!(
            PublicKey::parse("k", "not base64!").unwrap_err(),
            KeyError::NotBase64
        );
        assert_eq!(
            PublicKey::parse("k", &STANDARD.encode([1u8; 31])).unwrap_err(),
            KeyError::WrongLength(31)
        );
    }
}
