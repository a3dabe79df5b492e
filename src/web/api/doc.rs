//! The API's routes and its OpenAPI document, built from one table (`super::table`): each
//! route is added with its handler and what it takes and answers, so the router and the
//! document cannot disagree. Schemas come from the types (`utoipa::ToSchema`): the
//! records and pages the handlers answer, the request bodies of `bodies`, the text enums
//! (their values from the enum itself), and the error shape every refusal has.

use std::collections::{BTreeMap, BTreeSet};

use axum::handler::Handler;
use axum::routing::{self, MethodRouter};
use axum::Router;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, RefOr,
    Required, ResponseBuilder, ServerBuilder,
};
use utoipa::{PartialSchema, ToSchema};

use crate::app::AppState;

type Schemas = Vec<(String, RefOr<Schema>)>;

/// What an operation answers when it succeeds.
enum Answer {
    Json(&'static str, Box<RefOr<Schema>>),
    Csv,
    Xlsx,
    /// A workbook or a CSV table, by the file asked for.
    File,
    /// 204, no body.
    Empty,
}

/// What an operation takes as its body.
enum Body {
    None,
    Json {
        schema: Box<RefOr<Schema>>,
        required: bool,
    },
    Csv,
}

/// One operation: its id (unique in the document), what it does, and what it takes and
/// answers.
pub struct Op {
    id: &'static str,
    summary: &'static str,
    body: Body,
    answer: Answer,
    public: bool,
    schemas: Schemas,
}

/// An operation answering 200 with `T`.
pub fn op<T: ToSchema>(id: &'static str, summary: &'static str) -> Op {
    let mut schemas = Vec::new();
    T::schemas(&mut schemas);
    Op {
        id,
        summary,
        body: Body::None,
        answer: Answer::Json("200", Box::new(T::schema())),
        public: false,
        schemas,
    }
}

/// An operation answering a page of `T` (`{items, page, per_page, total}`).
pub fn page<T: ToSchema>(id: &'static str, summary: &'static str) -> Op {
    op::<crate::domain::list::Page<T>>(id, summary).naming::<T>()
}

/// An operation answering a whole short list of `T` (`{items}`).
pub fn items<T: ToSchema>(id: &'static str, summary: &'static str) -> Op {
    op::<super::responses::Items<T>>(id, summary).naming::<T>()
}

impl Op {
    /// Adds `T` (named by a generic answer) to the document's schemas.
    fn naming<T: ToSchema>(mut self) -> Op {
        self.schemas.push((T::name().into(), T::schema()));
        T::schemas(&mut self.schemas);
        self
    }

    /// Answers 201 (a record was made) rather than 200.
    pub fn created(mut self) -> Op {
        if let Answer::Json(_, schema) = self.answer {
            self.answer = Answer::Json("201", schema);
        }
        self
    }

    /// Takes a JSON object body `B`, required.
    pub fn body<B: ToSchema>(self) -> Op {
        self.json_body::<B>(true)
    }

    /// Takes a JSON object body `B` that may be left out (every field is optional).
    pub fn optional_body<B: ToSchema>(self) -> Op {
        self.json_body::<B>(false)
    }

    /// Takes a JSON array of `B`.
    pub fn array_body<B: ToSchema>(mut self) -> Op {
        B::schemas(&mut self.schemas);
        let schema = ArrayBuilder::new().items(closed(B::schema())).build();
        self.body = Body::Json {
            schema: Box::new(RefOr::T(Schema::Array(schema))),
            required: true,
        };
        self
    }

    fn json_body<B: ToSchema>(mut self, required: bool) -> Op {
        B::schemas(&mut self.schemas);
        self.body = Body::Json {
            schema: Box::new(closed(B::schema())),
            required,
        };
        self
    }

    /// Takes a CSV file as the body.
    pub fn csv_body(mut self) -> Op {
        self.body = Body::Csv;
        self
    }

    /// Answers a CSV table.
    pub fn csv(mut self) -> Op {
        self.answer = Answer::Csv;
        self
    }

    /// Answers an Excel workbook.
    pub fn xlsx(mut self) -> Op {
        self.answer = Answer::Xlsx;
        self
    }

    /// Answers the file named in the path: a workbook or a CSV table.
    pub fn file(mut self) -> Op {
        self.answer = Answer::File;
        self
    }

