//! The interface's words in the languages it speaks, and which one a request gets: the
//! signed-in person's choice, else the browser's `Accept-Language`, else English.

use axum::http::HeaderMap;
use domain::Language;

/// The language for a request.
pub fn negotiate(profile: Option<&str>, headers: &HeaderMap) -> Language {
    if let Some(lang) = profile.and_then(|code| Language::parse(code).ok()) {
        return lang;
    }
    let header = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut offers: Vec<(f32, Language)> = header
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next()?.trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let primary = tag.split('-').next()?.to_owned();
            Language::parse(&primary).ok().map(|lang| (q, lang))
        })
        .collect();
    offers.sort_by(|a, b| b.0.total_cmp(&a.0));
    offers.first().map(|(_, lang)| *lang).unwrap_or_default()
}

/// The cookie banner's and cookie page's words.
pub struct ConsentText {
    pub title: &'static str,
    pub body: &'static str,
    pub accept: &'static str,
    pub reject: &'static str,
    pub customize: &'static str,
    pub save: &'static str,
    pub always_on: &'static str,
    pub gpc: &'static str,
    pub policy_link: &'static str,
    /// Announced to screen readers when the choice is saved without a reload.
    pub saved: &'static str,
}

const EN: ConsentText = ConsentText {
    title: "Cookies on Socializioz",
    body: "We use essential cookies to sign you in and keep forms safe. With your permission we also use analytics cookies to learn how the product is used, and marketing cookies for personalised content and advertising. You can change your choice at any time on the cookie policy page.",
    accept: "Accept all",
    reject: "Reject non-essential",
    customize: "Customize",
    save: "Save my choices",
    always_on: "Always on",
    gpc: "Your browser sends a Global Privacy Control signal, so we use essential cookies only. You can still choose otherwise.",
    policy_link: "Cookie policy",
    saved: "Your cookie choice is saved.",
};

const DE: ConsentText = ConsentText {
    title: "Cookies bei Socializioz",
    body: "Wir verwenden notwendige Cookies, um Sie anzumelden und Formulare zu schützen. Mit Ihrer Erlaubnis verwenden wir außerdem Statistik-Cookies, um zu verstehen, wie das Produkt genutzt wird, und Marketing-Cookies für personalisierte Inhalte und Werbung. Sie können Ihre Auswahl jederzeit auf der Seite zur Cookie-Richtlinie ändern.",
    accept: "Alle akzeptieren",
    reject: "Nicht notwendige ablehnen",
    customize: "Anpassen",
    save: "Auswahl speichern",
    always_on: "Immer aktiv",
    gpc: "Ihr Browser sendet ein Global-Privacy-Control-Signal, daher verwenden wir nur notwendige Cookies. Sie können trotzdem anders wählen.",
    policy_link: "Cookie-Richtlinie",
    saved: "Ihre Cookie-Auswahl ist gespeichert.",
};

const ES: ConsentText = ConsentText {
    title: "Cookies en Socializioz",
    body: "Usamos cookies esenciales para iniciar tu sesión y proteger los formularios. Con tu permiso también usamos cookies analíticas para saber cómo se usa el producto y cookies de marketing para contenido personalizado y publicidad. Puedes cambiar tu elección en cualquier momento en la página de la política de cookies.",
    accept: "Aceptar todas",
    reject: "Rechazar las no esenciales",
    customize: "Personalizar",
    save: "Guardar mi elección",
    always_on: "Siempre activas",
    gpc: "Tu navegador envía una señal Global Privacy Control, así que solo usamos cookies esenciales. Aun así puedes elegir otra cosa.",
    policy_link: "Política de cookies",
    saved: "Tu elección de cookies está guardada.",
};

pub fn consent(lang: Language) -> &'static ConsentText {
    match lang {
        Language::English => &EN,
        Language::German => &DE,
        Language::Spanish => &ES,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(accept) {
            h.insert(axum::http::header::ACCEPT_LANGUAGE, v);
        }
        h
    }

    #[test]
    fn profile_first_then_the_browser_then_english() {
        assert_eq!(negotiate(Some("es"), &with("de-DE")), Language::Spanish);
        assert_eq!(
            negotiate(None, &with("de-DE,de;q=0.9,en;q=0.8")),
            Language::German
        );
        assert_eq!(
            negotiate(None, &with("fr-FR, es;q=0.5, en;q=0.4")),
            Language::Spanish
        );
        assert_eq!(negotiate(None, &with("fr")), Language::English);
        assert_eq!(negotiate(None, &HeaderMap::new()), Language::English);
    }
}
