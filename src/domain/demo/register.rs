//! Register-like schools for the demo: fictional primaries, secondaries and special
//! schools of two districts, shaped like the national register's rows (URN, phase, town,
//! postcode, pupils on roll, free-school-meals %), so that lists, searches, pagination and
//! reach figures have something to show. Made by a seeded generator: the same every time.

use std::collections::BTreeSet;

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_xorshift::XorShiftRng;

use crate::db::AnyConnection;
use crate::domain::schools::{self, SchoolInput};
use crate::domain::types::Phase;
use crate::domain::Actor;
use crate::error::AppResult;

/// How many schools the generator makes (with the case study's twenty, three pages of 50).
pub const COUNT: usize = 120;

/// The first URN of the generated schools (the case study's are 912001–912020).
pub const FIRST_URN: i32 = 913001;

const SEED: u64 = 0x0075_7472_6561_6368;

/// A district: its name, its towns with their postcode areas, and the typical share of
/// pupils on free school meals there (Barrow's is higher).
struct District {
    name: &'static str,
    towns: &'static [(&'static str, &'static str)],
    fsm_mean: f64,
}

const DISTRICTS: [District; 2] = [
    District {
        name: "South Lakeland",
        towns: &[
            ("Kendal", "LA9"),
            ("Kendal", "LA9"),
            ("Windermere", "LA23"),
            ("Ulverston", "LA12"),
            ("Grange-over-Sands", "LA11"),
            ("Sedbergh", "LA10"),
            ("Kirkby Lonsdale", "LA6"),
            ("Milnthorpe", "LA7"),
            ("Ambleside", "LA22"),
            ("Staveley", "LA8"),
        ],
        fsm_mean: 12.0,
    },
    District {
        name: "Barrow-in-Furness",
        towns: &[
            ("Barrow-in-Furness", "LA14"),
            ("Barrow-in-Furness", "LA14"),
            ("Barrow-in-Furness", "LA13"),
            ("Walney", "LA14"),
            ("Dalton-in-Furness", "LA15"),
            ("Askam-in-Furness", "LA16"),
        ],
        fsm_mean: 26.0,
    },
];

/// Fictional place names the schools are called after.
const STEMS: [&str; 48] = [
    "Beckside",
    "Oakfield",
    "Hollins",
    "Greengate",
    "Brigsteer",
    "Mintsfeet",
    "Sandgate",
    "Thornfield",
    "Birkrigg",
    "Lowther Park",
    "Howgill",
    "Castle Mead",
    "Helme Chase",
    "Stainton",
    "Fairfield",
    "Moorside",
    "Rydal Brook",
    "Netherfield",
    "Brantfell",
    "Scout Scar",
    "Kentmere",
    "Sizergh",
    "Levens Bridge",
    "Holme Park",
    "Crook Hill",
    "Underbarrow",
    "Rusland",
    "Gawthwaite",
    "Hawcoat",
    "Newbarns",
    "Ormsgill",
    "Vickerstown",
    "Biggar Bank",
    "Rampside",
    "Lindal Moor",
    "Marton",
    "Ireleth",
    "Yarlside",
    "Abbotswood",
    "Tarn Hows",
    "Whinfell",
    "Ravenstown",
    "Low Furness",
    "Cark Sands",
    "Heversham",
    "Natland",
    "Oxenholme",
    "Dalegarth",
];

/// The kinds of school, with their names, pupils on roll and how common each is.
const KINDS: [(Phase, &str, (i32, i32), u32); 9] = [
    (Phase::Primary, "Primary School", (40, 420), 30),
    (Phase::Primary, "CE Primary School", (30, 240), 18),
    (Phase::Primary, "Community Primary School", (90, 420), 12),
    (Phase::Primary, "Infant and Nursery School", (60, 210), 6),
    (
        Phase::Primary,
        "St Mary's Catholic Primary School",
        (90, 240),
        4,
    ),
    (Phase::Secondary, "Academy", (450, 1400), 7),
    (Phase::Secondary, "High School", (400, 1200), 6),
    (Phase::Special, "School", (30, 160), 4),
    (Phase::AllThrough, "Church of England School", (300, 900), 3),
];

