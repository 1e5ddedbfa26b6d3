//! The time zones people choose from: the current IANA names of places (`Area/Location`, such
//! as `Europe/Berlin`) and `UTC`, without the names kept only for compatibility (`US/Eastern`,
//! `Asia/Calcutta`, `Etc/GMT+1`, `EST5EDT`), which would make a list of some 600 names where
//! one place appears under several. A legacy name a browser reports or an older account holds
//! is read as the current name it stands for.

use std::sync::LazyLock;

/// The first part of a place's name.
const AREAS: [&str; 10] = [
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
];

/// Names kept for compatibility, and the current name each stands for: the links of tzdata's
/// `backward` file (2025b, as chrono-tz bundles it), except its section of one name per
/// country in `zone.tab` (such as `Europe/Amsterdam` or `Europe/Oslo`), which are the current
/// names of their places, and `Europe/Nicosia`, which people expect to find under Europe. The
/// names of UTC and GMT all stand for `UTC`.
const LEGACY: &[(&str, &str)] = &[
    ("Australia/ACT", "Australia/Sydney"),
    ("Australia/LHI", "Australia/Lord_Howe"),
    ("Australia/NSW", "Australia/Sydney"),
    ("Australia/North", "Australia/Darwin"),
    ("Australia/Queensland", "Australia/Brisbane"),
    ("Australia/South", "Australia/Adelaide"),
    ("Australia/Tasmania", "Australia/Hobart"),
    ("Australia/Victoria", "Australia/Melbourne"),
    ("Australia/West", "Australia/Perth"),
    ("Australia/Yancowinna", "Australia/Broken_Hill"),
    ("Brazil/Acre", "America/Rio_Branco"),
    ("Brazil/DeNoronha", "America/Noronha"),
    ("Brazil/East", "America/Sao_Paulo"),
    ("Brazil/West", "America/Manaus"),
    ("CET", "Europe/Brussels"),
    ("CST6CDT", "America/Chicago"),
    ("Canada/Atlantic", "America/Halifax"),
    ("Canada/Central", "America/Winnipeg"),
    ("Canada/Eastern", "America/Toronto"),
    ("Canada/Mountain", "America/Edmonton"),
    ("Canada/Newfoundland", "America/St_Johns"),
    ("Canada/Pacific", "America/Vancouver"),
    ("Canada/Saskatchewan", "America/Regina"),
    ("Canada/Yukon", "America/Whitehorse"),
    ("Chile/Continental", "America/Santiago"),
    ("Chile/EasterIsland", "Pacific/Easter"),
    ("Cuba", "America/Havana"),
    ("EET", "Europe/Athens"),
    ("EST", "America/Panama"),
    ("EST5EDT", "America/New_York"),
    ("Egypt", "Africa/Cairo"),
    ("Eire", "Europe/Dublin"),
    ("Etc/GMT+0", "UTC"),
    ("Etc/GMT-0", "UTC"),
    ("Etc/GMT0", "UTC"),
    ("Etc/Greenwich", "UTC"),
    ("Etc/UCT", "UTC"),
    ("Etc/Universal", "UTC"),
    ("Etc/Zulu", "UTC"),
    ("GB", "Europe/London"),
    ("GB-Eire", "Europe/London"),
    ("GMT+0", "UTC"),
    ("GMT-0", "UTC"),
    ("GMT0", "UTC"),
    ("Greenwich", "UTC"),
    ("Hongkong", "Asia/Hong_Kong"),
    ("Iceland", "Africa/Abidjan"),
    ("Iran", "Asia/Tehran"),
    ("Israel", "Asia/Jerusalem"),
    ("Jamaica", "America/Jamaica"),
    ("Japan", "Asia/Tokyo"),
    ("Kwajalein", "Pacific/Kwajalein"),
    ("Libya", "Africa/Tripoli"),
    ("MET", "Europe/Brussels"),
    ("MST", "America/Phoenix"),
    ("MST7MDT", "America/Denver"),
    ("Mexico/BajaNorte", "America/Tijuana"),
    ("Mexico/BajaSur", "America/Mazatlan"),
    ("Mexico/General", "America/Mexico_City"),
    ("NZ", "Pacific/Auckland"),
    ("NZ-CHAT", "Pacific/Chatham"),
    ("Navajo", "America/Denver"),
    ("PRC", "Asia/Shanghai"),
    ("Poland", "Europe/Warsaw"),
    ("Portugal", "Europe/Lisbon"),
    ("ROC", "Asia/Taipei"),
    ("ROK", "Asia/Seoul"),
    ("Singapore", "Asia/Singapore"),
    ("Turkey", "Europe/Istanbul"),
    ("UCT", "UTC"),
    ("US/Alaska", "America/Anchorage"),
    ("US/Aleutian", "America/Adak"),
    ("US/Arizona", "America/Phoenix"),
    ("US/Central", "America/Chicago"),
    ("US/East-Indiana", "America/Indiana/Indianapolis"),
    ("US/Eastern", "America/New_York"),
    ("US/Hawaii", "Pacific/Honolulu"),
    ("US/Indiana-Starke", "America/Indiana/Knox"),
    ("US/Michigan", "America/Detroit"),
    ("US/Mountain", "America/Denver"),
    ("US/Pacific", "America/Los_Angeles"),
    ("US/Samoa", "Pacific/Pago_Pago"),
    ("Universal", "UTC"),
    ("W-SU", "Europe/Moscow"),
    ("Zulu", "UTC"),
    ("America/Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ("America/Catamarca", "America/Argentina/Catamarca"),
    ("America/Cordoba", "America/Argentina/Cordoba"),
    ("America/Indianapolis", "America/Indiana/Indianapolis"),
    ("America/Jujuy", "America/Argentina/Jujuy"),
    ("America/Knox_IN", "America/Indiana/Knox"),
    ("America/Louisville", "America/Kentucky/Louisville"),
    ("America/Mendoza", "America/Argentina/Mendoza"),
    ("America/Virgin", "America/Puerto_Rico"),
    ("Pacific/Samoa", "Pacific/Pago_Pago"),
    ("Africa/Timbuktu", "Africa/Abidjan"),
    (
        "America/Argentina/ComodRivadavia",
        "America/Argentina/Catamarca",
    ),
    ("America/Atka", "America/Adak"),
    ("America/Coral_Harbour", "America/Panama"),
    ("America/Ensenada", "America/Tijuana"),
    ("America/Fort_Wayne", "America/Indiana/Indianapolis"),
    ("America/Montreal", "America/Toronto"),
    ("America/Nipigon", "America/Toronto"),
    ("America/Pangnirtung", "America/Iqaluit"),
    ("America/Porto_Acre", "America/Rio_Branco"),
    ("America/Rainy_River", "America/Winnipeg"),
    ("America/Rosario", "America/Argentina/Cordoba"),
    ("America/Santa_Isabel", "America/Tijuana"),
    ("America/Shiprock", "America/Denver"),
    ("America/Thunder_Bay", "America/Toronto"),
    ("America/Yellowknife", "America/Edmonton"),
    ("Antarctica/South_Pole", "Pacific/Auckland"),
    ("Asia/Choibalsan", "Asia/Ulaanbaatar"),
    ("Asia/Chongqing", "Asia/Shanghai"),
    ("Asia/Harbin", "Asia/Shanghai"),
    ("Asia/Kashgar", "Asia/Urumqi"),
    ("Asia/Tel_Aviv", "Asia/Jerusalem"),
    ("Atlantic/Jan_Mayen", "Europe/Berlin"),
    ("Australia/Canberra", "Australia/Sydney"),
    ("Australia/Currie", "Australia/Hobart"),
    ("Europe/Belfast", "Europe/London"),
    ("Europe/Tiraspol", "Europe/Chisinau"),
    ("Europe/Uzhgorod", "Europe/Kyiv"),
    ("Europe/Zaporozhye", "Europe/Kyiv"),
    ("Pacific/Enderbury", "Pacific/Kanton"),
    ("Pacific/Johnston", "Pacific/Honolulu"),
    ("Pacific/Yap", "Pacific/Port_Moresby"),
    ("WET", "Europe/Lisbon"),
    ("Africa/Asmera", "Africa/Nairobi"),
    ("America/Godthab", "America/Nuuk"),
    ("Asia/Ashkhabad", "Asia/Ashgabat"),
    ("Asia/Calcutta", "Asia/Kolkata"),
    ("Asia/Chungking", "Asia/Shanghai"),
    ("Asia/Dacca", "Asia/Dhaka"),
    ("Asia/Istanbul", "Europe/Istanbul"),
    ("Asia/Katmandu", "Asia/Kathmandu"),
    ("Asia/Macao", "Asia/Macau"),
    ("Asia/Rangoon", "Asia/Yangon"),
    ("Asia/Saigon", "Asia/Ho_Chi_Minh"),
    ("Asia/Thimbu", "Asia/Thimphu"),
    ("Asia/Ujung_Pandang", "Asia/Makassar"),
    ("Asia/Ulan_Bator", "Asia/Ulaanbaatar"),
    ("Atlantic/Faeroe", "Atlantic/Faroe"),
    ("Europe/Kiev", "Europe/Kyiv"),
    ("HST", "Pacific/Honolulu"),
    ("PST8PDT", "America/Los_Angeles"),
    ("Pacific/Ponape", "Pacific/Guadalcanal"),
    ("Pacific/Truk", "Pacific/Port_Moresby"),
    ("Etc/UTC", "UTC"),
    ("Etc/GMT", "UTC"),
    ("GMT", "UTC"),
];

/// The current name that `name` stands for, when it is a legacy one.
pub fn current_name(name: &str) -> Option<&'static str> {
    LEGACY
        .iter()
        .find(|(legacy, _)| *legacy == name)
        .map(|(_, current)| *current)
}

