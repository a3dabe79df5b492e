//! The background mail worker: claims queued messages one at a time (so two processes
//! never send the same one), sends them through SMTP when `SMTP_URL` is set, or keeps them
//! in the outbox for an admin to read. Failures are retried with backoff.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{Message, SmtpTransport, Transport};

use crate::app::AppState;
use crate::domain::mail;

/// Runs until `stop` is cancelled; a message in hand is settled first (sent and marked
/// sent, or put back for a retry), never dropped half-way.
pub async fn run(app: AppState, stop: tokio_util::sync::CancellationToken) {
    let worker = format!(
        "{}-{}",
        std::process::id(),
        crate::domain::tokens::random_secret()
            .map(|s| s[..8].to_string())
            .unwrap_or_default()
    );
    let transport = match &app.config.smtp_url {
        Some(url) => match SmtpTransport::from_url(url) {
            // A send gives up well within a stopping server's grace period; a message whose
            // send was cut off is claimed again later (see `mail::claim`).
            Ok(builder) => Some(builder.timeout(Some(Duration::from_secs(20))).build()),
            Err(e) => {
                tracing::error!(error = %e, "SMTP_URL is not usable; mail stays in the outbox");
                None
            }
        },
        None => None,
    };
    let mut last_reminders = std::time::Instant::now() - Duration::from_secs(3600);
    let mut last_starting_soon = last_reminders;
    while !stop.is_cancelled() {
        if last_starting_soon.elapsed() > Duration::from_secs(60) {
            last_starting_soon = std::time::Instant::now();
            let rules = app.rules();
            match app
                .db(move |c| crate::domain::schedule::queue_starting_soon(c, &rules))
                .await
            {
                Ok(n) if n > 0 => tracing::info!(letters = n, "queued starting-soon letters"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "queueing starting-soon letters"),
            }
        }
        if last_reminders.elapsed() > Duration::from_secs(300) {
            last_reminders = std::time::Instant::now();
            let rules = app.rules();
            match app
                .db(move |c| crate::domain::schedule::queue_reminders(c, &rules))
                .await
            {
                Ok(n) if n > 0 => tracing::info!(reminders = n, "queued reminders"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "queueing reminders"),
            }
            let (tz, base, days) = (
                app.config.time_zone,
                app.config.base_url.clone(),
                app.config.answer_reminder_days,
            );
            match app
                .db(move |c| crate::domain::answers::remind(c, tz, &base, days))
                .await
            {
                Ok(n) if n > 0 => tracing::info!(reminders = n, "reminded schools to answer"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "reminding schools to answer"),
            }
        }
        let pause = match send_one(&app, &worker, transport.clone()).await {
            Ok(true) => continue,
            Ok(false) => Duration::from_secs(2),
            Err(e) => {
                tracing::warn!(error = %e, "mail worker");
                Duration::from_secs(5)
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.cancelled() => {}
        }
    }
    tracing::info!("the mail worker stopped");
}

/// Claims and handles one message; false when none was due.
pub async fn send_one(
    app: &AppState,
    worker: &str,
    transport: Option<SmtpTransport>,
) -> Result<bool, crate::error::AppError> {
    let w = worker.to_string();
    let Some(message) = app.db(move |c| mail::claim(c, &w)).await? else {
        return Ok(false);
    };
    let outcome = match transport {
        None => Ok(false),
        Some(t) => {
            let m = message.clone();
            let from = app.config.mail_from.clone();
            tokio::task::spawn_blocking(move || deliver(&t, &from, &m))
                .await
                .map_err(crate::error::AppError::from)?
        }
    };
    if let Err(e) = &outcome {
        tracing::warn!(
            id = message.id,
            error = %without_addresses(e),
            "sending mail failed; it will be retried"
        );
    }
    let id = message.id;
    app.db(move |c| mail::settle(c, id, outcome)).await?;
    Ok(true)
}

fn deliver(transport: &SmtpTransport, from: &str, m: &mail::Message) -> Result<bool, String> {
    let to: Mailbox = m
        .to_address
        .parse()
        .map_err(|e| format!("bad address: {e}"))?;
    let from: Mailbox = from
        .parse()
        .map_err(|e| format!("bad sender (MAIL_FROM): {e}"))?;
    let builder = Message::builder().from(from).to(to).subject(&m.subject);
    let email = match &m.body_html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            m.body.clone(),
            html.clone(),
        )),
        None => builder.body(m.body.clone()),
    }
    .map_err(|e| e.to_string())?;
    transport
        .send(&email)
        .map(|_| true)
        .map_err(|e| e.to_string())
}

/// An error's words with every mail address in them replaced (an SMTP server's refusal
/// often quotes the recipient), so the log holds no address.
fn without_addresses(error: &str) -> String {
    error
        .split(' ')
        .map(|word| {
            if word.contains('@') {
                "[address]"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn addresses_are_taken_out_of_errors() {
        assert_eq!(
            super::without_addresses("550 <head@school.example> mailbox unavailable"),
            "550 [address] mailbox unavailable"
        );
    }
}
