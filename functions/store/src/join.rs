//! Two futures run together. On PostgreSQL, statements issued together go out on the connection
//! without one waiting for the other's answer (the host pipelines them), so independent
//! statements under the write lock cost one round trip instead of two. On SQLite each statement
//! completes when it is polled: the two run one after the other, as before.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;

/// Both outputs, once both futures are done. `a` is polled first each time.
pub(crate) async fn both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    poll_fn(|cx| {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        match (ra.take(), rb.take()) {
            (Some(x), Some(y)) => Poll::Ready((x, y)),
            (x, y) => {
                (ra, rb) = (x, y);
                Poll::Pending
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::both;

    /// Ready after `n` polls, logging each poll.
    async fn after(n: usize, name: &'static str, log: &RefCell<Vec<&'static str>>) -> &'static str {
        let mut left = n;
        std::future::poll_fn(|cx| {
            log.borrow_mut().push(name);
            if left == 0 {
                return Poll::Ready(name);
            }
            left -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        })
        .await
    }

    #[test]
    fn both_are_started_before_either_is_waited_for_and_both_outputs_come_back() {
        let log = RefCell::new(Vec::new());
        let mut f = pin!(both(after(2, "a", &log), after(0, "b", &log)));
        let mut cx = Context::from_waker(Waker::noop());
        let mut polls = 0;
        let out = loop {
            polls += 1;
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                break v;
            }
        };
        assert_eq!(out, ("a", "b"));
        assert_eq!(polls, 3);
        assert_eq!(*log.borrow(), ["a", "b", "a", "a"], "b started on the first poll and was not polled once done");
    }
}