/// Whether `name` is offered: `UTC`, or a place's current name.
pub fn is_offered(name: &str) -> bool {
    if name == "UTC" {
        return true;
    }
    let Some((area, _)) = name.split_once('/') else {
        return false;
    };
    AREAS.contains(&area) && current_name(name).is_none()
}

static OFFERED: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut names: Vec<&'static str> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .filter(|name| *name != "UTC" && is_offered(name))
        .collect();
    names.sort_unstable();
    names.insert(0, "UTC");
    names
});

/// Every offered name, `UTC` first, then by name.
pub fn offered() -> &'static [&'static str] {
    OFFERED.as_slice()
}

/// The offered name that `typed` means: the name itself in any case, a legacy name's current
/// one, or a place's own name when only one zone has it ("berlin", "New York").
pub fn find(typed: &str) -> Option<&'static str> {
    let typed = typed.trim();
    if let Some(current) = current_name(typed) {
        return Some(current);
    }
    if let Some(name) = offered().iter().find(|n| n.eq_ignore_ascii_case(typed)) {
        return Some(name);
    }
    if typed.is_empty() || typed.contains('/') {
        return None;
    }
    let place = typed.replace(' ', "_");
    let mut matching = offered().iter().filter(|n| {
        n.rsplit('/')
            .next()
            .is_some_and(|p| p.eq_ignore_ascii_case(&place))
    });
    match (matching.next(), matching.next()) {
        (Some(name), None) => Some(name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_current_names_of_places_are_offered() {
        let names = offered();
        assert_eq!(names[0], "UTC");
        for name in [
            "Europe/Berlin",
            "America/New_York",
            "Asia/Kolkata",
            "Europe/Kyiv",
            "Europe/Amsterdam",
            "America/Argentina/Buenos_Aires",
            "Europe/Nicosia",
        ] {
            assert!(names.contains(&name), "{name} is not offered");
        }
        for name in [
            "US/Eastern",
            "Asia/Calcutta",
            "Europe/Kiev",
            "Etc/GMT+1",
            "Etc/UTC",
            "GMT",
            "EST5EDT",
            "Australia/ACT",
            "America/Buenos_Aires",
            "Cuba",
        ] {
            assert!(!names.contains(&name), "{name} is offered");
        }
        // Each place once: far fewer than the ~600 names chrono-tz knows.
        assert!((300..500).contains(&names.len()), "{} names", names.len());
        assert!(names.len() < chrono_tz::TZ_VARIANTS.len() - 100);
    }

    #[test]
    fn every_legacy_name_stands_for_an_offered_one() {
        for (legacy, current) in LEGACY {
            assert!(
                legacy.parse::<chrono_tz::Tz>().is_ok(),
                "{legacy} is unknown"
            );
            assert!(
                is_offered(current),
                "{legacy} stands for {current}, which is not offered"
            );
        }
        assert_eq!(current_name("Asia/Calcutta"), Some("Asia/Kolkata"));
        assert_eq!(current_name("US/Eastern"), Some("America/New_York"));
        assert_eq!(current_name("Etc/UTC"), Some("UTC"));
        assert_eq!(current_name("Europe/Berlin"), None);
    }

    #[test]
    fn typed_names_are_found() {
        assert_eq!(find("Europe/Berlin"), Some("Europe/Berlin"));
        assert_eq!(find(" europe/berlin "), Some("Europe/Berlin"));
        assert_eq!(find("Berlin"), Some("Europe/Berlin"));
        assert_eq!(find("new york"), Some("America/New_York"));
        assert_eq!(find("Asia/Calcutta"), Some("Asia/Kolkata"));
        assert_eq!(find("utc"), Some("UTC"));
        assert_eq!(find("Etc/UTC"), Some("UTC"));
        assert_eq!(find("Etc/GMT+1"), None);
        assert_eq!(find("Mars/Olympus"), None);
        assert_eq!(find(""), None);
    }
}