    /// Answers 204 with no body.
    pub fn empty(mut self) -> Op {
        self.answer = Answer::Empty;
        self
    }

    /// Needs no token.
    pub fn public(mut self) -> Op {
        self.public = true;
        self
    }
}

/// The object schema refusing fields it does not name, as the server does.
fn closed(mut schema: RefOr<Schema>) -> RefOr<Schema> {
    if let RefOr::T(Schema::Object(object)) = &mut schema {
        object.additional_properties = Some(Box::new(
            utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
        ));
    }
    schema
}

/// An operation answering 200 with a file (its content type set by `csv`, `xlsx` or
/// `file`).
pub fn download(id: &'static str, summary: &'static str) -> Op {
    op::<String>(id, summary)
}

/// The routes and the document, built together.
pub struct Api {
    order: Vec<String>,
    routes: BTreeMap<String, MethodRouter<AppState>>,
    paths: Paths,
    ids: BTreeSet<&'static str>,
    schemas: Schemas,
    query: &'static [(&'static str, &'static [&'static str])],
}

impl Api {
    /// `query`: the query parameters each route reads (the rest are refused).
    pub fn new(query: &'static [(&'static str, &'static [&'static str])]) -> Api {
        Api {
            order: Vec::new(),
            routes: BTreeMap::new(),
            paths: Paths::new(),
            ids: BTreeSet::new(),
            schemas: Vec::new(),
            query,
        }
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &str, h: H, op: Op) -> Api {
        self.add(path, HttpMethod::Get, routing::get(h), op)
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &str, h: H, op: Op) -> Api {
        self.add(path, HttpMethod::Post, routing::post(h), op)
    }

    pub fn put<H: Handler<T, AppState>, T: 'static>(self, path: &str, h: H, op: Op) -> Api {
        self.add(path, HttpMethod::Put, routing::put(h), op)
    }

    fn add(mut self, path: &str, method: HttpMethod, route: MethodRouter<AppState>, op: Op) -> Api {
        assert!(
            self.ids.insert(op.id),
            "operation id {} is used twice",
            op.id
        );
        let merged = match self.routes.remove(path) {
            Some(existing) => existing.merge(route),
            None => {
                self.order.push(path.to_string());
                route
            }
        };
        self.routes.insert(path.to_string(), merged);
        let names = self
            .query
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, names)| *names)
            .unwrap_or(&[]);
        let (operation, mut schemas) = operation(path, op, names);
        self.schemas.append(&mut schemas);
        self.paths
            .add_path_operation(format!("/api/v1{path}"), vec![method], operation);
        self
    }

    /// The router (paths under `/api/v1`, as nested) and the document.
    pub fn finish(mut self) -> (Router<AppState>, OpenApi) {
        let mut router = Router::new();
        for path in &self.order {
            if let Some(route) = self.routes.remove(path) {
                router = router.route(path, route);
            }
        }
        let mut components = ComponentsBuilder::new()
            .schema("Error", error_schema())
            .security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        let mut named: BTreeMap<String, RefOr<Schema>> = BTreeMap::new();
        for (name, schema) in self.schemas {
            if let Some(other) = named.get(&name) {
                // Two types of one name would share one schema: the document would lie.
                assert!(other == &schema, "two schemas are named {name}");
            }
            named.insert(name, schema);
        }
        for (name, schema) in named {
            components = components.schema(name, schema);
        }
        let doc = OpenApiBuilder::new()
            .info(
                InfoBuilder::new()
                    .title("Outreach API")
                    .version("1")
                    .description(Some(
                        "Bookings, attendance and impact reporting for theatre in education. \
                         Authenticate with 'Authorization: Bearer <token>' (outreach token \
                         create --email E). Lists answer {items, page, per_page, total}. Every \
                         refusal answers {\"error\": {code, message, fields}}; a field or query \
                         parameter a request does not take is refused (422) by name.",
                    ))
                    .build(),
            )
            .servers(Some([ServerBuilder::new().url("/").build()]))
            .paths(self.paths)
            .components(Some(components.build()))
            .security(Some([SecurityRequirement::new(
                "bearer",
                Vec::<String>::new(),
            )]))
            .build();
        (router, doc)
    }
}

