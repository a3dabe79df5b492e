//! The partnership's current round, dated from the day the demo is loaded, so that every
//! demo account has something to do: tour dates over the coming weeks, a venue performance
//! with places left and a workshop already full, a performance that needs approval, a live
//! stream; requests waiting for the lead; visits already held (one of them at the demo
//! school, with its feedback link live and answers coming in, one still waiting for its
//! attendance). Everything is made through the scheduling operations a person would use,
//! except the visits held before today, which are recorded as history.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Weekday};

use crate::app::Turn;
use crate::db::AnyConnection;
use crate::domain::attendance::{self, RowInput};
use crate::domain::events::{self, EventInput};
use crate::domain::feedback;
use crate::domain::feedback_links;
use crate::domain::input::Input;
use crate::domain::programmes::{self, ProgrammeInput};
use crate::domain::schedule::event_input::Joining;
use crate::domain::schedule::{self, bookings::BookingInput, visits};
use crate::domain::types::{
    BookingId, EventId, EventKind, EventStatus, ProgrammeStatus, SlotId, VenueKind,
};
use crate::domain::venues::{self, VenueInput};
use crate::domain::{Actor, Rules};
use crate::error::{AppError, AppResult};

use super::case_study::CaseStudy;

pub const TITLE: &str = "Crossing the Line";

/// What the round made that the demo's hints point at.
pub struct Current {
    pub programme_id: i32,
    /// The Brewery Arts Centre performance the demo school is invited to book.
    pub brewery_show_id: i32,
    /// The visit held at Kent Valley Academy whose attendance is still to be entered.
    pub awaiting_attendance_id: i32,
    /// The demo school's visit, held, with its feedback link live.
    pub demo_school_booking_id: i32,
    /// The secret of that link (shown once, when the demo loads).
    pub feedback_token: String,
}

/// A day schools are open: a weekday outside the Christmas and summer holidays (roughly
/// England's; the demo never tours when schools are closed).
fn school_day(day: NaiveDate) -> bool {
    let (month, date) = (day.month(), day.day());
    let christmas = (month == 12 && date >= 20) || (month == 1 && date <= 4);
    let summer = (month == 7 && date >= 22) || month == 8 || (month == 9 && date <= 2);
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !christmas && !summer
}

/// The Mondays of the first `n` weeks after this one whose five weekdays are all school
/// days.
fn school_weeks(today: NaiveDate, n: usize) -> Vec<NaiveDate> {
    let monday = today - Duration::days(today.weekday().num_days_from_monday().into());
    (1..)
        .map(|k| monday + Duration::weeks(k))
        .filter(|m| (0..5).all(|d| school_day(*m + Duration::days(d))))
        .take(n)
        .collect()
}

/// The day of `weekday` in the week beginning on `monday`.
fn on(monday: NaiveDate, weekday: Weekday) -> NaiveDate {
    monday + Duration::days(weekday.num_days_from_monday().into())
}

/// The last school day before `day` that `also` accepts.
fn last_school_day_before(day: NaiveDate, also: impl Fn(NaiveDate) -> bool) -> NaiveDate {
    let mut day = day - Duration::days(1);
    while !(school_day(day) && also(day)) {
        day -= Duration::days(1);
    }
    day
}

/// The round's days, from the day the demo is loaded: all school days, the past ones
/// before today and the coming ones after it.
#[derive(Debug)]
struct Dates {
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    walney_visit: NaiveDate,
    demo_school_visit: NaiveDate,
    kent_visit: NaiveDate,
    /// Tuesday and Thursday mornings of the coming six school weeks.
    tour_dates: Vec<NaiveDate>,
    brewery: NaiveDate,
    hall: NaiveDate,
    stream: NaiveDate,
}

