//! `outreach user add`, `outreach token create` and `outreach token revoke`.

use std::io::Read;

use super::{conn_of, describe, open, AddUser, InviteUser};
use crate::domain::input::Input;
use crate::domain::{schools, tokens, users};

/// Adds a user; the password comes from standard input, never from an argument.
pub fn add_user(database_url: &str, add: AddUser) -> Result<(), String> {
    let pool = open(database_url, 1)?;
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = password.trim_end_matches(['\n', '\r']).to_string();
    let mut conn = conn_of(&pool)?;
    let school_id = match add.school {
        Some(urn) => Some(
            schools::find_by_urn(&mut conn, urn)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no school has URN {urn}"))?
                .id,
        ),
        None => None,
    };
    let mut input = Input::from_pairs([
        ("email", add.email),
        ("role", add.role),
        ("name", add.name),
        ("password", password),
    ]);
    if let Some(id) = school_id {
        input.set("school_id", id.to_string());
    }
    if let Some(id) = add.organisation {
        input.set("organisation_id", id.to_string());
    }
    let user = users::parse(&mut conn, &input, true)
        .and_then(|parsed| users::create(&mut conn, None, parsed))
        .map_err(describe)?;
    println!("added {} ({}) with id {}", user.email, user.role, user.id);
    Ok(())
}

/// Invites a person: the mail is queued (sent by `serve`), and the link printed for an
/// install that does not send mail yet.
pub fn invite_user(database_url: &str, invite: InviteUser) -> Result<(), String> {
    let pool = open(database_url, 1)?;
    let mut conn = conn_of(&pool)?;
    let mut input = Input::from_pairs([("email", invite.email), ("role", invite.role)]);
    if let Some(urn) = invite.school {
        let school = schools::find_by_urn(&mut conn, urn)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no school has URN {urn}"))?;
        input.set("school_id", school.id.to_string());
    }
    if let Some(id) = invite.organisation {
        input.set("organisation_id", id.to_string());
    }
    let (made, link) = crate::domain::invitations::parse(&mut conn, &input)
        .and_then(|parsed| {
            crate::domain::invitations::invite_with_link(&mut conn, None, &parsed, &invite.base_url)
        })
        .map_err(describe)?;
    println!(
        "invited {} ({}); the link works once, until {} UTC. The mail is queued; if this install sends no mail yet, give them this link yourself:",
        made.email,
        made.role,
        made.expires_at.format("%Y-%m-%d %H:%M")
    );
    println!("{link}");
    Ok(())
}

/// Creates a token and prints it alone on the last line (the one time it is shown).
pub fn create_token(
    database_url: &str,
    email: &str,
    label: String,
    expires_in_days: Option<i32>,
) -> Result<(), String> {
    if expires_in_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err("--expires-in-days must be 1 to 3650".into());
    }
    let pool = open(database_url, 1)?;
    let mut conn = conn_of(&pool)?;
    let user = user_by_email(&mut conn, email)?;
    let request = tokens::TokenRequest {
        label,
        expires_in_days,
    };
    let (info, secret) =
        tokens::create_for(&mut conn, None, user.id, &request).map_err(describe)?;
    println!(
        "token {} for {} (shown once; Outreach keeps only its hash):",
        info.id, user.email
    );
    println!("{secret}");
    Ok(())
}

pub fn revoke_token(database_url: &str, email: &str, id: i32) -> Result<(), String> {
    let pool = open(database_url, 1)?;
    let mut conn = conn_of(&pool)?;
    let user = user_by_email(&mut conn, email)?;
    tokens::revoke_for_user(&mut conn, &user.actor(), user.id, id).map_err(describe)?;
    println!("revoked token {id}");
    Ok(())
}

fn user_by_email(conn: &mut crate::db::AnyConnection, email: &str) -> Result<users::User, String> {
    users::find_by_email(conn, email)
        .map_err(describe)?
        .ok_or_else(|| format!("no user has the email {email}"))
}
