//! The certificates behind the simulated webhook signatures. PayPal signs each webhook with the
//! key of a certificate for `messageverificationcerts.paypal.com` that chains to a public root;
//! the simulator makes its own: an RSA-2048 root authority, an intermediate authority under it,
//! and a leaf for `messageverificationcerts.sandbox.paypal.com` (server and client
//! authentication, valid from yesterday for a year) whose key signs every genuine transmission.
//! A product trusts the root ([`crate::Simulator::paypal_root_pem`]) in place of PayPal's.
//!
//! Beside it stands a forger: an unrelated root with a leaf of the same name, served at
//! `CERT-rogue`, for events whose signature checks out against a certificate that does not
//! chain to the trusted root.
//!
//! Everything is made once per simulator, on first use (five RSA keys take a moment), and kept.

use super::hex_id;
use crate::Simulator;
use chrono::{DateTime, Datelike, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SigningKey,
};
use std::sync::Arc;

/// The name the forger's certificate is served under (`/v1/notifications/certs/CERT-rogue`).
pub(super) const ROGUE: &str = "CERT-rogue";

/// The host name PayPal's signing certificate is for, in the sandbox.
const SIGNER_NAME: &str = "messageverificationcerts.sandbox.paypal.com";

pub(super) struct Authority {
    /// `CERT-…`: the name the genuine certificate is served under.
    pub cert_name: String,
    /// The trusted root's certificate.
    pub root_pem: String,
    /// The signing certificate, then the intermediate's.
    pub chain_pem: String,
    signer: KeyPair,
    /// The forger's certificate, then its own root's.
    pub rogue_chain_pem: String,
    rogue_signer: KeyPair,
}

impl Authority {
    /// `message` signed (RSA PKCS#1 v1.5, SHA-256) by the genuine signing certificate's key.
    pub fn sign(&self, message: &[u8]) -> anyhow::Result<Vec<u8>> {
        Ok(self.signer.sign(message)?)
    }

    /// `message` signed by the forger's key.
    pub fn sign_rogue(&self, message: &[u8]) -> anyhow::Result<Vec<u8>> {
        Ok(self.rogue_signer.sign(message)?)
    }
}

/// Where the simulator keeps its authority once made.
#[derive(Default)]
struct Slot(Option<Arc<Authority>>);

/// This simulator's authority, made on first use.
pub(super) fn authority(sim: &Simulator) -> anyhow::Result<Arc<Authority>> {
    let slot = sim.extension::<Slot>();
    let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(authority) = &slot.0 {
        return Ok(authority.clone());
    }
    let made = Arc::new(make()?);
    slot.0 = Some(made.clone());
    Ok(made)
}

fn make() -> anyhow::Result<Authority> {
    let now = Utc::now();
    let yesterday = now - chrono::Duration::days(1);
    let in_years = |years: u32| {
        now.checked_add_months(chrono::Months::new(12 * years))
            .unwrap_or(now)
    };

    let root = CertifiedIssuer::self_signed(
        authority_params(
            "Simulated PayPal Root CA",
            BasicConstraints::Unconstrained,
            yesterday,
            in_years(20),
        ),
        rsa()?,
    )?;
    let intermediate = CertifiedIssuer::signed_by(
        authority_params(
            "Simulated PayPal Intermediate CA",
            BasicConstraints::Constrained(0),
            yesterday,
            in_years(10),
        ),
        rsa()?,
        &*root,
    )?;
    let signer = rsa()?;
    let leaf = signer_params(yesterday, in_years(1))?.signed_by(&signer, &*intermediate)?;

    let rogue_root = CertifiedIssuer::self_signed(
        authority_params(
            "Rogue Root CA (simulated forger)",
            BasicConstraints::Unconstrained,
            yesterday,
            in_years(20),
        ),
        rsa()?,
    )?;
    let rogue_signer = rsa()?;
    let rogue_leaf =
        signer_params(yesterday, in_years(1))?.signed_by(&rogue_signer, &*rogue_root)?;

    Ok(Authority {
        cert_name: format!("CERT-{}-{}-{}", hex_id(8), hex_id(8), hex_id(8)),
        root_pem: root.pem(),
        chain_pem: format!("{}{}", leaf.pem(), intermediate.pem()),
        signer,
        rogue_chain_pem: format!("{}{}", rogue_leaf.pem(), rogue_root.pem()),
        rogue_signer,
    })
}

fn rsa() -> anyhow::Result<KeyPair> {
    Ok(KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)?)
}

/// An authority that may sign certificates `path` levels below it.
fn authority_params(
    name: &str,
    path: BasicConstraints,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(&[
        (DnType::CountryName, "US"),
        (DnType::OrganizationName, "Socializioz simulator"),
        (DnType::CommonName, name),
    ]);
    params.is_ca = IsCa::Ca(path);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    set_validity(&mut params, from, until);
    params.use_authority_key_identifier_extension = true;
    params
}

/// The signing certificate, named as PayPal names its own.
fn signer_params(from: DateTime<Utc>, until: DateTime<Utc>) -> anyhow::Result<CertificateParams> {
    let mut params = CertificateParams::new(vec![SIGNER_NAME.to_owned()])?;
    params.distinguished_name = distinguished_name(&[
        (DnType::CountryName, "US"),
        (DnType::StateOrProvinceName, "California"),
        (DnType::LocalityName, "San Jose"),
        (DnType::OrganizationName, "PayPal, Inc."),
        (DnType::CommonName, SIGNER_NAME),
    ]);
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    set_validity(&mut params, from, until);
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

fn distinguished_name(parts: &[(DnType, &str)]) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    for (kind, value) in parts {
        name.push(kind.clone(), *value);
    }
    name
}

/// Valid from midnight (UTC) of `from`'s day to midnight of `until`'s.
fn set_validity(params: &mut CertificateParams, from: DateTime<Utc>, until: DateTime<Utc>) {
    let midnight = |t: DateTime<Utc>| {
        let month = u8::try_from(t.month()).unwrap_or(1);
        let day = u8::try_from(t.day()).unwrap_or(1);
        rcgen::date_time_ymd(t.year(), month, day)
    };
    params.not_before = midnight(from);
    params.not_after = midnight(until);
}