impl Dates {
    fn from(today: NaiveDate) -> Dates {
        // Touring weeks ahead; visits held on the last school days before today.
        let ahead = school_weeks(today, 6);
        let kent_visit = last_school_day_before(today, |_| true);
        let touring = |d: NaiveDate| matches!(d.weekday(), Weekday::Tue | Weekday::Thu);
        let demo_school_visit =
            last_school_day_before(kent_visit.min(today - Duration::days(4)), touring);
        let walney_visit = last_school_day_before(demo_school_visit - Duration::days(10), touring);
        Dates {
            starts_on: walney_visit - Duration::weeks(1),
            ends_on: on(ahead[5], Weekday::Fri),
            walney_visit,
            demo_school_visit,
            kent_visit,
            tour_dates: ahead
                .iter()
                .flat_map(|m| [on(*m, Weekday::Tue), on(*m, Weekday::Thu)])
                .collect(),
            brewery: on(ahead[0], Weekday::Wed),
            hall: on(ahead[2], Weekday::Wed),
            stream: on(ahead[3], Weekday::Fri),
        }
    }
}

fn places(school: i32, pupils: i32, staff: i32, years: &str) -> BookingInput {
    BookingInput {
        school_id: Some(school),
        pupils,
        staff,
        year_groups: years.into(),
        notes: String::new(),
        access_needs: String::new(),
    }
}

fn row(school: i32, pupils: i32, staff: i32) -> RowInput {
    RowInput {
        school_id: Some(school),
        group: None,
        pupils,
        staff,
        other: 0,
    }
}

