//! What the rest of the program needs from the settings: paths in the data folder, the
//! database URL, the public address, the media store and limits, the mail relay, the backup
//! target, and the processors the Privacy Policy lists.

use super::Settings;
use std::net::SocketAddr;
use std::path::PathBuf;

impl Settings {
    /// The third parties personal data goes to with these settings, for the Privacy Policy.
    pub fn processors(&self) -> Vec<(String, String)> {
        let mut list = Vec::new();
        if let Some(smtp) = &self.smtp {
            list.push((
                format!("E-mail relay ({})", smtp.host),
                "delivers the e-mails the product sends you".to_owned(),
            ));
        }
        let origin = |url: &str| url.split('/').take(3).collect::<Vec<_>>().join("/");
        if let Some(s3) = &self.media.s3 {
            let place = match &s3.endpoint {
                Some(endpoint) => origin(endpoint),
                None => format!("Amazon S3, {}", s3.region),
            };
            list.push((
                format!("Object store ({place}, bucket {})", s3.bucket),
                "keeps the media library's files and their thumbnails".to_owned(),
            ));
        }
        if self.billing.as_ref().is_some_and(|b| b.paypal.is_some()) {
            list.push((
                "PayPal".to_owned(),
                "takes the payments for paid plans: it receives the plan, its price and this \
                 site's name; your card or bank details stay with PayPal"
                    .to_owned(),
            ));
        }
        if let Some(ai) = &self.ai {
            let d = ai.disclosure();
            let moderation = match &d.moderation {
                Some(m) => format!(", and checks it and the suggestions with its moderation ({m})"),
                None => String::new(),
            };
            list.push((
                format!("{} ({}, at {})", d.provider, d.model, d.address),
                format!(
                    "writes the AI assistant's suggestions and the agent's answers, only in \
                     workspaces where an owner or admin turned AI on: it receives the brief, \
                     draft or message you submit, the platforms' limits, the workspace's brand \
                     profile and what the agent reads from the workspace to answer{moderation}"
                ),
            ));
        }
        let media_ai = self.ai.as_ref();
        if let Some(runway) = media_ai.and_then(|ai| ai.runway.as_ref()) {
            list.push((
                format!("Runway (at {})", origin(runway.base_url.trim())),
                "makes the videos (and reels' scenes) asked for in the media library, only in \
                 workspaces where AI is on: it receives the prompt, the model, shape and length \
                 and, for a video from a picture, that picture"
                    .to_owned(),
            ));
        }
        if let Some(voice) = media_ai.and_then(|ai| ai.elevenlabs.as_ref()) {
            list.push((
                format!("ElevenLabs (at {})", origin(voice.base_url.trim())),
                "reads the scripts of reels and character videos aloud, only in workspaces where \
                 AI is on: it receives the script and the voice chosen"
                    .to_owned(),
            ));
        }
        if let Some(hedra) = media_ai.and_then(|ai| ai.hedra.as_ref()) {
            list.push((
                format!("Hedra (at {})", origin(hedra.base_url.trim())),
                "makes character videos, only in workspaces where AI is on: it receives the \
                 portrait chosen from the library, the voice-over read by ElevenLabs and the \
                 prompt for how the character moves"
                    .to_owned(),
            ));
        }
        if let Some(url) = &self.consent.analytics_script {
            list.push((
                format!("Analytics service ({})", origin(url)),
                "product statistics, only if you allow analytics cookies".to_owned(),
            ));
        }
        if let Some(url) = &self.consent.marketing_script {
            list.push((
                format!("Marketing service ({})", origin(url)),
                "marketing and advertising measurement, only if you allow marketing cookies"
                    .to_owned(),
            ));
        }
        list
    }

    pub fn tls_enabled(&self) -> bool {
        self.tls.cert.is_some() && self.tls.key.is_some()
    }

