//! Pagination with continue tokens, aggregations and subscriptions, each
//! while ingest goes on.

mod common;

use common::*;
use kevdb_engine::{Db, Error, GroupBy, Order, Query, Timestamp};
use std::collections::HashMap;
use std::time::Duration;

fn fill(db: &Db, n: i64, prefix: &str) {
    let reasons = ["BackOff", "Pulled", "Failed", "Scheduled", "BackOff"];
    let events: Vec<_> = (0..n)
        .map(|i| {
            let reason = reasons[(i % 5) as usize];
            event(
                &format!("{prefix}{i}"),
                &format!("ns{}", i % 3),
                reason,
                "Pod",
                &format!("p{}", i % 7),
                1,
                BASE + i * 60_000_000,
            )
        })
        .collect();
    for chunk in events.chunks(97) {
        db.append(chunk.to_vec()).unwrap();
    }
}

#[test]
fn paging_during_ingest_returns_each_event_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    fill(&db, 1500, "e");
    db.flush().unwrap();
    fill(&db, 300, "m"); // some rows sealed, some in memory
    for order in [Order::NewestFirst, Order::OldestFirst] {
        let q = Query::new().order(order);
        let expected: Vec<_> = db.query(&q).unwrap().map(|r| r.seq).collect();
        let mut got = Vec::new();
        let mut token: Option<String> = None;
        let mut page_no = 0;
        loop {
            let page = db.query_page(&q, 37, token.as_deref()).unwrap();
            got.extend(page.items.iter().map(|r| r.seq));
            // Meanwhile: new events, and newer observations of listed ones.
            db.append(vec![event(
                &format!("late-{order:?}-{page_no}"),
                "ns0",
                "Pulled",
                "Pod",
                "x",
                1,
                BASE + 500 * DAY,
            )])
            .unwrap();
            db.append(vec![event("e5", "ns2", "Pulled", "Pod", "p5", 9, BASE + 400 * DAY)]).unwrap();
            if page_no == 10 {
                db.flush().unwrap();
                db.compact().unwrap();
            }
            page_no += 1;
            match page.continue_token {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        assert_eq!(got, expected, "{order:?}: the pinned snapshot is paged exactly once, in order");
    }
}

#[test]
fn forged_foreign_and_stale_tokens_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    fill(&db, 200, "e");
    let q = Query::new();
    let page = db.query_page(&q, 10, None).unwrap();
    let token = page.continue_token.unwrap();
    let mut forged = token.clone().into_bytes();
    let last = forged.len() - 5;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    assert!(matches!(db.query_page(&q, 10, Some(&forged)), Err(Error::InvalidToken(_))));
    assert!(matches!(db.query_page(&q.clone().namespace("ns1"), 10, Some(&token)), Err(Error::InvalidToken(_))));
    assert!(matches!(db.query_page(&q, 10, Some("not a token")), Err(Error::InvalidToken(_))));
    // After a restart, a latest-only snapshot that new observations have
    // since changed cannot be reproduced: 410-style Expired.
    db.append(vec![event("e3", "ns0", "Failed", "Pod", "p3", 5, BASE + DAY)]).unwrap();
    db.flush().unwrap();
    db.close().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    assert!(matches!(db.query_page(&q, 10, Some(&token)), Err(Error::Expired(_))));
    // A history-mode token stays valid across restarts.
    let hq = Query::new().history(true);
    let t = db.query_page(&hq, 10, None).unwrap().continue_token.unwrap();
    db.close().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    assert_eq!(db.query_page(&hq, 10, Some(&t)).unwrap().items.len(), 10);
}

