//! The counting rules, case by case, without a database.

use chrono::{NaiveDate, NaiveDateTime};

use super::narrative::{number, write};
use super::*;
use crate::domain::types::{EventKind, EventStatus};

fn at(day: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2018, 3, day)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap()
}

fn now() -> NaiveDateTime {
    at(28)
}

fn event(id: i32, kind: EventKind, at_school: bool) -> EventFact {
    EventFact {
        id,
        kind,
        status: EventStatus::Completed,
        starts_at: at(1),
        at_school,
        venue_name: None,
    }
}

fn school(id: i32, pupils: i64, staff: i64, other: i64) -> AttendanceFact {
    AttendanceFact {
        school_id: Some(id),
        pupils,
        staff,
        other,
    }
}

fn tally(items: &[(EventFact, Vec<AttendanceFact>)]) -> Counts {
    let mut t = Tally::new(now());
    for (e, rows) in items {
        t.add_event(e);
        for r in rows {
            t.add_attendance(e, r);
        }
    }
    t.finish()
}

/// The case study of SPEC §3, as the demo loads it.
pub fn case_study() -> Counts {
    let mut items = Vec::new();
    // Nine in-school visits: a performance (audience) and a workshop (participants) each.
    let audiences = [
        (160, 14),
        (150, 13),
        (155, 14),
        (140, 12),
        (165, 14),
        (150, 13),
        (160, 13),
        (170, 14),
        (150, 13),
    ];
    for (i, (pupils, staff)) in audiences.iter().enumerate() {
        let id = i as i32 + 1;
        items.push((
            event(id, EventKind::Performance, true),
            vec![school(id, *pupils, *staff, 0)],
        ));
        items.push((
            event(100 + id, EventKind::Workshop, true),
            vec![school(id, 30, 2, 0)],
        ));
    }
    // Brewery Arts Centre: two schools and the public.
    let mut venue = event(50, EventKind::Performance, false);
    venue.venue_name = Some("Brewery Arts Centre".into());
    items.push((
        venue,
        vec![
            school(10, 45, 5, 0),
            school(11, 38, 4, 0),
            AttendanceFact {
                school_id: None,
                pupils: 0,
                staff: 0,
                other: 43,
            },
        ],
    ));
    // The live stream with five schools.
    items.push((
        event(60, EventKind::LiveStream, false),
        vec![
            school(12, 60, 0, 0),
            school(13, 55, 0, 0),
            school(14, 58, 0, 0),
            school(15, 62, 0, 0),
            school(16, 55, 0, 0),
        ],
    ));
    tally(&items)
}

#[test]
fn case_study_reproduces_spec_table() {
    let c = case_study();
    assert_eq!(
        c.by_delivery.in_school,
        Figures {
            events: 9,
            schools: 9,
            audience: 1520,
            pupils: 1400
        }
    );
    assert_eq!(
        (
            c.by_delivery.venue.events,
            c.by_delivery.venue.schools,
            c.by_delivery.venue.audience
        ),
        (1, 2, 135)
    );
    assert_eq!(
        (
            c.by_delivery.live_stream.events,
            c.by_delivery.live_stream.schools,
            c.by_delivery.live_stream.audience
        ),
        (1, 5, 290)
    );
    assert_eq!(
        (c.total.events, c.total.schools, c.total.audience),
        (11, 16, 1945)
    );
    assert_eq!(
        c.workshops,
        Workshops {
            events: 9,
            participants: 288
        }
    );
    assert_eq!(
        write("Ruby", Some(2018), &c),
        "Ruby and its workshop were taken to nine schools, with 1,520 audience members in 2018. \
         In addition, two schools were amongst 135 audience members at a performance at the Brewery Arts Centre. \
         Five schools and 290 pupils experienced the performance by live stream."
    );
}

#[test]
fn a_school_in_two_modes_counts_once_in_the_total() {
    let mut venue = event(2, EventKind::Performance, false);
    venue.venue_name = Some("Hall".into());
    let c = tally(&[
        (
            event(1, EventKind::Performance, true),
            vec![school(7, 100, 5, 0)],
        ),
        (venue, vec![school(7, 20, 2, 0)]),
        (
            event(3, EventKind::LiveStream, false),
            vec![school(7, 30, 0, 0)],
        ),
    ]);
    assert_eq!(
        (
            c.by_delivery.in_school.schools,
            c.by_delivery.venue.schools,
            c.by_delivery.live_stream.schools
        ),
        (1, 1, 1)
    );
    assert_eq!(c.total.schools, 1);
    assert_eq!(c.total.audience, 157);
    assert_eq!(c.schools.len(), 1);
    assert_eq!(
        (
            c.schools[0].in_school,
            c.schools[0].venue,
            c.schools[0].live_stream,
            c.schools[0].total
        ),
        (105, 22, 30, 157)
    );
}

