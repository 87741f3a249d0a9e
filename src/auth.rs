//! Password authentication with SCRAM-SHA-256 verifiers (RFC 5802 / 7677), as PostgreSQL stores
//! them: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
//!
//! The server never holds a password, only the verifier: StoredKey lets it check a client's proof,
//! ServerKey lets it prove itself back, and neither lets anyone who reads the config log in.
//! [`ScramExchange`] runs the server side of the SASL conversation; [`ScramVerifier::check_password`]
//! serves the cleartext `password` method with the same verifiers. Nothing here knows the wire.

use std::num::NonZeroU32;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::{digest, hmac, pbkdf2, rand::SecureRandom};

/// PostgreSQL's default iteration count.
pub const DEFAULT_ITERATIONS: u32 = 4096;

/// Why authentication failed. Kept apart so the server can answer 28000 or 28P01 while telling
/// the client nothing about which part was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// No such user.
    UnknownUser,
    /// The user exists; the password (proof) is wrong.
    WrongPassword,
    /// The client broke the SCRAM conversation.
    Protocol(String),
}

/// A stored SCRAM-SHA-256 verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramVerifier {
    iterations: u32,
    salt: Vec<u8>,
    stored_key: Vec<u8>,
    server_key: Vec<u8>,
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), message)
        .as_ref()
        .to_vec()
}

fn sha256(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, data).as_ref().to_vec()
}

fn salted_password(password: &str, salt: &[u8], iterations: u32) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    let iterations = NonZeroU32::new(iterations.max(1)).unwrap_or(NonZeroU32::MIN);
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        password.as_bytes(),
        &mut out,
    );
    out
}

/// Equality that takes the same time wherever the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    // The system RNG only fails when the OS has no entropy source at all.
    let _ = ring::rand::SystemRandom::new().fill(&mut out);
    out
}

impl ScramVerifier {
    /// A verifier for `password` with a fresh random salt (what `deltagres passwd` prints).
    pub fn generate(password: &str, iterations: u32) -> Self {
        Self::derive(password, random_bytes(16), iterations)
    }

    fn derive(password: &str, salt: Vec<u8>, iterations: u32) -> Self {
        let salted = salted_password(password, &salt, iterations);
        let client_key = hmac_sha256(&salted, b"Client Key");
        Self {
            iterations,
            salt,
            stored_key: sha256(&client_key),
            server_key: hmac_sha256(&salted, b"Server Key"),
        }
    }

    /// Reads PostgreSQL's text form.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("not a SCRAM-SHA-256 verifier: {text:.24}...");
        let rest = text.strip_prefix("SCRAM-SHA-256$").ok_or_else(bad)?;
        let (params, keys) = rest.split_once('$').ok_or_else(bad)?;
        let (iterations, salt) = params.split_once(':').ok_or_else(bad)?;
        let (stored, server) = keys.split_once(':').ok_or_else(bad)?;
        let decode = |s: &str| B64.decode(s).map_err(|_| bad());
        Ok(Self {
            iterations: iterations.parse().map_err(|_| bad())?,
            salt: decode(salt)?,
            stored_key: decode(stored)?,
            server_key: decode(server)?,
        })
    }

    /// A stand-in for unknown users, derived from the name, so the exchange looks the same
    /// whether or not the user exists.
    fn decoy(user: &str) -> Self {
        let salt = sha256(format!("deltagres decoy salt {user}").as_bytes())[..16].to_vec();
        Self {
            iterations: DEFAULT_ITERATIONS,
            salt,
            stored_key: random_bytes(32),
            server_key: random_bytes(32),
        }
    }

    /// Whether `password` matches (the cleartext `password` method).
    pub fn check_password(&self, password: &str) -> bool {
        let candidate = Self::derive(password, self.salt.clone(), self.iterations);
        constant_time_eq(&candidate.stored_key, &self.stored_key)
    }
}

impl std::fmt::Display for ScramVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SCRAM-SHA-256${}:{}${}:{}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(&self.stored_key),
            B64.encode(&self.server_key)
        )
    }
}

/// The server side of one SCRAM-SHA-256 conversation, after the client's first message.
pub struct ScramExchange {
    verifier: ScramVerifier,
    known_user: bool,
    client_first_bare: String,
    server_first: String,
    nonce: String,
}