#[test]
fn counts_top_n_and_histograms_match_a_direct_count() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    fill(&db, 1000, "e");
    db.flush().unwrap();
    fill(&db, 100, "m");
    let q = Query::new().event_type("Warning");
    let mut want: HashMap<(String, String), u64> = HashMap::new();
    for r in db.query(&q).unwrap() {
        *want.entry((r.event.reason().to_string(), r.event.namespace().to_string())).or_default() += 1;
    }
    let got = db.count_by(&q, &[GroupBy::Reason, GroupBy::Namespace], None).unwrap();
    assert_eq!(got.len(), want.len());
    for g in &got {
        assert_eq!(want[&(g.key[0].clone(), g.key[1].clone())], g.count, "{g:?}");
    }
    assert!(got.windows(2).all(|w| w[0].count >= w[1].count));
    let top = db.count_by(&q, &[GroupBy::Reason], Some(1)).unwrap();
    assert_eq!(top.len(), 1);
    assert_eq!(top[0].key, vec!["BackOff".to_string()]);
    assert!(db.count_by(&q, &[], None).is_err());

    let window = Query::new().reason("BackOff").since(Timestamp(BASE)).until(Timestamp(BASE + DAY));
    let hist = db.histogram(&window, Duration::from_secs(3600)).unwrap();
    assert_eq!(hist.len(), 24, "every hour of the window, empty ones too");
    assert_eq!(hist[0].start, Timestamp(BASE));
    let total: u64 = hist.iter().map(|b| b.count).sum();
    assert_eq!(total as usize, db.query(&window).unwrap().count());
    for b in &hist {
        let n = db
            .query(&Query::new().reason("BackOff"))
            .unwrap()
            .filter(|r| (b.start.0..b.start.0 + HOUR).contains(&r.last_seen().0))
            .count();
        assert_eq!(b.count as usize, n, "bucket {}", b.start);
    }
}

#[test]
fn a_subscription_from_an_old_seq_sees_every_observation_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), small_options()).unwrap();
    fill(&db, 800, "old");
    db.flush().unwrap();
    fill(&db, 200, "mem");
    let from = 250;
    let q = Query::new().namespace("ns1");
    let mut sub = db.subscribe(&q, from).unwrap();
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            for round in 0..20 {
                fill(&db, 50, &format!("live{round}-"));
                if round == 7 {
                    db.flush().unwrap();
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        let mut seen = Vec::new();
        loop {
            match sub.next_timeout(Duration::from_millis(500)).unwrap() {
                Some(r) => seen.push(r),
                None if writer.is_finished() => break,
                None => {}
            }
        }
        writer.join().unwrap();
        while let Some(r) = sub.try_next().unwrap() {
            seen.push(r);
        }
        let want: Vec<_> = {
            let mut all: Vec<_> = db.query(&q.clone().history(true)).unwrap().filter(|r| r.seq.0 > from).collect();
            all.sort_by_key(|r| r.seq);
            all.into_iter().map(|r| r.seq).collect()
        };
        let got: Vec<_> = seen.iter().map(|r| r.seq).collect();
        assert_eq!(got, want, "no gap, no duplicate, seq order across storage and live");
        assert!(got.len() > 300);
        assert!(seen.iter().all(|r| r.event.namespace() == "ns1"));
        assert_eq!(sub.position(), db.last_seq());
    });
}

#[test]
fn purged_observations_vanish_from_every_read_survive_reopen_and_leave_at_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let opts = kevdb_engine::Options { compaction_min_segments: 2, ..small_options() };
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    fill(&db, 1200, "e");
    db.flush().unwrap();
    fill(&db, 50, "m");
    let target = Query::new().namespace("ns1").until(Timestamp(BASE + 10 * HOUR));
    let before_all = db.count(&Query::new().history(true)).unwrap();
    let doomed = db.count(&target.clone().history(true)).unwrap();
    assert!(doomed > 0);
    assert_eq!(db.purge(&target).unwrap(), doomed);
    assert_eq!(db.count(&target.clone().history(true)).unwrap(), 0);
    assert_eq!(db.query(&target).unwrap().count(), 0);
    assert_eq!(db.count(&Query::new().history(true)).unwrap(), before_all - doomed);
    let mut sub = db.subscribe(&target, 0).unwrap();
    assert!(sub.try_next().unwrap().is_none(), "subscriptions skip purged observations");
    drop(sub); // a subscription keeps the database open
    db.close().unwrap();
    let db = Db::open(dir.path(), opts).unwrap();
    assert_eq!(db.count(&target.clone().history(true)).unwrap(), 0, "the purge is durable");
    let rows_before = db.stats().segment_rows;
    db.flush().unwrap();
    db.compact().unwrap();
    assert!(db.stats().segment_rows < rows_before, "compaction dropped purged rows");
    assert_eq!(db.count(&Query::new().history(true)).unwrap(), before_all - doomed);
}
