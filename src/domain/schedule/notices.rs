//! What happened that someone must be told. Transitions return notices; `letters` words
//! them. A notice holds ids only: it is worded from the state after the change, in the
//! same transaction.

/// A step in a booking's life, told to its school.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The request is in; the company will answer.
    Received,
    Confirmed,
    /// The event is full: the request waits in arrival order.
    Waitlisted,
    Declined,
    Cancelled,
    /// Places freed and the waiting booking is now confirmed.
    MovedUp,
    /// The event itself was cancelled, and the booking with it.
    EventCancelled,
    /// The event moved to another time; the booking stands.
    EventMoved,
    /// What it is for starts soon.
    Reminder,
    /// A live stream's joining link or instructions were set or changed.
    Joining,
    /// A live stream starts within the hour (`Rules::starting_soon`): how to join.
    StartingSoon,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// To a booking's school.
    Booking { booking_id: i32, step: Step },
    /// To the school an in-school event is held at: the event moved.
    VisitMoved { event_id: i32 },
    /// To a school whose request for a tour date went to another school.
    DateTaken { booking_id: i32 },
    /// To every lead and admin: a request waits for a decision.
    Waiting { booking_id: i32 },
}

/// A transition's result and the notices it caused.
pub type Outcome<T> = (T, Vec<Notice>);

pub fn booking(booking_id: i32, step: Step) -> Notice {
    Notice::Booking { booking_id, step }
}
