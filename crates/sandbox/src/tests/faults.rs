//! Scripted faults without a server: which requests a fault takes, and a revoked token.

use crate::faults::{After, Faults, Plan};
use crate::*;

fn fate(faults: &mut Faults, method: Method, path: &str, token: &str) -> &'static str {
    match faults.plan(&method, path, Some(token)) {
        Plan::Pass => "pass",
        Plan::Replace(r) if r.status() == StatusCode::UNAUTHORIZED => "401",
        Plan::Replace(_) => "replace",
        Plan::Reset => "reset",
        Plan::Hang(_) => "hang",
        Plan::After(After::Truncate) => "truncate",
        Plan::After(After::Lose) => "lose",
    }
}

#[test]
fn skip_then_times_on_matching_method_and_path_only() {
    let mut faults = Faults::default();
    faults.inject(
        Fault::new("GET", "/actions/secrets", FaultKind::Reset)
            .skip(1)
            .times(2),
    );
    let list = "/repos/o/r/actions/secrets";
    let fates: Vec<_> = (0..4)
        .map(|_| fate(&mut faults, Method::GET, list, "t"))
        .collect();
    assert_eq!(fates, ["pass", "reset", "reset", "pass"]);
    faults.clear();
    faults.inject(Fault::new("GET", "/actions/secrets", FaultKind::Reset));
    assert_eq!(fate(&mut faults, Method::PUT, list, "t"), "pass");
    assert_eq!(
        fate(
            &mut faults,
            Method::GET,
            "/repos/o/r/actions/secrets/X",
            "t"
        ),
        "pass"
    );
    assert_eq!(fate(&mut faults, Method::GET, list, "t"), "reset");
}

#[test]
fn a_revoked_token_is_refused_everywhere_until_cleared() {
    let mut faults = Faults::default();
    faults.inject(Fault::new("PUT", "", FaultKind::RevokeToken).skip(1));
    let put = "/repos/o/r/actions/secrets/A";
    assert_eq!(fate(&mut faults, Method::PUT, put, "t"), "pass");
    assert_eq!(fate(&mut faults, Method::PUT, put, "t"), "401");
    assert_eq!(fate(&mut faults, Method::GET, "/user", "t"), "401");
    assert_eq!(fate(&mut faults, Method::GET, "/user", "other"), "pass");
    faults.clear();
    assert_eq!(fate(&mut faults, Method::GET, "/user", "t"), "pass");
}
