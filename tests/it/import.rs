//! Import of the national register's CSV through the API and the upload page.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use outreach::domain::types::Role;
use serde_json::Value;

use crate::both;
use crate::harness::{TestApp, CSRF};

/// A copy of SPEC's register sample (fictional schools), kept in the repository.
const SAMPLE: &str = include_str!("../fixtures/register-sample.csv");

pub fn sample() -> Vec<u8> {
    SAMPLE.as_bytes().to_vec()
}

async fn upload(app: &TestApp, query: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/import/schools{query}"))
        .header(header::AUTHORIZATION, format!("Bearer {}", app.admin.token))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(bytes))
        .unwrap();
    let (s, _, body) = app.send(req).await;
    (s, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

both!(register_sample_imports_and_reimports);
async fn register_sample_imports_and_reimports(app: TestApp) {
    let (s, r) = upload(&app, "", sample()).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["inserted"], 38);
    assert_eq!(r["skipped_closed"], 3);
    assert_eq!(r["rejected"].as_array().unwrap().len(), 0);
    assert_eq!(app.count("schools").await, 39);
    let (_, list) = app.get("/schools?q=112692", Some(Role::Admin)).await;
    assert_eq!(
        list["items"][0]["name"],
        "St Bega\u{2019}s CE Primary School"
    );
    assert_eq!(list["items"][0]["phase"], "primary");
    assert_eq!(list["items"][0]["pupils"], 201);

    let (_, r) = upload(&app, "", sample()).await;
    assert_eq!(
        (r["inserted"].as_i64(), r["unchanged"].as_i64()),
        (Some(0), Some(38))
    );
    let (_, r) = upload(&app, "?include_closed=true", sample()).await;
    assert_eq!(
        (r["inserted"].as_i64(), r["skipped_closed"].as_i64()),
        (Some(3), Some(0))
    );
    assert_eq!(app.count("schools").await, 42);
}

const HEADER: &str = "URN,EstablishmentName,LA (name),DistrictAdministrative (name),PhaseOfEducation (name),Postcode,NumberOfPupils,PercentageFSM,EstablishmentStatus (name),OpenDate\n";

both!(bad_rows_are_rejected_with_their_line);
async fn bad_rows_are_rejected_with_their_line(app: TestApp) {
    let file = format!(
        "{HEADER}\
         200001,Good School,Cumbria,South Lakeland,Primary,LA9 1AA,120,10.5,Open,01-09-1990\n\
         abc,Bad Urn School,Cumbria,South Lakeland,Primary,LA9 1AB,120,10.5,Open,\n\
         200002,,Cumbria,South Lakeland,Primary,LA9 1AC,120,10.5,Open,\n\
         200003,Negative School,Cumbria,South Lakeland,Primary,LA9 1AD,-3,10.5,Open,\n\
         200001,Duplicate School,Cumbria,South Lakeland,Primary,LA9 1AE,120,10.5,Open,\n\
         200004,Closed School,Cumbria,South Lakeland,Primary,LA9 1AF,120,10.5,Closed,\n\
         200005,Suppressed Fsm,Cumbria,South Lakeland,16 plus,LA9 1AG,,SUPP,Open,\n"
    );
    let (s, r) = upload(&app, "", file.into_bytes()).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["inserted"], 2);
    assert_eq!(r["skipped_closed"], 1);
    let lines: Vec<i64> = r["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, vec![3, 4, 5, 6]);
    assert!(r["rejected"][0]["reason"].as_str().unwrap().contains("URN"));
    assert!(r["rejected"][3]["reason"]
        .as_str()
        .unwrap()
        .contains("line 2"));
    let (_, list) = app.get("/schools?q=200005", Some(Role::Admin)).await;
    assert_eq!(list["items"][0]["phase"], "further_education");
    assert!(list["items"][0]["fsm_percent"].is_null());
}

both!(malformed_files_change_nothing);
async fn malformed_files_change_nothing(app: TestApp) {
    let before = (app.count("schools").await, app.count("audit_entries").await);
    let (s, r) = upload(&app, "", b"Name,Town\nA,B\n".to_vec()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert!(r["error"]["fields"]["file"]
        .as_str()
        .unwrap()
        .contains("URN"));
    // A good row followed by a broken line: the whole file is refused.
    let file = format!("{HEADER}200001,Good School,Cumbria,South Lakeland,Primary,LA9 1AA,120,10.5,Open,\n200002,\"Broken\n");
    let (s, r) = upload(&app, "", file.into_bytes()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    let file = format!("{HEADER}200001,Good School,Cumbria\n");
    let (s, _) = upload(&app, "", file.into_bytes()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (app.count("schools").await, app.count("audit_entries").await),
        before
    );
}

both!(windows_1252_files_are_read);
async fn windows_1252_files_are_read(app: TestApp) {
    let mut file = HEADER.as_bytes().to_vec();
    file.extend_from_slice(
        b"300001,St Bega\x92s School,Cumbria,Copeland,Primary,CA1 1AA,90,12.0,Open,\n",
    );
    let (s, r) = upload(&app, "", file).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let (_, list) = app.get("/schools?q=300001", Some(Role::Admin)).await;
    assert_eq!(list["items"][0]["name"], "St Bega\u{2019}s School");
}

both!(upload_page_imports_with_csrf);
async fn upload_page_imports_with_csrf(app: TestApp) {
    let multipart = |csrf: Option<&str>| {
        let boundary = "XBOUNDARYX";
        let mut body = Vec::new();
        if let Some(token) = csrf {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n").as_bytes());
        }
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"register.csv\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes());
        body.extend_from_slice(&sample());
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        Request::builder()
            .method(Method::POST)
            .uri("/import/schools")
            .header(
                header::COOKIE,
                format!(
                    "outreach_csrf={CSRF}; outreach_session={}",
                    app.admin.session
                ),
            )
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap()
    };
    let (s, _, _) = app.send(multipart(None)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(app.count("schools").await, 1);
    // The cookie's own value is not the token of a signed-in browser.
    let (s, _, _) = app.send(multipart(Some(CSRF))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(app.count("schools").await, 1);
    let (s, _, body) = app
        .send(multipart(Some(&app.csrf(Some(Role::Admin)))))
        .await;
    assert_eq!(s, StatusCode::OK);
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("Import report"), "{body}");
    assert!(body.contains("<dt>Added</dt><dd>38</dd>"));
    assert_eq!(app.count("schools").await, 39);
}