/// `{"error": {"code", "message", "fields"}}`, the shape of every refusal.
fn error_schema() -> Schema {
    let text = || ObjectBuilder::new().schema_type(Type::String);
    let error = ObjectBuilder::new()
        .property("code", text())
        .property("message", text())
        .property(
            "fields",
            ObjectBuilder::new()
                .additional_properties(Some(text()))
                .build(),
        )
        .required("code")
        .required("message")
        .required("fields");
    Schema::Object(
        ObjectBuilder::new()
            .property("error", error)
            .required("error")
            .build(),
    )
}

fn operation(path: &str, op: Op, query: &[&str]) -> (utoipa::openapi::path::Operation, Schemas) {
    let mut b = OperationBuilder::new()
        .operation_id(Some(op.id))
        .summary(Some(op.summary));
    for name in path_params(path) {
        b = b.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(path_schema(name))),
        );
    }
    for name in query {
        b = b.parameter(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .schema(Some(query_schema(path, name))),
        );
    }
    b = match op.body {
        Body::None => b,
        Body::Json { schema, required } => b.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(if required {
                    Required::True
                } else {
                    Required::False
                }))
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(*schema)).build(),
                )
                .build(),
        )),
        Body::Csv => b.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(
                    "text/csv",
                    ContentBuilder::new().schema(Some(String::schema())).build(),
                )
                .build(),
        )),
    };
    let (status, answer) = match op.answer {
        Answer::Json(status, schema) => (
            status,
            ResponseBuilder::new().description("success").content(
                "application/json",
                ContentBuilder::new().schema(Some(*schema)).build(),
            ),
        ),
        Answer::Csv => ("200", file_response(&["text/csv"])),
        Answer::Xlsx => ("200", file_response(&[XLSX])),
        Answer::File => ("200", file_response(&[XLSX, "text/csv"])),
        Answer::Empty => ("204", ResponseBuilder::new().description("done; no body")),
    };
    b = b.response(status, answer.build());
    let error = || {
        ContentBuilder::new()
            .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                "Error",
            ))))
            .build()
    };
    for (code, why) in [
        ("400", "a path value or body that cannot be read"),
        ("401", "no token, or a wrong one"),
        ("403", "the caller's role may not"),
        ("404", "no such record, or not one the caller may see"),
        ("409", "refused by a rule, with the reason"),
        ("422", "fields or parameters that are not valid, each named"),
        (
            "default",
            "another refusal: 413 too large, 429 too many, 503 busy",
        ),
    ] {
        b = b.response(
            code,
            ResponseBuilder::new()
                .description(why)
                .content("application/json", error())
                .build(),
        );
    }
    if op.public {
        b = b.securities(Some(Vec::<SecurityRequirement>::new()));
    }
    (b.build(), op.schemas)
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn file_response(types: &[&str]) -> ResponseBuilder {
    let mut r = ResponseBuilder::new().description("the file");
    for t in types {
        r = r.content(*t, ContentBuilder::new().build());
    }
    r
}

fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

fn integer(min: i64, max: i64) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(min as f64))
        .maximum(Some(max as f64))
        .into()
}

fn path_schema(name: &str) -> RefOr<Schema> {
    match name {
        "year" => integer(1900, 2999),
        "kind" => crate::domain::input::enum_schema(&["schools", "programmes"]),
        "file" => crate::domain::input::enum_schema(&crate::web::exports::FILES),
        _ => integer(1, i64::from(i32::MAX)),
    }
}

fn query_schema(path: &str, name: &str) -> RefOr<Schema> {
    use crate::domain::types::{BookingStatus, EventKind, EventStatus, Moderation};
    let text = |max: usize| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(max))
            .into()
    };
    let date = || {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Date,
            )))
            .into()
    };
    let boolean = || ObjectBuilder::new().schema_type(Type::Boolean).into();
    match name {
        "page" => integer(1, 1_000_000),
        "per_page" => integer(1, crate::domain::list::MAX_PER_PAGE),
        "q" => ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(100))
            .into(),
        "archived" | "include_closed" => boolean(),
        "from" | "to" => date(),
        "kind" => EventKind::schema(),
        "status" if path.starts_with("/events") => EventStatus::schema(),
        "status" => BookingStatus::schema(),
        "moderation" => Moderation::schema(),
        "filter" => crate::domain::input::enum_schema(&["all", "published", "featured"]),
        n if n.ends_with("_id") => integer(1, i64::from(i32::MAX)),
        _ => text(200),
    }
}
