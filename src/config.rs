//! Typed settings, read once from flags and the environment and carried in the app state.

use std::time::Duration;

use crate::db::DbUrl;
use crate::web::limits::RequestLimits;
use crate::web::server::ConnectionLimits;

#[derive(Debug, Clone)]
pub struct Config {
    pub database: DbUrl,
    pub bind: String,
    pub base_url: String,
    pub time_zone: chrono_tz::Tz,
    pub smtp_url: Option<String>,
    /// Cookies get `Secure` when the site is served over https.
    pub secure_cookies: bool,
    pub session_hours: i64,
    /// Failed logins allowed per account from one client address, and per client address
    /// in all, in `login_window_minutes`.
    pub login_limit_account: i64,
    pub login_limit_ip: i64,
    pub login_window_minutes: i64,
    pub pool_size: u32,
    /// A school can cancel its own booking online until this many days before the event.
    pub cancel_cutoff_days: i64,
    /// When the morning and afternoon sessions of a tour date are.
    pub session_times: crate::domain::schedule::visits::SessionTimes,
    /// Schools are reminded this many days before a confirmed event or visit.
    pub reminder_days: i64,
    /// Minutes before a live stream that its booked schools are told how to join.
    pub starting_soon_minutes: i64,
    /// Days after asking that a school which has not answered is reminded, once.
    pub answer_reminder_days: i64,
    /// The sender of outgoing mail.
    pub mail_from: String,
    /// Body sizes and time limits of requests.
    pub limits: RequestLimits,
    /// Open connections, header and idle timeouts.
    pub connections: ConnectionLimits,
    /// How long a request waits for a free database connection before a 503.
    pub pool_wait: Duration,
    /// Proxies whose `X-Forwarded-For` is believed (the load balancer in front).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Password hashes (about 19 MB and a core each) computed at once.
    pub hashes_at_once: usize,
    /// The bearer token of `/metrics`; no metrics are served without one.
    pub metrics_token: Option<String>,
    /// How long a stopping server lets requests in flight and the mail in hand finish.
    pub shutdown_grace: Duration,
    /// Years after which the personal data of people gone is anonymised (0: never).
    pub retention_years: i64,
    /// Scheduled backups (SQLite only), when `BACKUP_DIR` is set.
    pub backups: Option<crate::backups::Schedule>,
}

impl Config {
    pub fn new(
        database_url: &str,
        bind: &str,
        base_url: Option<&str>,
        time_zone: &str,
        smtp_url: Option<&str>,
    ) -> Result<Config, String> {
        let database = DbUrl::parse(database_url)?;
        let time_zone: chrono_tz::Tz = time_zone.parse().map_err(|_| {
            format!("TIME_ZONE '{time_zone}' is not a known time zone (e.g. Europe/London)")
        })?;
        let base_url = base_url
            .map(|s| s.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("http://{bind}"));
        url::Url::parse(&base_url)
            .map_err(|e| format!("BASE_URL '{base_url}' is not a URL: {e}"))?;
        let pool_size = match database.backend {
            crate::db::Backend::Sqlite => 8,
            crate::db::Backend::Postgres => 16,
        };
        Ok(Config {
            database,
            bind: bind.to_string(),
            secure_cookies: base_url.starts_with("https://"),
            base_url,
            time_zone,
            smtp_url: smtp_url.filter(|s| !s.is_empty()).map(str::to_string),
            session_hours: 24 * 14,
            login_limit_account: 5,
            login_limit_ip: 30,
            login_window_minutes: 15,
            pool_size,
            cancel_cutoff_days: 2,
            session_times: Default::default(),
            reminder_days: 3,
            starting_soon_minutes: 30,
            answer_reminder_days: 7,
            mail_from: "Outreach <outreach@localhost>".into(),
            limits: RequestLimits::default(),
            connections: ConnectionLimits::default(),
            pool_wait: Duration::from_secs(5),
            trusted_proxies: Vec::new(),
            hashes_at_once: std::thread::available_parallelism()
                .map(|n| n.get() * 2)
                .unwrap_or(4),
            metrics_token: None,
            shutdown_grace: Duration::from_secs(30),
            retention_years: 3,
            backups: None,
        })
    }
}
