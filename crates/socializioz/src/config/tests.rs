//! Tests of reading and checking the settings.

#![allow(clippy::unwrap_used)]

use super::*;
use std::path::{Path, PathBuf};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_match_the_readme() {
    let s = load(Some(Path::new("/dev/null")), env(&[])).unwrap();
    assert_eq!(s.server.listen, "127.0.0.1:8080");
    assert_eq!(s.database_url(), "sqlite://./data/socializioz.db");
    assert_eq!(s.outbox_dir(), PathBuf::from("./data/outbox"));
    assert_eq!(s.media_dir(), PathBuf::from("./data/media"));
    assert_eq!(s.server.header_read_timeout_seconds, 15);
    assert_eq!(s.server.body_idle_timeout_seconds, 30);
    assert_eq!(s.media_limits().max_pixels, 48_000_000);
    assert_eq!(s.media_limits().uploads_per_person, 4);
    assert!(s.smtp.is_none());
    assert!(!s.tls_enabled());
}

#[test]
fn environment_overrides_and_numbers_from_strings() {
    let s = load(
        Some(Path::new("/dev/null")),
        env(&[
            ("SOCIALIZIOZ__SERVER__LISTEN", "0.0.0.0:9000"),
            ("SOCIALIZIOZ__DATABASE__MAX_CONNECTIONS", "3"),
            ("SOCIALIZIOZ__SMTP__HOST", "mail.example.com"),
            ("SOCIALIZIOZ__SMTP__PORT", "2525"),
            ("SOCIALIZIOZ__SMTP__PASSWORD", "123456"),
            ("SOCIALIZIOZ__SERVER__TRUSTED_PROXIES", "10.0.0.1, ::1"),
            ("UNRELATED", "x"),
        ]),
    )
    .unwrap();
    assert_eq!(s.server.listen, "0.0.0.0:9000");
    assert_eq!(s.database.max_connections, 3);
    assert_eq!(s.trusted_proxies().unwrap().len(), 2);
    let smtp = s.smtp.unwrap();
    assert_eq!(smtp.port, Some(2525));
    use secrecy::ExposeSecret;
    assert_eq!(smtp.password.unwrap().expose_secret(), "123456");
}

#[test]
fn sign_up_limits_have_defaults_and_refuse_zero() {
    let s = load(Some(Path::new("/dev/null")), env(&[])).unwrap();
    assert_eq!((s.signup.per_client_per_hour, s.signup.per_hour), (5, 100));
    let s = load(
        Some(Path::new("/dev/null")),
        env(&[("SOCIALIZIOZ__SIGNUP__PER_HOUR", "250")]),
    )
    .unwrap();
    assert_eq!(s.signup.per_hour, 250);
    let e = load(
        Some(Path::new("/dev/null")),
        env(&[("SOCIALIZIOZ__SIGNUP__PER_CLIENT_PER_HOUR", "0")]),
    )
    .unwrap_err();
    assert!(e.0.contains("signup.per_client_per_hour is 0"), "{}", e.0);
}

