//! The case study of SPEC §2–§3: the partnership and its plan, Ruby 2018 with figures that
//! reproduce the case study exactly, its quotes, and the 2019 round planned. Kept exactly
//! as it is: its figures are the product's proof.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::app::now;
use crate::db::schema::bookings;
use crate::db::AnyConnection;
use crate::domain::attendance::{self, RowInput};
use crate::domain::events::{self, EventInput};
use crate::domain::feedback::{self, FeedbackInput};
use crate::domain::input::Input;
use crate::domain::organisations::{self as orgs, OrganisationInput, PriorityInput, TargetInput};
use crate::domain::programmes::{self, ProgrammeInput};
use crate::domain::schools::{self, SchoolInput};
use crate::domain::types::{
    EventKind, EventStatus, Moderation, OrganisationKind, Phase, ProgrammeStatus, RespondentRole,
    TargetMeasure, VenueKind,
};
use crate::domain::venues::{self, VenueInput};
use crate::domain::Actor;
use crate::error::AppResult;

pub const PRIORITIES: [(&str, &str); 5] = [
    ("Protecting vulnerable people", "To help safeguard people against being exploited and abused and support those with mental health problems."),
    ("Substance abuse and drug supply", "Raise awareness amongst young people and reduce the number of bad decisions made by improving their decision making."),
    ("Violent crime", "To reduce the number of people affected by alcohol related crime."),
    ("Domestic abuse", "Protect our communities against domestic abuse through education and support."),
    ("Antisocial behaviour", "To work with the local focus hubs to reduce anti-social behaviour where it occurs."),
];

/// The zone the demo's times are told in (its events never clash, so this is only words).
const DEMO_ZONE: chrono_tz::Tz = chrono_tz::Europe::London;

/// (name, URN, district, phase, postcode, pupils)
const SCHOOLS: [(&str, i32, &str, Phase, &str, i32); 20] = [
    (
        "Kent Valley Academy",
        912001,
        "South Lakeland",
        Phase::Secondary,
        "LA9 6AA",
        1180,
    ),
    (
        "Fellside High School",
        912002,
        "South Lakeland",
        Phase::Secondary,
        "LA9 7BB",
        960,
    ),
    (
        "Lakes Community School",
        912003,
        "South Lakeland",
        Phase::Secondary,
        "LA23 1CC",
        870,
    ),
    (
        "Walney Academy",
        912004,
        "Barrow-in-Furness",
        Phase::Secondary,
        "LA14 3DD",
        1020,
    ),
    (
        "Furness Park School",
        912005,
        "Barrow-in-Furness",
        Phase::Secondary,
        "LA13 9EE",
        1150,
    ),
    (
        "Priory High School",
        912006,
        "Barrow-in-Furness",
        Phase::Secondary,
        "LA14 5FF",
        890,
    ),
    (
        "Cartmel Peninsula School",
        912007,
        "South Lakeland",
        Phase::AllThrough,
        "LA11 6GG",
        740,
    ),
    (
        "Ulverston Victoria Academy",
        912008,
        "South Lakeland",
        Phase::Secondary,
        "LA12 0HH",
        1230,
    ),
    (
        "Millom Castle School",
        912009,
        "Copeland",
        Phase::AllThrough,
        "LA18 4JJ",
        650,
    ),
    (
        "Heron Hill School",
        912010,
        "South Lakeland",
        Phase::Secondary,
        "LA9 5KK",
        820,
    ),
    (
        "Dalton St Mary's School",
        912011,
        "Barrow-in-Furness",
        Phase::Secondary,
        "LA15 8LL",
        700,
    ),
    (
        "Sedbergh Fell School",
        912012,
        "South Lakeland",
        Phase::Secondary,
        "LA10 5MM",
        480,
    ),
    (
        "Grange Sands Academy",
        912013,
        "South Lakeland",
        Phase::Secondary,
        "LA11 7NN",
        560,
    ),
    (
        "Askam Moor School",
        912014,
        "Barrow-in-Furness",
        Phase::Secondary,
        "LA16 7PP",
        610,
    ),
    (
        "Kirkby Lonsdale School",
        912015,
        "South Lakeland",
        Phase::Secondary,
        "LA6 2QQ",
        690,
    ),
    (
        "Windermere Lakeside School",
        912016,
        "South Lakeland",
        Phase::Secondary,
        "LA23 3RR",
        720,
    ),
    (
        "Burneside Beck School",
        912017,
        "South Lakeland",
        Phase::Secondary,
        "LA9 6SS",
        530,
    ),
    (
        "Roose Valley Academy",
        912018,
        "Barrow-in-Furness",
        Phase::Secondary,
        "LA13 0TT",
        840,
    ),
    (
        "Coniston Water School",
        912019,
        "South Lakeland",
        Phase::AllThrough,
        "LA21 8UU",
        390,
    ),
    (
        "Haverigg Shore School",
        912020,
        "Copeland",
        Phase::Secondary,
        "LA18 4VV",
        450,
    ),
];

