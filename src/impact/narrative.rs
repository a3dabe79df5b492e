//! The narrative funders read, written from the counted figures in the case study's voice:
//! numbers up to ten in words, larger ones with thousands separated.

use super::Counts;

const WORDS: [&str; 11] = [
    "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
];

/// A count as a person writes it: "nine", "135", "1,520".
pub fn number(n: i64) -> String {
    if (0..=10).contains(&n) {
        return WORDS[n as usize].to_string();
    }
    thousands(n)
}

/// 1520 → "1,520".
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// "nine schools", "one school", "1,520 audience members".
pub fn counted(n: i64, one: &str, many: &str) -> String {
    format!("{} {}", number(n), if n == 1 { one } else { many })
}

/// The first letter in capitals ("schools" → "Schools").
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {}", init.join(", "), last),
    }
}

/// The narrative of one programme: "Ruby and its workshop were taken to…".
pub fn write(subject: &str, year: Option<i32>, counts: &Counts) -> String {
    compose(subject, false, year, counts)
}

/// The narrative of a group of programmes: "The productions of 2018 and their workshops
/// were taken to…".
pub fn write_group(subject: &str, year: Option<i32>, counts: &Counts) -> String {
    compose(subject, true, year, counts)
}

fn compose(subject: &str, plural: bool, year: Option<i32>, counts: &Counts) -> String {
    let mut sentences: Vec<String> = Vec::new();
    let year_part = year.map(|y| format!(" in {y}")).unwrap_or_default();
    let school = &counts.by_delivery.in_school;
    if school.events > 0 {
        let with_workshop = counts.workshops.events > 0;
        let who = match (with_workshop, plural) {
            (true, false) => format!("{subject} and its workshop were"),
            (false, false) => format!("{subject} was"),
            (true, true) => format!("{subject} and their workshops were"),
            (false, true) => format!("{subject} were"),
        };
        sentences.push(format!(
            "{who} taken to {}, with {}{year_part}.",
            counted(school.schools, "school", "schools"),
            counted(school.audience, "audience member", "audience members")
        ));
    }
    let venue = &counts.by_delivery.venue;
    if venue.events > 0 {
        let names: Vec<String> = counts
            .venues
            .iter()
            .map(|(n, _)| {
                format!(
                    "the {}",
                    n.trim_start_matches("the ").trim_start_matches("The ")
                )
            })
            .collect();
        let at = if venue.events == 1 {
            format!("a performance at {}", list(&names))
        } else {
            format!("{} performances at {}", number(venue.events), list(&names))
        };
        let body = if venue.schools > 0 {
            format!(
                "{} {} amongst {} at {at}",
                counted(venue.schools, "school", "schools"),
                if venue.schools == 1 { "was" } else { "were" },
                counted(venue.audience, "audience member", "audience members")
            )
        } else {
            format!(
                "{} saw {at}",
                counted(venue.audience, "audience member", "audience members")
            )
        };
        let sentence = if sentences.is_empty() {
            format!("{}{year_part}.", capitalise(&body))
        } else {
            format!("In addition, {body}.")
        };
        sentences.push(sentence);
    }
    let stream = &counts.by_delivery.live_stream;
    if stream.events > 0 {
        let what = if stream.events == 1 {
            "the performance".to_string()
        } else {
            format!("{} performances", number(stream.events))
        };
        let who = match (stream.schools, stream.pupils) {
            (0, _) => counted(stream.audience, "person", "people"),
            (s, p) => format!(
                "{} and {}",
                counted(s, "school", "schools"),
                counted(p, "pupil", "pupils")
            ),
        };
        let tail = if sentences.is_empty() {
            year_part.clone()
        } else {
            String::new()
        };
        sentences.push(format!(
            "{} experienced {what} by live stream{tail}.",
            capitalise(&who)
        ));
    }
    if sentences.is_empty() {
        let has = if plural { "have" } else { "has" };
        return format!("{subject} {has} no completed performances to report{year_part} yet.");
    }
    sentences.join(" ")
}