    /// Where backups go (`<data.dir>/backups`) and which database they copy.
    pub fn backup_target(&self) -> services::backup::BackupTarget {
        services::backup::BackupTarget {
            dir: self.data.dir.join("backups"),
            database_url: self.database_url().into(),
        }
    }

    pub fn database_url(&self) -> String {
        use secrecy::ExposeSecret;
        match &self.database.url {
            Some(url) => url.expose_secret().to_owned(),
            None => format!(
                "sqlite://{}",
                self.data.dir.join("socializioz.db").display()
            ),
        }
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.mail
            .outbox
            .clone()
            .unwrap_or_else(|| self.data.dir.join("outbox"))
    }

    pub fn media_dir(&self) -> PathBuf {
        self.media
            .dir
            .clone()
            .unwrap_or_else(|| self.data.dir.join("media"))
    }

    /// The public address, given the port actually bound (which differs from the configured one
    /// when listening on port 0).
    pub fn public_url(&self, bound: SocketAddr) -> String {
        match &self.server.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => {
                let scheme = if self.tls_enabled() { "https" } else { "http" };
                format!("{scheme}://{bound}")
            }
        }
    }

    /// Where media files go: the S3 bucket when configured, else the media folder.
    pub fn media_store(&self) -> anyhow::Result<store::objects::Objects> {
        use secrecy::ExposeSecret;
        match &self.media.s3 {
            Some(s3) => store::objects::Objects::s3(&store::objects::S3Config {
                bucket: s3.bucket.clone(),
                region: s3.region.clone(),
                endpoint: s3.endpoint.clone(),
                access_key_id: s3.access_key_id.clone(),
                secret_access_key: s3.secret_access_key.expose_secret().to_owned(),
            }),
            None => store::objects::Objects::local(&self.media_dir()),
        }
    }

    pub fn media_limits(&self) -> services::media::MediaLimits {
        const MB: u64 = 1024 * 1024;
        services::media::MediaLimits {
            image_bytes: self.media.image_max_mb.saturating_mul(MB),
            video_bytes: self.media.video_max_mb.saturating_mul(MB),
            url_ttl: std::time::Duration::from_secs(self.media.url_ttl_hours.saturating_mul(3600)),
            max_pixels: self.media.max_megapixels.saturating_mul(1_000_000),
            uploads_per_person: usize::try_from(self.media.uploads_per_person)
                .unwrap_or(usize::MAX),
            import_trusted_origins: self
                .media
                .import_trusted_origins
                .iter()
                .filter_map(|o| match providers::fetch::Url::parse(o.trim()) {
                    // Compared as origins: `HTTP://DAM:80/` is `http://dam`.
                    Ok(url) => Some(url.origin().ascii_serialization()),
                    Err(_) => {
                        tracing::warn!(origin = %o, "media.import_trusted_origins: not an address; ignored");
                        None
                    }
                })
                .collect(),
            ..Default::default()
        }
    }

    /// ffmpeg and ffprobe, when both are named and answer (none otherwise, and the log says
    /// what that leaves out).
    pub async fn video_tools(&self) -> Option<services::media::video::VideoTools> {
        let (ffmpeg, ffprobe) = (self.media.ffmpeg.trim(), self.media.ffprobe.trim());
        if ffmpeg.is_empty() || ffprobe.is_empty() {
            return None;
        }
        let found = services::media::video::VideoTools::find(ffmpeg, ffprobe).await;
        if found.is_none() {
            tracing::warn!(
                ffmpeg,
                ffprobe,
                "ffmpeg was not found: videos are kept without their length, size and poster \
                 frame, and are not checked against the platforms' limits before scheduling \
                 (install Debian's ffmpeg package)"
            );
        }
        found
    }

    pub fn smtp_config(&self) -> Option<providers::mail::SmtpConfig> {
        self.smtp.as_ref().map(|s| providers::mail::SmtpConfig {
            host: s.host.clone(),
            port: s.port,
            username: s.username.clone(),
            password: s.password.clone(),
            security: s.security,
        })
    }
}