/// Pupils and staff at each of the nine in-school performances (1,400 + 120 = 1,520).
const IN_SCHOOL: [(i32, i32); 9] = [
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

fn at(date: (i32, u32, u32), hour: u32, minute: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(date.0, date.1, date.2)
        .and_then(|d| d.and_hms_opt(hour, minute, 0))
        .unwrap_or_default()
}

fn event(
    kind: EventKind,
    school: Option<i32>,
    venue: Option<i32>,
    start: NaiveDateTime,
    minutes: i64,
    status: EventStatus,
    capacity: Option<i32>,
) -> EventInput {
    EventInput {
        kind,
        starts_at: start,
        ends_at: start + chrono::Duration::minutes(minutes),
        school_id: school,
        venue_id: venue,
        capacity,
        needs_approval: false,
        status,
        title: String::new(),
        joining: Default::default(),
    }
}

fn row(school: Option<i32>, group: Option<&str>, pupils: i32, staff: i32, other: i32) -> RowInput {
    RowInput {
        school_id: school,
        group: group.map(str::to_string),
        pupils,
        staff,
        other,
    }
}

/// What the case study made, for the rest of the demo to build on.
pub struct CaseStudy {
    pub organisation_id: i32,
    pub priority_ids: Vec<i32>,
    pub school_ids: Vec<i32>,
    pub brewery_id: i32,
    pub ruby_id: i32,
    pub county_lines_id: i32,
}

/// The partnership and its plan, the twenty schools, the Brewery Arts Centre, Ruby 2018
/// with its figures and quotes, and County Lines 2019 as planned (in the caller's
/// transaction).
pub fn load(conn: &mut AnyConnection, actor: &Actor) -> AppResult<CaseStudy> {
    let org = orgs::create(
        conn,
        actor,
        OrganisationInput {
            name: "South Cumbria Community Safety Partnership".into(),
            kind: OrganisationKind::Partnership,
        },
    )?;
    let mut priority_ids = Vec::new();
    for (title, aims) in PRIORITIES {
        let p = orgs::add_priority(
            conn,
            actor,
            org.id,
            PriorityInput {
                title: title.into(),
                aims: aims.into(),
            },
        )?;
        priority_ids.push(p.id);
    }
    orgs::add_target(
        conn,
        actor,
        priority_ids[1],
        TargetInput {
            measure: TargetMeasure::Schools,
            value: 10,
            description: "ATiC project: performances and workshops in ten schools in South Cumbria"
                .into(),
        },
    )?;
    let mut school_ids = Vec::new();
    for (name, urn, district, phase, postcode, pupils) in SCHOOLS {
        let s = schools::create(
            conn,
            actor,
            SchoolInput {
                name: name.into(),
                urn: Some(urn),
                local_authority: "Westmorland and Furness".into(),
                district: district.into(),
                phase,
                postcode: postcode.into(),
                pupils: Some(pupils),
                fsm_percent: None,
                town: String::new(),
                contact_email: Some(super::register::office_address(name)),
            },
        )?;
        school_ids.push(s.id);
    }
    let brewery = venues::create(
        conn,
        actor,
        VenueInput {
            name: "Brewery Arts Centre".into(),
            kind: VenueKind::ArtsCentre,
            postcode: "LA9 4HE".into(),
            capacity: Some(250),
        },
    )?;

    let ruby = programmes::create(
        conn,
        actor,
        ProgrammeInput {
            title: "Ruby".into(),
            year: 2018,
            theme: "The pressures facing young people, based on real life stories".into(),
            organisation_id: Some(org.id),
            priority_id: Some(priority_ids[0]),
            starts_on: NaiveDate::from_ymd_opt(2018, 1, 15),
            ends_on: NaiveDate::from_ymd_opt(2018, 3, 30),
            target_schools: Some(15),
            target_audience: Some(1800),
            target_events: Some(11),
            status: ProgrammeStatus::Completed,
        },
    )?;
    let statements = [
        "I know how to help a friend who is being pressured",
        "I know where to get help if something worries me",
        "I feel able to talk about what I saw with my friends",
    ];
    let mut statement_ids = Vec::new();
    for text in statements {
        statement_ids.push(
            feedback::add_statement(conn, actor, ruby.id, &Input::from_pairs([("text", text)]))?.id,
        );
    }
    let days = [
        (2018, 1, 22),
        (2018, 1, 24),
        (2018, 1, 29),
        (2018, 1, 31),
        (2018, 2, 5),
        (2018, 2, 7),
        (2018, 2, 26),
        (2018, 2, 28),
        (2018, 3, 5),
    ];
    for (i, (pupils, staff)) in IN_SCHOOL.iter().enumerate() {
        let school = school_ids[i];
        let show = events::create(
            conn,
            actor,
            DEMO_ZONE,
            ruby.id,
            event(
                EventKind::Performance,
                Some(school),
                None,
                at(days[i], 9, 30),
                60,
                EventStatus::Confirmed,
                Some(pupils + staff),
            ),
        )?;
        attendance::replace(
            conn,
            actor,
            show.id,
            vec![row(Some(school), None, *pupils, *staff, 0)],
        )?;
        events::complete(conn, actor, show.id)?;
        let workshop = events::create(
            conn,
            actor,
            DEMO_ZONE,
            ruby.id,
            event(
                EventKind::Workshop,
                Some(school),
                None,
                at(days[i], 10, 45),
                75,
                EventStatus::Confirmed,
                Some(35),
            ),
        )?;
        attendance::replace(
            conn,
            actor,
            workshop.id,
            vec![row(Some(school), None, 30, 2, 0)],
        )?;
        events::complete(conn, actor, workshop.id)?;
    }
    let special = events::create(
        conn,
        actor,
        DEMO_ZONE,
        ruby.id,
        event(
            EventKind::Performance,
            None,
            Some(brewery.id),
            at((2018, 3, 15), 19, 0),
            90,
            EventStatus::Open,
            Some(250),
        ),
    )?;
    attendance::replace(
        conn,
        actor,
        special.id,
        vec![
            row(Some(school_ids[9]), None, 45, 5, 0),
            row(Some(school_ids[10]), None, 38, 4, 0),
            row(None, Some("public"), 0, 0, 43),
        ],
    )?;
    events::complete(conn, actor, special.id)?;
    let stream = events::create(
        conn,
        actor,
        DEMO_ZONE,
        ruby.id,
        event(
            EventKind::LiveStream,
            None,
            None,
            at((2018, 3, 22), 13, 30),
            75,
            EventStatus::Open,
            None,
        ),
    )?;
    attendance::replace(
        conn,
        actor,
        stream.id,
        [(11, 60), (12, 55), (13, 58), (14, 62), (15, 55)]
            .iter()
            .map(|(i, p)| row(Some(school_ids[*i]), None, *p, 0, 0))
            .collect(),
    )?;
    events::complete(conn, actor, stream.id)?;

    let quotes = [
        (RespondentRole::Teacher, school_ids[0], "Really enjoyable to watch while being moving and insightful. It will provide some great opportunities for discussion.", 5, [5, 4, 5]),
        (RespondentRole::Pupil, school_ids[2], "The play was the most eye-opening, realistic story I have heard. This has showed me how to help my friends and myself.", 5, [5, 5, 4]),
    ];
    for (role, school, quote, rating, answers) in quotes {
        let f = feedback::create(
            conn,
            Some(actor),
            "lead",
            FeedbackInput {
                programme_id: ruby.id,
                event_id: None,
                school_id: Some(school),
                booking_id: None,
                link_id: None,
                role,
                quote: quote.into(),
                rating: Some(rating),
                consent: true,
                answers: statement_ids.iter().copied().zip(answers).collect(),
            },
        )?;
        feedback::moderate(conn, actor, f.id, Some(Moderation::Approved), Some(true))?;
    }

    let county = programmes::create(conn, actor, ProgrammeInput {
        title: "County Lines".into(),
        year: 2019,
        theme: "Drug use and County Lines: how young people can stay safe and make the right choices".into(),
        organisation_id: Some(org.id),
        priority_id: Some(priority_ids[1]),
        starts_on: NaiveDate::from_ymd_opt(2019, 1, 14),
        ends_on: NaiveDate::from_ymd_opt(2019, 7, 19),
        target_schools: Some(10),
        target_audience: None,
        target_events: Some(20),
        status: ProgrammeStatus::Planned,
    })?;
    let booked = [
        (16, (2019, 2, 4)),
        (17, (2019, 2, 6)),
        (18, (2019, 2, 11)),
        (19, (2019, 2, 13)),
    ];
    for (i, day) in booked {
        let school = school_ids[i];
        let show = events::create(
            conn,
            actor,
            DEMO_ZONE,
            county.id,
            event(
                EventKind::Performance,
                Some(school),
                None,
                at(day, 9, 30),
                60,
                EventStatus::Confirmed,
                Some(180),
            ),
        )?;
        events::create(
            conn,
            actor,
            DEMO_ZONE,
            county.id,
            event(
                EventKind::Workshop,
                Some(school),
                None,
                at(day, 10, 45),
                75,
                EventStatus::Confirmed,
                Some(35),
            ),
        )?;
        let stamp = now();
        diesel::insert_into(bookings::table)
            .values((
                bookings::event_id.eq(show.id),
                bookings::school_id.eq(school),
                bookings::status.eq("confirmed"),
                bookings::pupils.eq(150),
                bookings::staff.eq(10),
                bookings::year_groups.eq("Years 9 and 10"),
                bookings::created_by.eq(actor.user_id),
                bookings::created_at.eq(stamp),
                bookings::updated_at.eq(stamp),
            ))
            .execute(conn)?;
    }

    Ok(CaseStudy {
        organisation_id: org.id,
        priority_ids,
        school_ids,
        brewery_id: brewery.id,
        ruby_id: ruby.id,
        county_lines_id: county.id,
    })
}
