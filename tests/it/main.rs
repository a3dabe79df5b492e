//! Integration tests, each run on SQLite and on PostgreSQL.

mod fixtures;
mod harness;

mod access;
mod api_directory;
mod api_errors;
mod audit_page;
mod auth;
mod booking_calendars;
mod booking_changes;
mod booking_lists;
mod booking_places;
mod booking_visits;
mod cli;
mod contention;
mod delivery_pages;
mod demo;
mod event_list;
mod event_rules;
mod export_safety;
mod exports;
mod feedback;
mod impact;
mod import;
mod inputs;
mod joining;
mod letters;
mod limits;
mod login;
mod mail;
mod pages;
mod picker;
mod properties;
mod roles;
mod route_matrix;
mod sent_once;
