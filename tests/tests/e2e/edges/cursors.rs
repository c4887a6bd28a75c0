//! Job-list cursors the api did not give this advertiser: refused as 400, never a 500.

use ratify_tests::assert_error;
use reqwest::StatusCode;

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_cursor_the_api_did_not_give_this_advertiser_is_400_never_500() {
    let stack = Stack::builder().workers(0).start().await;
    let client = setup(&stack).await;
    for advertiser in [ADV, OTHER] {
        for i in 0..3 {
            client.submit(advertiser, &json!([{"action": "approve", "transaction": {"transactionId": i + 1}}])).await;
        }
    }
    let first_page = |advertiser: i64| {
        let client = &client;
        async move {
            let (status, page) = client.get(&format!("/advertisers/{advertiser}/transactions/jobs?limit=1")).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            (page["jobs"][0].clone(), page["nextCursor"].as_str().expect("a next page").to_owned())
        }
    };
    let (job, cursor) = first_page(ADV).await;
    let (_, others) = first_page(OTHER).await;
    // The cursor given out works, and is opaque: it does not show the job it follows.
    let (status, page) = client.get(&format!("/advertisers/{ADV}/transactions/jobs?limit=1&cursor={cursor}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_ne!(page["jobs"][0]["jobId"], job["jobId"], "the second page starts after the first");
    assert!(!cursor.contains(job["jobId"].as_str().expect("jobId")), "{cursor}");

    let mut flipped = cursor.clone().into_bytes();
    flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
    let job_id = job["jobId"].as_str().expect("jobId");
    let tampered = [
        "-300000000000000000.00000000-0000-0000-0000-000000000000".to_owned(),
        format!("{}.{}", i64::MAX, job_id),
        "1790000000000000.not-a-uuid".to_owned(),
        format!("1790000000000000.{job_id}"),
        String::from_utf8(flipped).expect("ascii"),
        cursor[..cursor.len() - 2].to_owned(),
        format!("{cursor}AA"),
        "%%%not-base64%%%".to_owned(),
        "A".repeat(10_000),
        // A well-formed cursor, given out by this api, for another advertiser.
        others,
    ];
    for bad in tampered {
        let got = client.get(&format!("/advertisers/{ADV}/transactions/jobs?cursor={bad}")).await;
        assert_eq!(assert_error(&format!("cursor {bad:.60}"), &got, StatusCode::BAD_REQUEST), "BAD_REQUEST");
    }
}
