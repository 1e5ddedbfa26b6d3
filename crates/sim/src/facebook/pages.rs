//! The Facebook Pages every simulated person manages: two each, with ids derived from the
//! person's name, so that the login's page chooser, the page tokens and the names shown under
//! posts and comments agree. Nothing here reaches into the rest of the Facebook simulator.

use crate::Simulator;
use domain::Platform;

/// A page a simulated person manages.
pub(super) struct Page {
    pub(super) id: String,
    pub(super) name: String,
}

/// The name of the page `page_id` of someone who authorised the app, for the page behind a
/// post's link.
pub(crate) fn page_name(sim: &Simulator, page_id: &str) -> Option<String> {
    let state = sim.state();
    let people = state
        .access
        .values()
        .map(|t| &t.grant)
        .chain(state.refresh.values());
    people
        .filter(|grant| grant.platform == Platform::Facebook)
        .flat_map(|grant| pages_of(&grant.username))
        .find(|page| page.id == page_id)
        .map(|page| page.name)
}

/// The two pages every simulated person manages.
pub(super) fn pages_of(username: &str) -> [Page; 2] {
    ["Bakery", "Studio"].map(|kind| Page {
        id: crate::oauth::user_id(Platform::Facebook, &format!("{username}/page/{kind}")),
        name: format!("{username} {kind}"),
    })
}

pub(super) fn page_of(username: &str, page_id: &str) -> Option<Page> {
    pages_of(username).into_iter().find(|p| p.id == page_id)
}