#[test]
fn cancelled_draft_open_and_future_events_count_nothing() {
    let mut items = Vec::new();
    for (i, status) in [
        EventStatus::Cancelled,
        EventStatus::Draft,
        EventStatus::Open,
        EventStatus::Confirmed,
    ]
    .into_iter()
    .enumerate()
    {
        let mut e = event(i as i32, EventKind::Performance, true);
        e.status = status;
        items.push((e, vec![school(1, 100, 10, 0)]));
    }
    // Marked completed but dated after now: not counted.
    let mut future = event(9, EventKind::Performance, true);
    future.starts_at = at(30);
    items.push((future, vec![school(2, 100, 10, 0)]));
    let c = tally(&items);
    assert_eq!(c.total, Figures::default());
    assert!(c.schools.is_empty());
    assert_eq!(
        write("Ruby", Some(2018), &c),
        "Ruby has no completed performances to report in 2018 yet."
    );
}

#[test]
fn workshops_are_participants_never_audience() {
    let c = tally(&[(
        event(1, EventKind::Workshop, true),
        vec![school(3, 30, 2, 1)],
    )]);
    assert_eq!(
        c.workshops,
        Workshops {
            events: 1,
            participants: 33
        }
    );
    assert_eq!(c.total, Figures::default());
    assert_eq!(
        c.total.schools, 0,
        "a school that only had a workshop is not reached"
    );
    assert!(c.schools.is_empty());
}

#[test]
fn zero_people_does_not_reach_a_school() {
    let c = tally(&[(
        event(1, EventKind::Performance, true),
        vec![school(3, 0, 0, 0), school(4, 1, 0, 0)],
    )]);
    assert_eq!(c.total.schools, 1);
    assert_eq!(c.by_delivery.in_school.events, 1);
    assert_eq!(
        c.schools.iter().map(|s| s.school_id).collect::<Vec<_>>(),
        vec![4]
    );
}

#[test]
fn public_groups_add_audience_but_no_school() {
    let mut venue = event(1, EventKind::Performance, false);
    venue.venue_name = Some("Brewery Arts Centre".into());
    let c = tally(&[(
        venue,
        vec![AttendanceFact {
            school_id: None,
            pupils: 0,
            staff: 0,
            other: 40,
        }],
    )]);
    assert_eq!(
        c.by_delivery.venue,
        Figures {
            events: 1,
            schools: 0,
            audience: 40,
            pupils: 0
        }
    );
    assert_eq!(
        write("Ruby", Some(2018), &c),
        "40 audience members saw a performance at the Brewery Arts Centre in 2018."
    );
}

#[test]
fn pupils_are_reported_on_their_own() {
    let c = tally(&[(
        event(1, EventKind::Performance, true),
        vec![school(1, 90, 6, 4)],
    )]);
    assert_eq!((c.total.audience, c.total.pupils), (100, 90));
}

#[test]
fn numbers_are_words_up_to_ten_and_thousands_are_separated() {
    assert_eq!(number(1), "one");
    assert_eq!(number(10), "ten");
    assert_eq!(number(11), "11");
    assert_eq!(number(1520), "1,520");
    assert_eq!(number(1_234_567), "1,234,567");
    assert_eq!(number(999), "999");
}

#[test]
fn singular_sentences() {
    let c = tally(&[(
        event(1, EventKind::Performance, true),
        vec![school(1, 1, 0, 0)],
    )]);
    assert_eq!(
        write("Ruby", Some(2019), &c),
        "Ruby was taken to one school, with one audience member in 2019."
    );
}

#[test]
fn progress_against_targets() {
    let c = case_study();
    let p = progress(&c, Some(10), None, Some(0));
    assert_eq!(p.len(), 2);
    assert_eq!(
        (p[0].measure, p[0].target, p[0].achieved, p[0].percent),
        ("schools", 10, 16, Some(160))
    );
    assert_eq!(p[1].percent, None);
    let nine_of_ten = progress(
        &tally(&[(
            event(1, EventKind::Performance, true),
            (1..=9).map(|i| school(i, 10, 0, 0)).collect(),
        )]),
        Some(10),
        None,
        None,
    );
    assert_eq!(nine_of_ten[0].percent, Some(90));
    let two_of_three = progress(
        &tally(&[(
            event(1, EventKind::Performance, true),
            vec![school(1, 1, 0, 0), school(2, 1, 0, 0)],
        )]),
        Some(3),
        None,
        None,
    );
    assert_eq!(two_of_three[0].percent, Some(67));
}

#[test]
fn group_narratives_speak_of_productions() {
    let c = case_study();
    let text = super::narrative::write_group("The productions of 2018", None, &c);
    assert!(text.starts_with("The productions of 2018 and their workshops were taken to nine schools, with 1,520 audience members."), "{text}");
    let empty = tally(&[]);
    assert_eq!(
        super::narrative::write_group("The productions of 2030", None, &empty),
        "The productions of 2030 have no completed performances to report yet."
    );
}

#[test]
fn event_figures_follow_the_same_rules() {
    let sums = AttendanceFact {
        school_id: None,
        pupils: 100,
        staff: 8,
        other: 2,
    };
    let show = event(1, EventKind::Performance, true);
    let f = event_figures(&show, now(), 1, sums).unwrap();
    assert_eq!((f.audience, f.participants), (110, 0));
    let ws = event(2, EventKind::Workshop, true);
    assert_eq!(
        event_figures(&ws, now(), 1, sums).unwrap().participants,
        110
    );
    let mut cancelled = event(3, EventKind::Performance, true);
    cancelled.status = EventStatus::Cancelled;
    assert!(event_figures(&cancelled, now(), 1, sums).is_none());
}
