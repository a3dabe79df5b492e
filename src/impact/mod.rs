//! The counting rules of SPEC §3 and the narrative: pure, fed one record at a time so a
//! year of attendance never sits in memory. The pages, the API and the exports all use it.

pub mod narrative;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::domain::types::{DeliveryMode, EventKind, EventStatus};

pub const MODES: [DeliveryMode; 3] = [
    DeliveryMode::InSchool,
    DeliveryMode::Venue,
    DeliveryMode::LiveStream,
];

fn slot(mode: DeliveryMode) -> usize {
    match mode {
        DeliveryMode::InSchool => 0,
        DeliveryMode::Venue => 1,
        DeliveryMode::LiveStream => 2,
    }
}

/// What the rules need to know of an event.
#[derive(Debug, Clone)]
pub struct EventFact {
    pub id: i32,
    pub kind: EventKind,
    pub status: EventStatus,
    pub starts_at: NaiveDateTime,
    /// Held at a school (in-school) rather than at a venue or online.
    pub at_school: bool,
    /// The venue's name, for the narrative.
    pub venue_name: Option<String>,
}

impl EventFact {
    pub fn mode(&self) -> DeliveryMode {
        DeliveryMode::of(self.kind, self.at_school)
    }

    /// Only completed events that have started count; cancelled, draft and future never do.
    pub fn counts(&self, now: NaiveDateTime) -> bool {
        self.status == EventStatus::Completed && self.starts_at <= now
    }

    pub fn is_workshop(&self) -> bool {
        self.kind == EventKind::Workshop
    }
}

/// One attendance row: a school, or a named non-school group (`school_id` None).
#[derive(Debug, Clone, Copy, Default)]
pub struct AttendanceFact {
    pub school_id: Option<i32>,
    pub pupils: i64,
    pub staff: i64,
    pub other: i64,
}

impl AttendanceFact {
    pub fn people(&self) -> i64 {
        self.pupils + self.staff + self.other
    }
}

/// The figures of one delivery mode, or of the total.
#[derive(
    Debug, Clone, Copy, Default, Serialize, PartialEq, Eq, utoipa::ToSchema, serde::Deserialize,
)]
pub struct Figures {
    pub events: i64,
    pub schools: i64,
    pub audience: i64,
    pub pupils: i64,
}

#[derive(
    Debug, Clone, Copy, Default, Serialize, PartialEq, Eq, utoipa::ToSchema, serde::Deserialize,
)]
pub struct Workshops {
    pub events: i64,
    pub participants: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema, serde::Deserialize)]
pub struct ByDelivery {
    pub in_school: Figures,
    pub venue: Figures,
    pub live_stream: Figures,
}

impl ByDelivery {
    pub fn get(&self, mode: DeliveryMode) -> &Figures {
        match mode {
            DeliveryMode::InSchool => &self.in_school,
            DeliveryMode::Venue => &self.venue,
            DeliveryMode::LiveStream => &self.live_stream,
        }
    }
}

/// A school reached, with its audience in each delivery mode.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, serde::Deserialize)]
pub struct SchoolReach {
    pub school_id: i32,
    pub in_school: i64,
    pub venue: i64,
    pub live_stream: i64,
    pub total: i64,
    pub pupils: i64,
    pub workshop_participants: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct TargetProgress {
    pub measure: &'static str,
    pub target: i64,
    pub achieved: i64,
    /// achieved / target as a whole percentage (rounded to nearest); None when the target is 0.
    pub percent: Option<i64>,
}

/// The counted figures of a group of events.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Counts {
    pub by_delivery: ByDelivery,
    pub total: Figures,
    pub workshops: Workshops,
    /// Schools reached (performances and live streams), by id order.
    #[serde(skip)]
    pub schools: Vec<SchoolReach>,
    /// Venue names of the counted venue performances, in first-seen order, with their count.
    #[serde(skip)]
    pub venues: Vec<(String, i64)>,
}

#[derive(Default, Clone, Copy)]
struct ModeTally {
    events: i64,
    audience: i64,
    pupils: i64,
}

/// Accumulates events and attendance rows; memory grows with schools and events, never
/// with attendance rows.
pub struct Tally {
    now: NaiveDateTime,
    modes: [ModeTally; 3],
    workshops: Workshops,
    /// school id → audience per mode, pupils, workshop participants
    schools: HashMap<i32, SchoolReach>,
    /// schools with more than zero people at a counted performance/live stream, per mode
    reached: [std::collections::HashSet<i32>; 3],
    venues: Vec<(String, i64)>,
}

impl Tally {
    pub fn new(now: NaiveDateTime) -> Tally {
        Tally {
            now,
            modes: [ModeTally::default(); 3],
            workshops: Workshops::default(),
            schools: HashMap::new(),
            reached: Default::default(),
            venues: Vec::new(),
        }
    }