/// Loads the round (in the caller's transaction). `lead` acts as the company's lead,
/// `school` as the demo school's office.
pub fn load(
    conn: &mut AnyConnection,
    lead: &Actor,
    school: &Actor,
    rules: &Rules,
    case: &CaseStudy,
    today: NaiveDate,
) -> AppResult<Current> {
    let tz = rules.time_zone;
    let at = |day: NaiveDate, hour: u32, minute: u32| -> NaiveDateTime {
        let local = day.and_hms_opt(hour, minute, 0).unwrap_or_default();
        tz.from_local_datetime(&local)
            .earliest()
            .map(|t| t.naive_utc())
            .unwrap_or(local)
    };
    let s = &case.school_ids;
    let d = Dates::from(today);
    let demo_school = school.school_id.ok_or(AppError::Forbidden)?;

    let programme = programmes::create(
        conn,
        lead,
        ProgrammeInput {
            title: TITLE.into(),
            // The round is the school year's: named by the year it began.
            year: d.starts_on.year(),
            theme: "County Lines retold for a new year group: how exploitation starts, and how young people get out".into(),
            organisation_id: Some(case.organisation_id),
            priority_id: Some(case.priority_ids[1]),
            starts_on: Some(d.starts_on),
            ends_on: Some(d.ends_on),
            target_schools: Some(10),
            target_audience: Some(1500),
            target_events: Some(20),
            status: ProgrammeStatus::Active,
        },
    )?;
    let p = programme.id;
    let mut statements = Vec::new();
    for text in [
        "I know how young people are drawn into county lines",
        "I know who I could talk to if I or a friend were worried",
        "I feel more confident saying no",
    ] {
        statements
            .push(feedback::add_statement(conn, lead, p, &Input::from_pairs([("text", text)]))?.id);
    }

    // Visits held before today, recorded as history.
    let held = |conn: &mut AnyConnection,
                school_id: i32,
                day: NaiveDate,
                booked: (i32, i32),
                years: &str|
     -> AppResult<(i32, Vec<i32>)> {
        let (b, events) = schedule::record_held_visit(
            conn,
            lead,
            rules,
            p,
            school_id,
            day,
            visits::Session::Morning,
            &places(school_id, booked.0, booked.1, years),
        )?;
        Ok((b.id, events))
    };
    let record = |conn: &mut AnyConnection, events: &[i32], school_id: i32, show: (i32, i32)| {
        for (i, event) in events.iter().enumerate() {
            let (pupils, staff) = if i == 0 { show } else { (30, 2) };
            attendance::replace(conn, lead, *event, vec![row(school_id, pupils, staff)])?;
            events::complete(conn, lead, *event)?;
        }
        AppResult::Ok(())
    };
    let (walney_booking, walney) = held(conn, s[3], d.walney_visit, (150, 12), "Year 9")?;
    record(conn, &walney, s[3], (146, 12))?;
    // Walney Academy was asked afterwards and says a few more came than the lead counted:
    // an answer for the lead to accept or set aside.
    let walney_show = walney.first().copied().ok_or(AppError::NotFound)?;
    crate::domain::answers::record_for_demo(conn, walney_show, walney_booking, s[3], (150, 12, 0))?;
    // A teacher at Heron Hill School asked for an account from the public page.
    crate::domain::school_requests::record_for_demo(
        conn,
        s[9],
        "Priya Shah",
        "p.shah@heron-hill-school.example.org",
    )?;
    let (demo_booking, demo_events) = held(
        conn,
        demo_school,
        d.demo_school_visit,
        (120, 8),
        "Years 9 and 10",
    )?;
    record(conn, &demo_events, demo_school, (118, 8))?;
    let (_, kent) = held(conn, s[0], d.kent_visit, (150, 10), "Year 10")?;
    let awaiting_attendance_id = kent.first().copied().ok_or(AppError::NotFound)?;

    // The demo school's teacher made a feedback link; three pupils have answered.
    let (_, token) = feedback_links::make_link(conn, school, demo_booking)?;
    for (n, (rating, quote, consent, answers)) in [
        (
            5,
            "I didn't know it could start with someone just being nice to you. Now I do.",
            true,
            ["5", "5", "4"],
        ),
        (
            4,
            "The bit in the car park felt real. I'd tell a teacher now.",
            true,
            ["4", "5", "4"],
        ),
        (3, "", false, ["3", "4", "3"]),
    ]
    .into_iter()
    .enumerate()
    {
        let mut pairs = vec![
            ("role".to_string(), "pupil".to_string()),
            ("rating".to_string(), rating.to_string()),
            ("quote".to_string(), quote.to_string()),
        ];
        if consent {
            pairs.push(("consent".into(), "on".into()));
        }
        for (id, a) in statements.iter().zip(answers) {
            pairs.push((format!("outcome_{id}"), a.to_string()));
        }
        feedback_links::answer(
            conn,
            &token,
            &Input::from_pairs(pairs),
            &format!("demo-{n}"),
        )?;
    }

    // Tour dates: Tuesday and Thursday mornings of the coming six school weeks.
    let mut slots = Vec::new();
    for day in &d.tour_dates {
        {
            let day = day.to_string();
            let slot = visits::create(
                conn,
                lead,
                p,
                &Input::from_pairs([("day", day.as_str()), ("session", "morning")]),
                tz,
            )?;
            slots.push(slot.id);
        }
    }
    // Lakes Community School's visit is confirmed; two schools wait for an answer.
    let lakes = schedule::request_visit(
        conn,
        lead,
        rules,
        SlotId(slots[0]),
        places(s[2], 120, 8, "Year 9"),
    )?;
    schedule::confirm(
        conn,
        lead,
        rules,
        BookingId(lakes.id),
        "We look forward to seeing you.",
    )?;
    schedule::request_visit(
        conn,
        lead,
        rules,
        SlotId(slots[3]),
        places(s[1], 180, 12, "Years 9 and 10"),
    )?;
    schedule::request_visit(
        conn,
        lead,
        rules,
        SlotId(slots[4]),
        places(s[14], 90, 6, "Year 10"),
    )?;

    // At the Brewery Arts Centre: a performance with places left, and a workshop after
    // it, already full (35 of 35), with a school on its waiting list.
    let brewery_day = d.brewery;
    let show = schedule::create_event(
        conn,
        lead,
        rules,
        p,
        EventInput {
            kind: EventKind::Performance,
            starts_at: at(brewery_day, 13, 30),
            ends_at: at(brewery_day, 15, 0),
            school_id: None,
            venue_id: Some(case.brewery_id),
            capacity: Some(250),
            needs_approval: false,
            status: EventStatus::Open,
            title: String::new(),
            joining: Default::default(),
        },
    )?;
    let workshop = schedule::create_event(
        conn,
        lead,
        rules,
        p,
        EventInput {
            kind: EventKind::Workshop,
            starts_at: at(brewery_day, 15, 15),
            ends_at: at(brewery_day, 16, 30),
            school_id: None,
            venue_id: Some(case.brewery_id),
            capacity: Some(35),
            needs_approval: false,
            status: EventStatus::Open,
            title: "Workshop: making the right choices".into(),
            joining: Default::default(),
        },
    )?;
    for (event, school_id, pupils, staff) in [
        (show.id, s[5], 60, 4),
        (show.id, s[9], 45, 3),
        (workshop.id, s[7], 32, 3),
        (workshop.id, s[15], 30, 2),
    ] {
        schedule::book_event(
            conn,
            lead,
            rules,
            EventId(event),
            places(school_id, pupils, staff, "Year 9"),
            Turn::default(),
        )?;
    }

    // In Barrow, a performance whose places the company confirms one by one.
    let hall = venues::create(
        conn,
        lead,
        VenueInput {
            name: "Furness Civic Hall".into(),
            kind: VenueKind::Community,
            postcode: "LA14 2LD".into(),
            capacity: Some(300),
        },
    )?;
    let hall_day = d.hall;
    let approval = schedule::create_event(
        conn,
        lead,
        rules,
        p,
        EventInput {
            kind: EventKind::Performance,
            starts_at: at(hall_day, 13, 30),
            ends_at: at(hall_day, 15, 0),
            school_id: None,
            venue_id: Some(hall.id),
            capacity: Some(300),
            needs_approval: true,
            status: EventStatus::Open,
            title: String::new(),
            joining: Default::default(),
        },
    )?;
    schedule::book_event(
        conn,
        lead,
        rules,
        EventId(approval.id),
        places(s[4], 120, 8, "Year 9"),
        Turn::default(),
    )?;

    // A live stream for schools too far to travel, two booked already.
    let stream_day = d.stream;
    let stream = schedule::create_event(
        conn,
        lead,
        rules,
        p,
        EventInput {
            kind: EventKind::LiveStream,
            starts_at: at(stream_day, 14, 0),
            ends_at: at(stream_day, 15, 15),
            school_id: None,
            venue_id: None,
            capacity: None,
            needs_approval: false,
            status: EventStatus::Open,
            title: "Streamed performance, with questions to the cast".into(),
            joining: Joining {
                url: Some("https://stream.example.org/crossing-the-line".into()),
                notes: "Join ten minutes early. Access code: CTL-4821. Put questions for the cast in the chat.".into(),
            },
        },
    )?;
    for (school_id, pupils, staff) in [(s[8], 60, 3), (s[19], 45, 2)] {
        schedule::book_event(
            conn,
            lead,
            rules,
            EventId(stream.id),
            places(school_id, pupils, staff, "Years 8 and 9"),
            Turn::default(),
        )?;
    }

    Ok(Current {
        programme_id: p,
        brewery_show_id: show.id,
        awaiting_attendance_id,
        demo_school_booking_id: demo_booking,
        feedback_token: token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatever_the_day_it_loads_the_round_keeps_to_school_days() {
        let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
        for n in 0..(366 * 2) {
            let today = first + Duration::days(n);
            let d = Dates::from(today);
            let past = [d.walney_visit, d.demo_school_visit, d.kent_visit];
            let mut coming = d.tour_dates.clone();
            coming.extend([d.brewery, d.hall, d.stream]);
            for day in past.iter().chain(&coming) {
                assert!(school_day(*day), "{today}: {day} is not a school day");
                assert!(
                    (d.starts_on..=d.ends_on).contains(day),
                    "{today}: {day} outside the round"
                );
            }
            assert!(past.iter().all(|p| *p < today), "{today}: {d:?}");
            assert!(coming.iter().all(|c| *c > today), "{today}: {d:?}");
            // The three visits held are on three different days, oldest first.
            assert!(d.walney_visit < d.demo_school_visit, "{today}: {d:?}");
            assert!(d.demo_school_visit < d.kent_visit, "{today}: {d:?}");
            assert_eq!(d.tour_dates.len(), 12);
            // The demo school's visit is recent: within eight weeks, a summer holiday and all.
            assert!(
                (today - d.demo_school_visit).num_days() <= 56,
                "{today}: {d:?}"
            );
        }
        // Over Christmas nothing is offered.
        let d = Dates::from(NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default());
        assert!(d
            .tour_dates
            .iter()
            .all(|t| !(t.month() == 12 && t.day() >= 20)));
    }
}
