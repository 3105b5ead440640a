//! The environment variables that carry an account's credentials: `DOCKHAND_<FIELD>` for the
//! account `default`, `DOCKHAND_<ACCOUNT>_<FIELD>` for any other, the name upper-cased with `-`
//! as `_`. The CLI reads them (`DOCKHAND_WORK_TOKEN`), and so do the components that take their
//! credentials from the environment: the credentials provider (`BEARER`, `SCIM_TOKEN`) and the
//! gateway (also `USERNAME` and `TOKEN`, and its clients' `DOCKHAND_CLIENT_<NAME>_...`).

use alloc::string::String;

/// The variable that holds `account`'s `field` (`BEARER`, `SCIM_TOKEN`, `USERNAME`, ...), or
/// why there is none: an account name that is empty, or has characters other than ASCII
/// letters, digits, `-` and `_`, cannot name a variable.
pub fn account_variable(account: &str, field: &str) -> Result<String, String> {
    // Built by hand rather than with `format!`: core's formatting machinery would be most of
    // the credentials provider's size.
    let mut name = String::from("DOCKHAND_");
    if account != "default" {
        push_name(&mut name, account)?;
    }
    name.push_str(field);
    Ok(name)
}

/// The variable that holds a gateway client's `field` (`TOKEN_SHA256`, `ALLOW_WRITE`, ...):
/// `DOCKHAND_CLIENT_<NAME>_<FIELD>`.
pub fn client_variable(client: &str, field: &str) -> Result<String, String> {
    let mut name = String::from("DOCKHAND_CLIENT_");
    push_name(&mut name, client)?;
    name.push_str(field);
    Ok(name)
}

/// Appends `NAME_` for the account or client `name`, or says why it cannot name a variable.
fn push_name(out: &mut String, name: &str) -> Result<(), String> {
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if name.is_empty() || !name.chars().all(valid) {
        let mut why = String::from("`");
        why.push_str(name);
        why.push_str("`: only ASCII letters, digits, - and _ can name an environment variable");
        return Err(why);
    }
    out.extend(name.chars().map(|c| match c {
        '-' => '_',
        c => c.to_ascii_uppercase(),
    }));
    out.push('_');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_account_reads_the_plain_names() {
        assert_eq!(
            account_variable("default", "BEARER").unwrap(),
            "DOCKHAND_BEARER"
        );
        assert_eq!(
            account_variable("default", "SCIM_TOKEN").unwrap(),
            "DOCKHAND_SCIM_TOKEN"
        );
    }

    #[test]
    fn other_accounts_and_clients_are_upper_cased_with_dashes_as_underscores() {
        assert_eq!(
            account_variable("work", "TOKEN").unwrap(),
            "DOCKHAND_WORK_TOKEN"
        );
        assert_eq!(
            account_variable("acme-ci", "SCIM_TOKEN").unwrap(),
            "DOCKHAND_ACME_CI_SCIM_TOKEN"
        );
        assert_eq!(
            client_variable("deploy-bot", "ALLOW_WRITE").unwrap(),
            "DOCKHAND_CLIENT_DEPLOY_BOT_ALLOW_WRITE"
        );
    }

    #[test]
    fn names_that_cannot_be_variables_are_refused() {
        for bad in ["", "a b", "x=y", "é", "a.b"] {
            let why = account_variable(bad, "BEARER").unwrap_err();
            assert!(why.contains("environment variable"), "{bad:?}: {why}");
            assert!(client_variable(bad, "TOKEN").is_err());
        }
    }
}
