//! The school directory's pages (staff): the shared directory pages, with a school's
//! columns and fields.

use crate::db::AnyConnection;
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::{ListParams, Page};
use crate::domain::schools::{self, School};
use crate::domain::types::Phase;
use crate::error::{AppResult, FieldErrors};
use crate::web::pages::directory::Resource;
pub use crate::web::records::Schools;
use crate::web::view::{Cell, FieldsBuilder, FormField};

impl Resource for Schools {
    const ONE: &'static str = "school";
    const TITLE: &'static str = "Schools";
    const ADD: &'static str = "Add a school";
    const SEARCH_HINT: &'static str = "Name, URN, district, town or postcode";
    const EMPTY: &'static str =
        "No schools yet. Add one, or import the national register's CSV (Import).";
    const COLUMNS: &'static [&'static str] =
        &["Name", "URN", "District", "Phase", "Postcode", "Pupils"];

    fn blank() -> Input {
        Input::from_pairs([("phase", "primary")])
    }
    fn list(c: &mut AnyConnection, params: &ListParams) -> AppResult<Page<School>> {
        schools::list(c, params)
    }
    fn get(c: &mut AnyConnection, id: i32) -> AppResult<School> {
        schools::get(c, id)
    }
    fn id(s: &School) -> i32 {
        s.id
    }
    fn name(s: &School) -> String {
        s.name.clone()
    }
    fn archived(s: &School) -> bool {
        s.archived
    }
    fn cells(s: &School) -> Vec<Cell> {
        vec![
            Cell::opt(s.urn),
            Cell::text(&s.district),
            Cell::text(s.phase),
            Cell::text(&s.postcode),
            Cell::opt(s.pupils),
        ]
    }
    fn fields(input: &Input, errors: &FieldErrors) -> Vec<FormField> {
        let mut f = FieldsBuilder::new(input, errors);
        f.required("name", "Name", "text");
        f.add("urn", "URN", "number")
            .hint("The register's unique reference number, if the school has one.");
        f.choice::<Phase>("phase", "Phase", None);
        f.add("local_authority", "Local authority", "text");
        f.add("district", "District", "text");
        f.add("town", "Town", "text");
        f.add("postcode", "Postcode", "text");
        f.add("pupils", "Number of pupils", "number");
        f.add("fsm_percent", "Free school meals (%)", "number");
        f.add("contact_email", "Contact e-mail", "email").hint(
            "The school office or the teacher you deal with; invitations to the schools of a programme go here.",
        );
        f.finish()
    }
    fn input_of(s: &School) -> Input {
        let opt = |v: Option<String>| v.unwrap_or_default();
        Input::from_pairs([
            ("name", s.name.clone()),
            ("urn", opt(s.urn.map(|v| v.to_string()))),
            ("phase", s.phase.as_str().to_string()),
            ("local_authority", s.local_authority.clone()),
            ("district", s.district.clone()),
            ("town", s.town.clone()),
            ("postcode", s.postcode.clone()),
            ("pupils", opt(s.pupils.map(|v| v.to_string()))),
            ("fsm_percent", opt(s.fsm_percent.map(|v| v.to_string()))),
            ("contact_email", s.contact_email.clone()),
        ])
    }
}
