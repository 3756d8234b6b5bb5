use super::*;

const PUT: &str = "PUT /repos/{}/{}/actions/secrets/{}";

fn budget(points: u32, window_secs: u64) -> Budget {
    Budget {
        in_flight: 100,
        points,
        window: Duration::from_secs(window_secs),
        read_points: 1,
        write_points: 5,
    }
}

/// A write of `name` in `repo`, as the transport sends it, answered at once.
async fn write(pacer: &Pacer, repo: &str, name: &str) -> Sent {
    let uri = format!("/repos/acme/{repo}/actions/secrets/{name}");
    let sent = pacer.admit(&Method::PUT, &uri).await.start();
    pacer.answered(&sent);
    sent
}

#[test]
fn endpoints_are_templates_of_the_path() {
    let put = |uri: &str| endpoint(&Method::PUT, uri);
    assert_eq!(put("/repos/acme/api/actions/secrets/TOKEN"), PUT);
    assert_eq!(put("/repos/other/web/actions/secrets/OTHER_NAME"), PUT);
    // An owner or repository named like a keyword is still a name.
    assert_eq!(put("/repos/secrets/repos/actions/secrets/X"), PUT);
    let get = |uri: &str| endpoint(&Method::GET, uri);
    assert_eq!(
        get("/repos/a/b/actions/secrets?per_page=100&page=2"),
        "GET /repos/{}/{}/actions/secrets"
    );
    assert_eq!(
        get("/repos/a/b/actions/secrets/public-key"),
        "GET /repos/{}/{}/actions/secrets/public-key"
    );
    assert_eq!(
        get("https://api.github.com/repositories/17/environments/prod/secrets?page=2"),
        "GET /repositories/{}/environments/{}/secrets"
    );
    assert_eq!(
        endpoint(
            &Method::DELETE,
            "/orgs/acme/actions/secrets/X/repositories/9"
        ),
        "DELETE /orgs/{}/actions/secrets/{}/repositories/{}"
    );
    // GitHub Enterprise's prefix stays as it is.
    assert_eq!(
        endpoint(
            &Method::PATCH,
            "https://ghe.example/api/v3/orgs/o/actions/variables/V"
        ),
        "PATCH /api/v3/orgs/{}/actions/variables/{}"
    );
    assert_ne!(
        get("/repos/a/b/actions/secrets"),
        get("/repos/a/b/actions/variables")
    );
}

#[tokio::test(start_paused = true)]
async fn a_burst_within_the_budget_goes_at_once() {
    let pacer = Pacer::new(budget(50, 60), None);
    let begun = Instant::now();
    for i in 0..10 {
        write(&pacer, "api", &format!("S{i}")).await;
    }
    assert_eq!(
        begun.elapsed(),
        Duration::ZERO,
        "ten writes of 5 fit 50 points"
    );
}

#[tokio::test(start_paused = true)]
async fn a_request_past_the_budget_waits_for_the_oldest_to_leave_the_window() {
    let pacer = Pacer::new(budget(10, 60), None);
    let begun = Instant::now();
    write(&pacer, "api", "A").await;
    tokio::time::advance(Duration::from_secs(10)).await;
    write(&pacer, "web", "B").await;
    // The same endpoint in another repository: full until A's start leaves the window.
    write(&pacer, "db", "C").await;
    let window = Duration::from_secs(60);
    assert_eq!(begun.elapsed(), window, "C waited for A, not for B");
    write(&pacer, "db", "D").await;
    assert_eq!(
        begun.elapsed(),
        window + Duration::from_secs(10),
        "then for B"
    );
    // Reads are another endpoint, with their own budget.
    pacer
        .admit(&Method::GET, "/repos/acme/api/actions/secrets")
        .await
        .start();
    assert_eq!(begun.elapsed(), window + Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn a_limit_answer_refunds_and_teaches_the_budget_spent_before_it() {
    let pacer = Pacer::new(budget(900, 60), None);
    let mut sent = Vec::new();
    for i in 0..6 {
        sent.push(write(&pacer, "api", &format!("S{i}")).await);
    }
    // The server allowed four writes: the fifth and sixth were refused, answered in any order.
    pacer.limited(&sent[5]);
    pacer.limited(&sent[4]);
    assert_eq!(pacer.budget_of(PUT), Some(20));
    // The window holds the four counted writes: a fifth waits for the first to expire.
    let begun = Instant::now();
    write(&pacer, "api", "AGAIN").await;
    assert_eq!(begun.elapsed(), Duration::from_secs(60));
    // Learning never goes below one request.
    let lone = Pacer::new(budget(900, 60), None);
    let first = write(&lone, "api", "A").await;
    lone.limited(&first);
    assert_eq!(lone.budget_of(PUT), Some(5));
}

#[tokio::test(start_paused = true)]
async fn an_admission_never_sent_gives_its_points_back() {
    let pacer = Pacer::new(budget(5, 60), None);
    drop(
        pacer
            .admit(&Method::PUT, "/repos/a/b/actions/secrets/A")
            .await,
    );
    let begun = Instant::now();
    write(&pacer, "b", "B").await;
    assert_eq!(begun.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn in_flight_is_the_lower_of_the_budget_and_the_ceiling() {
    let held = |pacer: Pacer| async move {
        let mut admitted = Vec::new();
        loop {
            let next = pacer.admit(&Method::GET, "/user");
            match tokio::time::timeout(Duration::from_secs(1), next).await {
                Ok(a) => admitted.push(a),
                Err(_) => return admitted.len(),
            }
        }
    };
    let small = Budget {
        in_flight: 7,
        ..budget(900, 60)
    };
    assert_eq!(held(Pacer::new(small, None)).await, 7);
    assert_eq!(held(Pacer::new(small, Some(3))).await, 3);
    assert_eq!(held(Pacer::new(small, Some(50))).await, 7);
}

#[tokio::test(start_paused = true)]
async fn points_expire_a_window_after_the_answer_not_the_start() {
    let pacer = Pacer::new(budget(5, 60), None);
    let uri = "/repos/acme/api/actions/secrets/SLOW";
    let slow = pacer.admit(&Method::PUT, uri).await.start();
    // Answered 30 s after it started: GitHub may have counted it as late as that.
    tokio::time::advance(Duration::from_secs(30)).await;
    pacer.answered(&slow);
    let begun = Instant::now();
    write(&pacer, "api", "NEXT").await;
    assert_eq!(begun.elapsed(), Duration::from_secs(60));
}

#[tokio::test(start_paused = true)]
async fn a_request_waiting_on_one_still_in_flight_goes_a_window_after_its_answer() {
    let pacer = std::sync::Arc::new(Pacer::new(budget(5, 60), None));
    let uri = "/repos/acme/api/actions/secrets/A";
    let first = pacer.admit(&Method::PUT, uri).await.start();
    let waiting = {
        let pacer = std::sync::Arc::clone(&pacer);
        tokio::spawn(async move {
            write(&pacer, "api", "B").await;
            Instant::now()
        })
    };
    tokio::time::advance(Duration::from_secs(10)).await;
    let answered_at = Instant::now();
    pacer.answered(&first);
    let started = waiting.await.expect("the waiting write");
    assert_eq!(started - answered_at, Duration::from_secs(60));
}