impl ScramExchange {
    /// Answers the client-first message (`n,,n=user,r=nonce`); returns the exchange and the
    /// server-first message to send. `verifier` is None for an unknown user: the conversation
    /// goes on with a decoy and fails at the end, like a wrong password.
    pub fn start(
        verifier: Option<&ScramVerifier>,
        user: &str,
        client_first: &[u8],
    ) -> Result<(Self, Vec<u8>), AuthFailure> {
        let text = std::str::from_utf8(client_first)
            .map_err(|_| AuthFailure::Protocol("client-first message is not UTF-8".into()))?;
        let bare = match text
            .strip_prefix("n,,")
            .or_else(|| text.strip_prefix("y,,"))
        {
            Some(bare) => bare,
            None => {
                return Err(AuthFailure::Protocol(
                    "channel binding is not supported; connect with channel_binding=disable or prefer"
                        .into(),
                ));
            }
        };
        let client_nonce = bare
            .split(',')
            .find_map(|part| part.strip_prefix("r="))
            .filter(|n| !n.is_empty())
            .ok_or_else(|| AuthFailure::Protocol("client-first message has no nonce".into()))?;
        let server_nonce = B64.encode(random_bytes(18));
        let nonce = format!("{client_nonce}{server_nonce}");
        let (verifier, known_user) = match verifier {
            Some(v) => (v.clone(), true),
            None => (ScramVerifier::decoy(user), false),
        };
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&verifier.salt),
            verifier.iterations
        );
        Ok((
            Self {
                verifier,
                known_user,
                client_first_bare: bare.to_string(),
                server_first: server_first.clone(),
                nonce,
            },
            server_first.into_bytes(),
        ))
    }

    /// Checks the client-final message (`c=biws,r=nonce,p=proof`); returns the server-final
    /// message (`v=signature`) when the proof is right.
    pub fn finish(&self, client_final: &[u8]) -> Result<Vec<u8>, AuthFailure> {
        let protocol = |m: &str| AuthFailure::Protocol(m.to_string());
        let text = std::str::from_utf8(client_final)
            .map_err(|_| protocol("client-final message is not UTF-8"))?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or_else(|| protocol("client-final message has no proof"))?;
        let nonce = without_proof
            .split(',')
            .find_map(|p| p.strip_prefix("r="))
            .ok_or_else(|| protocol("client-final message has no nonce"))?;
        if nonce != self.nonce {
            return Err(protocol("the nonce changed during the exchange"));
        }
        let proof = B64
            .decode(proof)
            .map_err(|_| protocol("the proof is not base64"))?;
        let auth_message = format!(
            "{},{},{}",
            self.client_first_bare, self.server_first, without_proof
        );
        let signature = hmac_sha256(&self.verifier.stored_key, auth_message.as_bytes());
        if proof.len() != signature.len() {
            return Err(self.failure());
        }
        let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(a, b)| a ^ b).collect();
        let matches = constant_time_eq(&sha256(&client_key), &self.verifier.stored_key);
        if !matches || !self.known_user {
            return Err(self.failure());
        }
        let server_signature = hmac_sha256(&self.verifier.server_key, auth_message.as_bytes());
        Ok(format!("v={}", B64.encode(server_signature)).into_bytes())
    }

    fn failure(&self) -> AuthFailure {
        if self.known_user {
            AuthFailure::WrongPassword
        } else {
            AuthFailure::UnknownUser
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client's side of the exchange, as RFC 5802 describes it.
    fn client_final(password: &str, client_first_bare: &str, server_first: &str) -> String {
        let parts: Vec<&str> = server_first.split(',').collect();
        let nonce = parts[0].strip_prefix("r=").unwrap();
        let salt = B64.decode(parts[1].strip_prefix("s=").unwrap()).unwrap();
        let iterations: u32 = parts[2].strip_prefix("i=").unwrap().parse().unwrap();
        let salted = salted_password(password, &salt, iterations);
        let client_key = hmac_sha256(&salted, b"Client Key");
        let stored_key = sha256(&client_key);
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
        let signature = hmac_sha256(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&signature)
            .map(|(a, b)| a ^ b)
            .collect();
        format!("{without_proof},p={}", B64.encode(proof))
    }

    #[test]
    fn verifiers_round_trip_and_check_passwords() {
        let v = ScramVerifier::generate("s3cret", 4096);
        let text = v.to_string();
        assert!(text.starts_with("SCRAM-SHA-256$4096:"));
        assert_eq!(ScramVerifier::parse(&text).unwrap(), v);
        assert!(v.check_password("s3cret"));
        assert!(!v.check_password("wrong"));
    }

    #[test]
    fn scram_exchange_accepts_the_right_proof_only() {
        let v = ScramVerifier::generate("s3cret", 4096);
        let first = "n,,n=alice,r=abcdefgh";
        for (password, verifier, expected) in [
            ("s3cret", Some(&v), None),
            ("nope", Some(&v), Some(AuthFailure::WrongPassword)),
            ("s3cret", None, Some(AuthFailure::UnknownUser)),
        ] {
            let (exchange, server_first) =
                ScramExchange::start(verifier, "alice", first.as_bytes()).unwrap();
            let server_first = String::from_utf8(server_first).unwrap();
            let last = client_final(password, "n=alice,r=abcdefgh", &server_first);
            assert_eq!(exchange.finish(last.as_bytes()).err(), expected);
        }
    }
}
