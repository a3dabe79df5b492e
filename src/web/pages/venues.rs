//! The venue directory's pages (staff): the shared directory pages, with a venue's
//! columns and fields.

use crate::db::AnyConnection;
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::{ListParams, Page};
use crate::domain::types::VenueKind;
use crate::domain::venues::{self, Venue};
use crate::error::{AppResult, FieldErrors};
use crate::web::pages::directory::Resource;
pub use crate::web::records::Venues;
use crate::web::view::{Cell, FieldsBuilder, FormField};

impl Resource for Venues {
    const ONE: &'static str = "venue";
    const TITLE: &'static str = "Venues";
    const ADD: &'static str = "Add a venue";
    const SEARCH_HINT: &'static str = "Name or postcode";
    const EMPTY: &'static str =
        "No venues yet. Add the arts centres and halls where public performances are held.";
    const COLUMNS: &'static [&'static str] = &["Name", "Kind", "Postcode", "Capacity"];

    fn blank() -> Input {
        Input::from_pairs([("kind", "arts_centre")])
    }
    fn list(c: &mut AnyConnection, params: &ListParams) -> AppResult<Page<Venue>> {
        venues::list(c, params)
    }
    fn get(c: &mut AnyConnection, id: i32) -> AppResult<Venue> {
        venues::get(c, id)
    }
    fn id(v: &Venue) -> i32 {
        v.id
    }
    fn name(v: &Venue) -> String {
        v.name.clone()
    }
    fn archived(v: &Venue) -> bool {
        v.archived
    }
    fn cells(v: &Venue) -> Vec<Cell> {
        vec![
            Cell::text(v.kind),
            Cell::text(&v.postcode),
            Cell::opt(v.capacity),
        ]
    }
    fn fields(input: &Input, errors: &FieldErrors) -> Vec<FormField> {
        let mut f = FieldsBuilder::new(input, errors);
        f.required("name", "Name", "text");
        f.choice::<VenueKind>("kind", "Kind", None);
        f.add("postcode", "Postcode", "text");
        f.add("capacity", "Capacity (places)", "number");
        f.finish()
    }
    fn input_of(v: &Venue) -> Input {
        Input::from_pairs([
            ("name", v.name.clone()),
            ("kind", v.kind.as_str().to_string()),
            ("postcode", v.postcode.clone()),
            (
                "capacity",
                v.capacity.map(|c| c.to_string()).unwrap_or_default(),
            ),
        ])
    }
}
