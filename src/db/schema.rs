// @generated from migrations/*/2026-11-27-000001_schema by hand: the tables of SPEC §2.
diesel::table! {
    organisations (id) {
        id -> Integer,
        name -> Text,
        kind -> Text,
        archived -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}
diesel::table! {
    priorities (id) {
        id -> Integer,
        organisation_id -> Integer,
        title -> Text,
        aims -> Text,
        position -> Integer,
        archived -> Bool,
    }
}
diesel::table! {
    targets (id) {
        id -> Integer,
        priority_id -> Integer,
        measure -> Text,
        value -> Integer,
        description -> Text,
    }
}
diesel::table! {
    schools (id) {
        id -> Integer,
        name -> Text,
        urn -> Nullable<Integer>,
        local_authority -> Text,
        district -> Text,
        phase -> Text,
        postcode -> Text,
        pupils -> Nullable<Integer>,
        fsm_percent -> Nullable<Double>,
        archived -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        town -> Text,
        contact_email -> Text,
    }
}
diesel::table! {
    venues (id) {
        id -> Integer,
        name -> Text,
        kind -> Text,
        postcode -> Text,
        capacity -> Nullable<Integer>,
        archived -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}
diesel::table! {
    programmes (id) {
        id -> Integer,
        title -> Text,
        year -> Integer,
        theme -> Text,
        organisation_id -> Nullable<Integer>,
        priority_id -> Nullable<Integer>,
        starts_on -> Nullable<Date>,
        ends_on -> Nullable<Date>,
        target_schools -> Nullable<Integer>,
        target_audience -> Nullable<Integer>,
        target_events -> Nullable<Integer>,
        status -> Text,
        archived -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        figures_revision -> Integer,
    }
}
diesel::table! {
    tour_slots (id) {
        id -> Integer,
        programme_id -> Integer,
        day -> Date,
        session -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        status -> Text,
        created_at -> Timestamp,
    }
}
diesel::table! {
    events (id) {
        id -> Integer,
        programme_id -> Integer,
        kind -> Text,
        school_id -> Nullable<Integer>,
        venue_id -> Nullable<Integer>,
        slot_id -> Nullable<Integer>,
        title -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        capacity -> Nullable<Integer>,
        places_confirmed -> Integer,
        needs_approval -> Bool,
        status -> Text,
        sequence -> Integer,
        notes -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        joining_url -> Nullable<Text>,
        joining_notes -> Text,
    }
}
diesel::table! {
    users (id) {
        id -> Integer,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        school_id -> Nullable<Integer>,
        organisation_id -> Nullable<Integer>,
        archived -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_signed_in_at -> Nullable<Timestamp>,
        erased_at -> Nullable<Timestamp>,
    }
}
diesel::table! {
    bookings (id) {
        id -> Integer,
        event_id -> Nullable<Integer>,
        slot_id -> Nullable<Integer>,
        school_id -> Integer,
        status -> Text,
        pupils -> Integer,
        staff -> Integer,
        year_groups -> Text,
        notes -> Text,
        access_needs -> Text,
        message -> Text,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        reminded_at -> Nullable<Timestamp>,
        feedback_answers -> Integer,
        starting_soon_at -> Nullable<Timestamp>,
    }
}
diesel::table! {
    attendance (id) {
        id -> Integer,
        event_id -> Integer,
        school_id -> Nullable<Integer>,
        group_name -> Nullable<Text>,
        pupils -> Integer,
        staff -> Integer,
        other_adults -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}
diesel::table! {
    outcome_statements (id) {
        id -> Integer,
        programme_id -> Integer,
        text -> Text,
        position -> Integer,
    }
}
diesel::table! {
    feedback (id) {
        id -> Integer,
        programme_id -> Integer,
        event_id -> Nullable<Integer>,
        school_id -> Nullable<Integer>,
        booking_id -> Nullable<Integer>,
        role -> Text,
        quote -> Text,
        rating -> Nullable<Integer>,
        consent -> Bool,
        moderation -> Text,
        featured -> Bool,
        source -> Text,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        link_id -> Nullable<Integer>,
    }
}
diesel::table! {
    outcome_answers (id) {
        id -> Integer,
        feedback_id -> Integer,
        statement_id -> Integer,
        answer -> Integer,
    }
}
diesel::table! {
    api_tokens (id) {
        id -> Integer,
        user_id -> Integer,
        token_hash -> Text,
        label -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
    }
}
diesel::table! {
    calendar_links (id) {
        id -> Integer,
        feed -> Text,
        feed_id -> Integer,
        user_id -> Integer,
        token_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}
diesel::table! {
    feedback_links (id) {
        id -> Integer,
        booking_id -> Integer,
        token_hash -> Text,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}
diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Integer,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}
diesel::table! {
    login_attempts (id) {
        id -> Integer,
        key -> Text,
        attempted_at -> Timestamp,
    }
}
diesel::table! {
    audit_entries (id) {
        id -> Integer,
        user_id -> Nullable<Integer>,
        at -> Timestamp,
        entity -> Text,
        entity_id -> Integer,
        action -> Text,
        before_value -> Nullable<Text>,
        after_value -> Nullable<Text>,
    }
}
diesel::table! {
    outbox (id) {
        id -> Integer,
        to_address -> Text,
        subject -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_by -> Nullable<Text>,
        claimed_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        body_html -> Nullable<Text>,
    }
}
diesel::joinable!(priorities -> organisations (organisation_id));
diesel::joinable!(targets -> priorities (priority_id));
diesel::joinable!(programmes -> organisations (organisation_id));
diesel::joinable!(programmes -> priorities (priority_id));
diesel::joinable!(tour_slots -> programmes (programme_id));
diesel::joinable!(events -> programmes (programme_id));
diesel::joinable!(events -> schools (school_id));
diesel::joinable!(events -> venues (venue_id));
diesel::joinable!(events -> tour_slots (slot_id));
diesel::joinable!(users -> schools (school_id));
diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(bookings -> events (event_id));
diesel::joinable!(bookings -> tour_slots (slot_id));
diesel::joinable!(bookings -> schools (school_id));
diesel::joinable!(bookings -> users (created_by));
diesel::joinable!(attendance -> events (event_id));
diesel::joinable!(attendance -> schools (school_id));
diesel::joinable!(outcome_statements -> programmes (programme_id));
diesel::joinable!(feedback -> programmes (programme_id));
diesel::joinable!(feedback -> events (event_id));
diesel::joinable!(feedback -> schools (school_id));
diesel::joinable!(feedback -> bookings (booking_id));
diesel::joinable!(feedback -> users (created_by));
diesel::joinable!(outcome_answers -> feedback (feedback_id));
diesel::joinable!(outcome_answers -> outcome_statements (statement_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(calendar_links -> users (user_id));
diesel::joinable!(feedback_links -> bookings (booking_id));
diesel::joinable!(feedback -> feedback_links (link_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(audit_entries -> users (user_id));

diesel::table! {
    form_submissions (key_hash) {
        key_hash -> Text,
        location -> Nullable<Text>,
        created_at -> Timestamp,
    }
}
diesel::table! {
    install_settings (name) {
        name -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}
diesel::table! {
    event_answers (id) {
        id -> Integer,
        event_id -> Integer,
        booking_id -> Integer,
        school_id -> Integer,
        token_hash -> Text,
        reminder_token_hash -> Nullable<Text>,
        expires_at -> Timestamp,
        status -> Text,
        pupils -> Nullable<Integer>,
        staff -> Nullable<Integer>,
        other_adults -> Nullable<Integer>,
        feedback_id -> Nullable<Integer>,
        asked_at -> Timestamp,
        answered_at -> Nullable<Timestamp>,
        reminded_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Integer>,
        decided_at -> Nullable<Timestamp>,
    }
}
diesel::joinable!(event_answers -> events (event_id));
diesel::joinable!(event_answers -> schools (school_id));
diesel::table! {
    login_links (id) {
        id -> Integer,
        user_id -> Integer,
        purpose -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}
diesel::joinable!(login_links -> users (user_id));
diesel::table! {
    figures_cache (key) {
        key -> Text,
        counts -> Text,
        created_at -> Timestamp,
    }
}
diesel::table! {
    invitations (id) {
        id -> Integer,
        email -> Text,
        role -> Text,
        school_id -> Nullable<Integer>,
        organisation_id -> Nullable<Integer>,
        token_hash -> Text,
        invited_by -> Nullable<Integer>,
        sent_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        user_id -> Nullable<Integer>,
        withdrawn_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}
diesel::table! {
    school_requests (id) {
        id -> Integer,
        school_id -> Integer,
        name -> Text,
        email -> Text,
        status -> Text,
        invitation_id -> Nullable<Integer>,
        decided_by -> Nullable<Integer>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}
diesel::joinable!(invitations -> schools (school_id));
diesel::joinable!(invitations -> organisations (organisation_id));
diesel::joinable!(school_requests -> schools (school_id));
diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    priorities,
    targets,
    schools,
    venues,
    programmes,
    tour_slots,
    events,
    users,
    bookings,
    attendance,
    outcome_statements,
    feedback,
    outcome_answers,
    api_tokens,
    calendar_links,
    feedback_links,
    sessions,
    login_attempts,
    audit_entries,
    outbox,
    form_submissions,
    install_settings,
    event_answers,
    login_links,
    invitations,
    school_requests,
    figures_cache,
);
