//! The public view of a chain: what a client may see.

use std::io;

use verror::VError;

fn internal_chain(hiding: bool) -> VError {
    let db = VError::builder()
        .name("DbError")
        .info("query", "SELECT * FROM users WHERE id = 7")
        .cause(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "connection refused",
        ))
        .message("query failed")
        .backtrace(true)
        .build();
    let mut service = VError::builder()
        .name("ServiceUnavailable")
        .info("retry_after_s", 30)
        .sensitive_info("tenant_token", "tok-0123456789abcdef")
        .cause(db)
        .message("user service unavailable");
    if hiding {
        service = service.skip_cause_message();
    }
    let service = service.build();
    VError::builder()
        .name("RequestError")
        .info("method", "GET")
        .info("path", "/users/7")
        .cause(service)
        .message("GET /users/7 failed")
        .build()
}

fn views(err: &VError) -> String {
    format!(
        "== {{:#}}\n{err:#}\n\n== {{:?}}\n{err:?}\n\n== json\n{}\n",
        serde_json::to_string_pretty(err).unwrap()
    )
}

#[test]
fn with_a_hiding_level_the_chain_stops_there() {
    let public = verror::public_view(&internal_chain(true));
    assert_eq!(verror::chain(&public).count(), 2);
    assert!(public.location().is_none());
    assert!(verror::find_backtrace(&public).is_none());
    insta::assert_snapshot!("public_with_hiding_level", views(&public));
}

#[test]
fn without_a_hiding_level_only_the_top_level() {
    let public = verror::public_view(&internal_chain(false));
    assert_eq!(verror::chain(&public).count(), 1);
    insta::assert_snapshot!("public_without_hiding_level", views(&public));
}

#[test]
fn a_multierror_keeps_its_message_not_its_children() {
    let multi = VError::multi(vec![
        VError::new("shard 1 down"),
        VError::new("shard 2 down"),
    ]);
    let public = verror::public_view(&multi);
    assert_eq!(public.name(), "MultiError");
    assert_eq!(format!("{public:#}"), "first of 2 errors");
    assert!(public.errors().is_empty());
}

#[test]
fn a_foreign_top_level_keeps_its_name_and_text() {
    let err = io::Error::new(io::ErrorKind::TimedOut, "timed out");
    let public = verror::public_view(&err);
    assert_eq!(public.name(), "Error");
    assert_eq!(public.to_string(), "timed out");
}