/// The generated schools, the same on every run.
pub fn schools() -> Vec<SchoolInput> {
    let mut rng = XorShiftRng::seed_from_u64(SEED);
    let weights: u32 = KINDS.iter().map(|k| k.3).sum();
    let mut names = BTreeSet::new();
    let mut out = Vec::with_capacity(COUNT);
    let mut stems = STEMS;
    stems.shuffle(&mut rng);
    let mut next_stem = 0usize;
    while out.len() < COUNT {
        let district = &DISTRICTS[out.len() % DISTRICTS.len()];
        let mut pick = rng.random_range(0..weights);
        let kind = KINDS
            .iter()
            .find(|k| {
                if pick < k.3 {
                    true
                } else {
                    pick -= k.3;
                    false
                }
            })
            .unwrap_or(&KINDS[0]);
        let stem = stems[next_stem % stems.len()];
        next_stem += 1;
        let name = if kind.1 == "St Mary's Catholic Primary School" {
            format!("St Mary's Catholic Primary School, {stem}")
        } else {
            format!("{stem} {}", kind.1)
        };
        if !names.insert(name.clone()) {
            continue;
        }
        let (town, area) = district.towns[rng.random_range(0..district.towns.len())];
        let letters = b"ABDEFGHJLNPQRSTUWXYZ";
        let letter = |rng: &mut XorShiftRng| letters[rng.random_range(0..letters.len())] as char;
        let postcode = format!(
            "{area} {}{}{}",
            rng.random_range(1..10),
            letter(&mut rng),
            letter(&mut rng)
        );
        let pupils = rng.random_range(kind.2 .0..=kind.2 .1);
        // Free school meals: around the district's mean, more spread in small schools.
        let spread = rng.random_range(-1.0f64..1.0) + rng.random_range(-1.0f64..1.0);
        let fsm = (district.fsm_mean + spread * district.fsm_mean * 0.6).clamp(2.0, 55.0);
        out.push(SchoolInput {
            name,
            urn: Some(FIRST_URN + out.len() as i32),
            local_authority: "Westmorland and Furness".into(),
            district: district.name.into(),
            phase: kind.0,
            postcode,
            pupils: Some(pupils),
            fsm_percent: Some((fsm * 10.0).round() / 10.0),
            town: town.into(),
            contact_email: None,
        });
    }
    out
}

/// A made-up office address for a demo school ("office@walney-academy.example.org"): the
/// `.example.org` addresses reach nobody.
pub fn office_address(name: &str) -> String {
    let slug: String = name
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    format!("office@{slug}.example.org")
}

/// Adds the generated schools to the directory (in the caller's transaction).
pub fn load(conn: &mut AnyConnection, actor: &Actor) -> AppResult<Vec<i32>> {
    schools()
        .into_iter()
        .map(|s| schools::create(conn, actor, s).map(|made| made.id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_schools_are_the_same_every_time_and_look_like_the_register() {
        let (a, b) = (schools(), schools());
        let key = |s: &SchoolInput| {
            (
                s.name.clone(),
                s.urn,
                s.district.clone(),
                s.postcode.clone(),
                s.pupils,
                s.fsm_percent.map(f64::to_bits),
            )
        };
        assert_eq!(
            a.iter().map(key).collect::<Vec<_>>(),
            b.iter().map(key).collect::<Vec<_>>()
        );
        assert_eq!(a.len(), COUNT);
        let names: BTreeSet<&str> = a.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names.len(), COUNT, "every name differs");
        let districts: BTreeSet<&str> = a.iter().map(|s| s.district.as_str()).collect();
        assert_eq!(districts.len(), 2);
        for (i, s) in a.iter().enumerate() {
            assert_eq!(s.urn, Some(FIRST_URN + i as i32));
            let fsm = s.fsm_percent.unwrap_or(-1.0);
            assert!((2.0..=55.0).contains(&fsm), "{}: {fsm}", s.name);
            assert!(s.pupils.is_some_and(|p| p >= 30), "{}", s.name);
            assert!(!s.town.is_empty() && s.postcode.len() >= 6, "{}", s.name);
        }
        assert!(a.iter().any(|s| s.phase == Phase::Primary));
        assert!(a.iter().any(|s| s.phase == Phase::Secondary));
        // Barrow's schools serve more pupils on free school meals, as the register shows.
        let mean = |d: &str| {
            let v: Vec<f64> = a
                .iter()
                .filter(|s| s.district == d)
                .filter_map(|s| s.fsm_percent)
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        assert!(mean("Barrow-in-Furness") > mean("South Lakeland"));
    }
}