#[test]
fn secrets_can_come_from_files_and_never_show_in_debug() {
    let dir = std::env::temp_dir().join(format!("sz-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("db-url");
    std::fs::write(&file, "postgres://app:hunter2hunter2@db/prod\n").unwrap();
    let s = load(
        Some(Path::new("/dev/null")),
        env(&[("SOCIALIZIOZ__DATABASE__URL_FILE", file.to_str().unwrap())]),
    )
    .unwrap();
    assert_eq!(s.database_url(), "postgres://app:hunter2hunter2@db/prod");
    assert!(!format!("{s:?}").contains("hunter2"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn mistakes_are_explained() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("SOCIALIZIOZ__SERVER__LISTEN", "localhost")],
            "127.0.0.1:8080",
        ),
        (
            &[("SOCIALIZIOZ__DATABASE__URL", "mysql://x/y")],
            "sqlite://",
        ),
        (
            &[("SOCIALIZIOZ__TLS__CERT", "/etc/hostname")],
            "both tls.cert and tls.key",
        ),
        (&[("SOCIALIZIOZ__SERVER__LISEN", "x")], "unknown field"),
        (
            &[("SOCIALIZIOZ__DATABASE__MAX_CONNECTIONS", "many")],
            "whole number",
        ),
        (
            &[("SOCIALIZIOZ__SECURITY__SECRET_KEY", "short")],
            "at least 32",
        ),
        (
            &[("SOCIALIZIOZ__DATABASE__MAX_CONNECTIONS", "1")],
            "max_connections must be at least 2",
        ),
        (
            &[("SOCIALIZIOZ__DATABASE__URL_FILE", "/nonexistent/file")],
            "could not be read",
        ),
        (
            &[("SOCIALIZIOZ__MEDIA__MAX_MEGAPIXELS", "0")],
            "media.max_megapixels must be between 1 and 1000",
        ),
        (
            &[("SOCIALIZIOZ__SERVER__HEADER_READ_TIMEOUT_SECONDS", "0")],
            "server.header_read_timeout_seconds",
        ),
    ];
    for (vars, needle) in cases {
        let e = load(Some(Path::new("/dev/null")), env(vars)).unwrap_err().0;
        assert!(e.contains(needle), "{vars:?}: {e}");
    }
    let e = load(Some(Path::new("/nonexistent.toml")), env(&[]))
        .unwrap_err()
        .0;
    assert!(e.contains("could not be read"), "{e}");
}

#[test]
fn the_secret_key_is_generated_once_and_kept_private() {
    let dir = std::env::temp_dir().join(format!("sz-key-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut s = Settings::default();
    s.data.dir = dir.clone();
    let k1 = s.secret_key().unwrap();
    let k2 = s.secret_key().unwrap();
    assert_eq!(k1, k2);
    assert_eq!(k1.len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("secret.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn character_videos_need_a_voice_provider_and_a_resolution_hedra_makes() {
    let hedra_alone = [
        ("SOCIALIZIOZ__AI__API_KEY", "sk-x"),
        ("SOCIALIZIOZ__AI__HEDRA__API_KEY", "sk_hedra_x"),
    ];
    let e = load(Some(Path::new("/dev/null")), env(&hedra_alone))
        .unwrap_err()
        .0;
    assert!(e.contains("[ai.hedra] needs [ai.elevenlabs]"), "{e}");
    let wrong_resolution = [
        ("SOCIALIZIOZ__AI__API_KEY", "sk-x"),
        ("SOCIALIZIOZ__AI__ELEVENLABS__API_KEY", "sk_x"),
        ("SOCIALIZIOZ__AI__HEDRA__API_KEY", "sk_hedra_x"),
        ("SOCIALIZIOZ__AI__HEDRA__RESOLUTION", "1080p"),
    ];
    let e = load(Some(Path::new("/dev/null")), env(&wrong_resolution))
        .unwrap_err()
        .0;
    assert!(e.contains("ai.hedra.resolution must be"), "{e}");
    let both = [
        ("SOCIALIZIOZ__AI__API_KEY", "sk-x"),
        ("SOCIALIZIOZ__AI__ELEVENLABS__API_KEY", "sk_x"),
        ("SOCIALIZIOZ__AI__HEDRA__API_KEY", "sk_hedra_x"),
    ];
    let settings = load(Some(Path::new("/dev/null")), env(&both)).unwrap();
    let ai = settings.ai().unwrap().unwrap();
    let character = ai.disclosure.character.unwrap();
    assert_eq!(character.provider, "Hedra");
    assert_eq!(character.address, "https://api.hedra.com");
    assert_eq!(character.model, "character-3");
    assert!(ai.characters.is_some());
}

#[test]
fn a_per_key_limit_of_none_is_refused_with_the_way_out() {
    let dir = std::env::temp_dir().join(format!("sz-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("limits.toml");
    std::fs::write(&file, "[worker.limits]\n\"publish:x:*\" = 0\n").unwrap();
    let refused = load(Some(&file), env(&[])).unwrap_err().to_string();
    assert!(refused.contains("\"publish:x:*\" is 0"), "{refused}");
    assert!(refused.contains("set \"publish:x\" to 0"), "{refused}");
    std::fs::write(
        &file,
        "[worker.limits]\n\"publish:x:*\" = 2\n\"publish:x\" = 0\n",
    )
    .unwrap();
    let s = load(Some(&file), env(&[])).unwrap();
    assert_eq!(s.worker.limits.get("publish:x:*"), Some(&2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn yes_or_no_settings_read_from_the_environment() {
    let s = load(
        Some(Path::new("/dev/null")),
        env(&[
            ("SOCIALIZIOZ__RETENTION__BACKUPS", "false"),
            ("SOCIALIZIOZ__PLATFORMS__SANDBOX", "TRUE"),
            ("SOCIALIZIOZ__PLATFORMS__TIKTOK__CLIENT_ID", "key"),
            ("SOCIALIZIOZ__PLATFORMS__TIKTOK__CLIENT_SECRET", "secret"),
            ("SOCIALIZIOZ__PLATFORMS__TIKTOK__AUDITED", "yes"),
        ]),
    )
    .unwrap();
    assert!(!s.retention.backups);
    assert!(s.platforms.sandbox);
    assert!(s.platforms.tiktok.unwrap().audited);
    let refused = load(
        Some(Path::new("/dev/null")),
        env(&[("SOCIALIZIOZ__RETENTION__BACKUPS", "sometimes")]),
    )
    .unwrap_err()
    .to_string();
    assert!(refused.contains("expected true or false"), "{refused}");
}