    /// Counts the event itself (once per event).
    pub fn add_event(&mut self, event: &EventFact) {
        self.add_events(event, 1);
    }

    /// Counts `n` events alike in what the rules look at.
    pub fn add_events(&mut self, event: &EventFact, n: i64) {
        if !event.counts(self.now) || n <= 0 {
            return;
        }
        if event.is_workshop() {
            self.workshops.events += n;
            return;
        }
        let mode = event.mode();
        self.modes[slot(mode)].events += n;
        if mode == DeliveryMode::Venue {
            let name = event.venue_name.clone().unwrap_or_default();
            match self.venues.iter_mut().find(|(v, _)| *v == name) {
                Some((_, count)) => *count += n,
                None => self.venues.push((name, n)),
            }
        }
    }

    /// Counts one attendance row of an event.
    pub fn add_attendance(&mut self, event: &EventFact, row: &AttendanceFact) {
        if !event.counts(self.now) {
            return;
        }
        let people = row.people();
        if event.is_workshop() {
            self.workshops.participants += people;
            if let Some(id) = row.school_id {
                self.school(id).workshop_participants += people;
            }
            return;
        }
        let mode = event.mode();
        let t = &mut self.modes[slot(mode)];
        t.audience += people;
        t.pupils += row.pupils;
        if let Some(id) = row.school_id {
            if people > 0 {
                self.reached[slot(mode)].insert(id);
            }
            let s = self.school(id);
            match mode {
                DeliveryMode::InSchool => s.in_school += people,
                DeliveryMode::Venue => s.venue += people,
                DeliveryMode::LiveStream => s.live_stream += people,
            }
            s.total += people;
            s.pupils += row.pupils;
        }
    }

    fn school(&mut self, id: i32) -> &mut SchoolReach {
        self.schools.entry(id).or_insert_with(|| SchoolReach {
            school_id: id,
            ..Default::default()
        })
    }

    pub fn finish(self) -> Counts {
        let figures = |i: usize| Figures {
            events: self.modes[i].events,
            schools: self.reached[i].len() as i64,
            audience: self.modes[i].audience,
            pupils: self.modes[i].pupils,
        };
        let by_delivery = ByDelivery {
            in_school: figures(0),
            venue: figures(1),
            live_stream: figures(2),
        };
        let all_reached: std::collections::BTreeSet<i32> =
            self.reached.iter().flatten().copied().collect();
        let total = Figures {
            events: self.modes.iter().map(|m| m.events).sum(),
            schools: all_reached.len() as i64,
            audience: self.modes.iter().map(|m| m.audience).sum(),
            pupils: self.modes.iter().map(|m| m.pupils).sum(),
        };
        let mut schools: BTreeMap<i32, SchoolReach> = BTreeMap::new();
        for (id, s) in self.schools {
            if all_reached.contains(&id) {
                schools.insert(id, s);
            }
        }
        Counts {
            by_delivery,
            total,
            workshops: self.workshops,
            schools: schools.into_values().collect(),
            venues: self.venues,
        }
    }
}

/// Progress against the targets that are set.
pub fn progress(
    counts: &Counts,
    schools: Option<i64>,
    audience: Option<i64>,
    events: Option<i64>,
) -> Vec<TargetProgress> {
    [
        ("schools", schools, counts.total.schools),
        ("audience", audience, counts.total.audience),
        ("events", events, counts.total.events),
    ]
    .into_iter()
    .filter_map(|(measure, target, achieved)| {
        target.map(|target| TargetProgress {
            measure,
            target,
            achieved,
            percent: (target > 0).then(|| (achieved * 200 + target) / (2 * target)),
        })
    })
    .collect()
}

/// One event's own figures, for the Events sheet: audience for a performance or live
/// stream, participants for a workshop, and the schools with anyone there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventFigures {
    pub schools: i64,
    pub pupils: i64,
    pub staff: i64,
    pub other: i64,
    pub audience: i64,
    pub participants: i64,
}

/// The figures of one event from its attendance sums; None when the event does not count.
pub fn event_figures(
    event: &EventFact,
    now: NaiveDateTime,
    schools_with_people: i64,
    sums: AttendanceFact,
) -> Option<EventFigures> {
    if !event.counts(now) {
        return None;
    }
    let people = sums.people();
    let (audience, participants) = if event.is_workshop() {
        (0, people)
    } else {
        (people, 0)
    };
    Some(EventFigures {
        schools: schools_with_people,
        pupils: sums.pupils,
        staff: sums.staff,
        other: sums.other,
        audience,
        participants,
    })
}
