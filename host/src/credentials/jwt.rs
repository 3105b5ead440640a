//! Reading a JWT's claims: `exp`, to know how long a bearer may be cached, and who it speaks for
//! (`dockhand whoami`). The signature is not checked: the Hub checks it; all we want is to stop
//! using the token before the Hub starts refusing it, and to name its user.

use base64::Engine;

/// The `exp` claim (seconds since the Unix epoch) of a JWT, if the token is a JWT and has one.
pub(crate) fn expiry(token: &str) -> Option<i64> {
    let claims = claims(token)?;
    let exp = claims.get("exp")?;
    // NumericDate may legally be fractional.
    exp.as_i64().or_else(|| exp.as_f64().map(|f| f as i64))
}

/// The payload of a JWT as JSON (unverified), if `token` is shaped like one.
pub(crate) fn claims(token: &str) -> Option<serde_json::Value> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    // base64url without padding per RFC 7515, but tolerate padding from sloppy issuers.
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            enc.encode(r#"{"alg":"RS256"}"#),
            enc.encode(payload)
        )
    }

    #[test]
    fn reads_exp() {
        assert_eq!(
            expiry(&jwt(r#"{"exp":1700000000,"sub":"x"}"#)),
            Some(1700000000)
        );
        assert_eq!(expiry(&jwt(r#"{"exp":1700000000.5}"#)), Some(1700000000));
    }

    #[test]
    fn no_exp_or_not_a_jwt() {
        assert_eq!(expiry(&jwt(r#"{"sub":"x"}"#)), None);
        assert_eq!(expiry("opaque-token"), None);
        assert_eq!(expiry("a.b"), None);
        assert_eq!(expiry("a.!!!.c"), None);
        assert_eq!(expiry(&jwt("not json")), None);
    }
}
