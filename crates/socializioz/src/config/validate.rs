//! The start-up checks of the settings, across sections; each complaint says how to fix it.

use super::{ConfigError, Settings, err};
use std::net::SocketAddr;

impl Settings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        self.listen_addr()?;
        self.trusted_proxies()?;
        self.signup.throttle()?;
        self.invitations.limits()?;
        if let Some((key, _)) = self
            .worker
            .limits
            .iter()
            .find(|(key, n)| key.ends_with(":*") && **n == 0)
        {
            let under = key.trim_end_matches(":*");
            return Err(err(format!(
                "worker.limits.\"{key}\" is 0, which would hold every job under it for ever; \
                 give each key a number of jobs at once, or set \"{under}\" to 0 to run none"
            )));
        }
        if let Some(ai) = &self.ai {
            ai.check()?;
        }
        if let Some(url) = &self.server.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(err(format!(
                "server.public_url is {url:?}; it must start with http:// or https:// (for example https://social.example.com)"
            )));
        }
        match (&self.tls.cert, &self.tls.key) {
            (None, None) => {}
            (Some(cert), Some(key)) => {
                for (what, path) in [("tls.cert", cert), ("tls.key", key)] {
                    if !path.is_file() {
                        return Err(err(format!(
                            "{what} is {}, which is not a readable file",
                            path.display()
                        )));
                    }
                }
            }
            _ => {
                return Err(err(
                    "set both tls.cert and tls.key to serve HTTPS, or neither to serve plain HTTP behind a proxy",
                ));
            }
        }
        let url = self.database_url();
        store::Backend::from_url(&url).map_err(|e| err(format!("database.url: {e}")))?;
        if self.database.max_connections < 2 {
            return Err(err(
                "database.max_connections must be at least 2: a data export reads a table on \
                 one connection while it looks up the related rows on another",
            ));
        }
        if let Some(smtp) = &self.smtp
            && smtp.host.trim().is_empty()
        {
            return Err(err(
                "smtp.host is empty; give the mail server's host name, or remove the [smtp] section to write e-mail to the outbox folder",
            ));
        }
        if let Some(secret) = &self.security.secret_key {
            use secrecy::ExposeSecret;
            if secret.expose_secret().chars().count() < 32 {
                return Err(err(
                    "security.secret_key must be at least 32 characters; generate one with `openssl rand -hex 32`",
                ));
            }
        }
        for (key, url) in [
            ("consent.analytics_script", &self.consent.analytics_script),
            ("consent.marketing_script", &self.consent.marketing_script),
        ] {
            if let Some(url) = url
                && !(url.starts_with("https://") || url.starts_with("http://"))
            {
                return Err(err(format!(
                    "{key} is {url:?}; give the full address of the script, such as https://stats.example.com/script.js"
                )));
            }
        }
        if let Some(file) = &self.consent.witness_file {
            let folder = file.parent().filter(|p| !p.as_os_str().is_empty());
            if file.as_os_str().is_empty()
                || file.is_dir()
                || folder.is_some_and(|folder| !folder.is_dir())
            {
                return Err(err(format!(
                    "consent.witness_file is {}; give a file in an existing folder (it is created if missing)",
                    file.display()
                )));
            }
        }
        if self.media.image_max_mb == 0
            || self.media.video_max_mb == 0
            || self.media.url_ttl_hours == 0
        {
            return Err(err(
                "media.image_max_mb, media.video_max_mb and media.url_ttl_hours must be at least 1",
            ));
        }
        if !(1..=1000).contains(&self.media.max_megapixels) || self.media.uploads_per_person == 0 {
            return Err(err(
                "media.max_megapixels must be between 1 and 1000 (decoding takes up to 4 bytes \
                 a pixel) and media.uploads_per_person at least 1",
            ));
        }
        if !(1..=3600).contains(&self.server.header_read_timeout_seconds)
            || !(1..=3600).contains(&self.server.body_idle_timeout_seconds)
        {
            return Err(err(
                "server.header_read_timeout_seconds and server.body_idle_timeout_seconds must be \
                 between 1 and 3600",
            ));
        }
        if self.worker.concurrency == 0 || !(3..=3600).contains(&self.worker.lease_seconds) {
            return Err(err(
                "worker.concurrency must be at least 1 and worker.lease_seconds between 3 and 3600 \
                 (a running worker renews its leases five times per lease; a stopped one's jobs \
                 wait one lease before another worker takes them)",
            ));
        }
        if self.worker.poll_interval_ms == 0 {
            return Err(err("worker.poll_interval_ms must be at least 1"));
        }
        self.admin.addresses()?;
        Ok(())
    }

    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.server.listen.parse().map_err(|_| {
            err(format!(
                "server.listen is {:?}; it must be an IP address and port such as 127.0.0.1:8080 or 0.0.0.0:8080",
                self.server.listen
            ))
        })
    }

    pub fn trusted_proxies(&self) -> Result<Vec<std::net::IpAddr>, ConfigError> {
        self.server
            .trusted_proxies
            .iter()
            .map(|p| {
                p.trim().parse().map_err(|_| {
                    err(format!(
                        "server.trusted_proxies contains {p:?}, which is not an IP address (write them like [\"127.0.0.1\", \"10.0.0.5\"])"
                    ))
                })
            })
            .collect()
    }
}
