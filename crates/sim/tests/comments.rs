//! The comments that arrive on published posts: the same on every run for the same post and
//! clock, growing as the clock moves, switched off for exact tests, and the account's actions
//! on them shown by `comments_on`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Duration;
use domain::Platform;
use sim::Simulator;

/// A post by `page` published at the simulator's now, in a fresh simulator.
fn fresh_post(platform: Platform) -> (Simulator, String) {
    let sim = Simulator::new();
    let post = sim.seed_post(platform, "111", "Fresh bread", sim.now());
    (sim, post)
}

#[test]
fn arrivals_are_the_same_for_the_same_post_and_age() {
    let (one, post) = fresh_post(Platform::Facebook);
    let (two, same) = fresh_post(Platform::Facebook);
    assert_eq!(post, same);
    assert!(one.comments_on(&post).is_empty(), "nothing at once");
    one.advance_clock(Duration::hours(5));
    two.advance_clock(Duration::hours(5));
    let a = one.comments_on(&post);
    let b = two.comments_on(&post);
    assert!(a.len() >= 3, "a few in the first hours: {a:?}");
    let key = |c: &sim::SimComment| (c.id.clone(), c.text.clone(), c.author_name.clone());
    assert_eq!(
        a.iter().map(key).collect::<Vec<_>>(),
        b.iter().map(key).collect::<Vec<_>>()
    );
    one.advance_clock(Duration::days(3));
    let settled = one.comments_on(&post);
    assert!(settled.len() >= a.len() && settled.len() <= 8);
    assert!(a.iter().all(|c| settled.iter().any(|s| s.id == c.id)));
    one.advance_clock(Duration::days(30));
    assert_eq!(
        one.comments_on(&post).len(),
        settled.len(),
        "none after two days"
    );
}

#[test]
fn exact_tests_turn_the_arrivals_off_and_add_their_own() {
    let (sim, post) = fresh_post(Platform::Instagram);
    sim.set_comments_auto(false);
    sim.advance_clock(Duration::days(2));
    assert!(sim.comments_on(&post).is_empty());
    let id = sim.add_comment(Platform::Instagram, &post, "ana", "Is it broken?");
    let all = sim.comments_on(&post);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id, id);
    assert_eq!(all[0].post_id, post);
    assert!(!all[0].by_account && !all[0].hidden && !all[0].deleted);
    sim.set_comments_auto(true);
    assert!(sim.comments_on(&post).len() > 1);
}

#[test]
fn ids_take_the_platforms_shapes() {
    let (sim, post) = fresh_post(Platform::LinkedIn);
    sim.set_comments_auto(false);
    let id = sim.add_comment(Platform::LinkedIn, &post, "Noor", "Hi");
    assert!(id.starts_with(&format!("urn:li:comment:({post},")), "{id}");
    let (sim, post) = fresh_post(Platform::Facebook);
    sim.set_comments_auto(false);
    let id = sim.add_comment(Platform::Facebook, &post, "Ana", "Hi");
    let number = post.rsplit('_').next().unwrap();
    assert!(id.starts_with(&format!("{number}_")), "{id}");
    let (sim, post) = fresh_post(Platform::X);
    let id = sim.add_comment(Platform::X, &post, "ana", "Hi");
    assert!(id.parse::<u64>().unwrap() > post.parse::<u64>().unwrap());
}
