//! Starting the PostgreSQL client tools (`pg_dump`, `psql`) against a database URL, with the
//! password in `PGPASSWORD` rather than on the command line, and a clear message when they are
//! not installed.

use std::io::Read;

/// The connection string for the PostgreSQL client tools, without the password (so that it
/// does not show in the process list), and the password for `PGPASSWORD`.
fn libpq_target(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_owned(), None);
    };
    let Some((user, password)) = userinfo.split_once(':') else {
        return (url.to_owned(), None);
    };
    (
        format!("{scheme}://{user}@{host}{tail}"),
        Some(
            percent_encoding::percent_decode_str(password)
                .decode_utf8_lossy()
                .into_owned(),
        ),
    )
}

/// Starts one of the PostgreSQL client tools against `url`.
pub(super) fn pg_tool(tool: &str, url: &str) -> std::process::Command {
    let (target, password) = libpq_target(url);
    let mut command = std::process::Command::new(tool);
    command.arg("--dbname").arg(target);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    command
}

pub(super) fn tool_missing(tool: &str, err: std::io::Error) -> anyhow::Error {
    if err.kind() == std::io::ErrorKind::NotFound {
        anyhow::anyhow!(
            "`{tool}` was not found on PATH: install the PostgreSQL client tools (the package \
             postgresql-client on Debian and Ubuntu), of the server's major version or newer"
        )
    } else {
        anyhow::Error::new(err).context(format!("could not start {tool}"))
    }
}

/// Collects a child's standard error on a thread (so that a full pipe never blocks it).
pub(super) fn drain(stderr: Option<std::process::ChildStderr>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut stderr) = stderr {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_client_tool_names_its_package() {
        let err = tool_missing("pg_dump", std::io::ErrorKind::NotFound.into()).to_string();
        assert!(err.contains("`pg_dump` was not found"), "{err}");
        assert!(err.contains("postgresql-client"), "{err}");
    }

    #[test]
    fn the_password_stays_out_of_the_command_line() {
        assert_eq!(
            libpq_target("postgres://app:p%40ss@db.example:5432/sz?sslmode=require"),
            (
                "postgres://app@db.example:5432/sz?sslmode=require".to_owned(),
                Some("p@ss".to_owned())
            )
        );
        assert_eq!(
            libpq_target("postgres://postgres@127.0.0.1:5432/test"),
            ("postgres://postgres@127.0.0.1:5432/test".to_owned(), None)
        );
    }
}
