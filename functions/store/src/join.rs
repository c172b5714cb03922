//! Two futures run together, the first polled first: [`both`] waits for both, [`first_decides`]
//! lets the first's answer drop the second. On PostgreSQL, statements issued together go out on
//! the connection in the order issued without one waiting for the other's answer, so independent
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

/// How [`first_decides`] ended.
#[derive(Debug, PartialEq)]
pub(crate) enum Decided<T> {
    /// `first` answered a value; `rest` was dropped.
    First(T),
    /// `first` answered `None`: `rest`'s output.
    Rest(T),
}

/// `first` and `rest` run together, `first` polled first each time (its statements go out
/// before `rest`'s), and `first`'s answer decides: an error or `Some` ends it at once — `rest`
/// is dropped, finished or not —, `None` waits for `rest`.
pub(crate) async fn first_decides<T, E, A, B>(first: A, rest: B) -> Result<Decided<T>, E>
where
    A: Future<Output = Result<Option<T>, E>>,
    B: Future<Output = Result<T, E>>,
{
    let (mut first, mut rest) = (pin!(first), pin!(rest));
    let (mut decided, mut done) = (false, None);
    poll_fn(|cx| {
        if !decided {
            match first.as_mut().poll(cx) {
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(Some(v))) => return Poll::Ready(Ok(Decided::First(v))),
                Poll::Ready(Ok(None)) => decided = true,
                Poll::Pending => {}
            }
        }
        if done.is_none()
            && let Poll::Ready(r) = rest.as_mut().poll(cx)
        {
            done = Some(r);
        }
        match (decided, done.take()) {
            (true, Some(r)) => Poll::Ready(r.map(Decided::Rest)),
            (_, d) => {
                done = d;
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

    use super::{Decided, both, first_decides};

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

    fn run<F: Future>(f: F) -> (F::Output, usize) {
        let mut f = pin!(f);
        let mut cx = Context::from_waker(Waker::noop());
        let mut polls = 0;
        loop {
            polls += 1;
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return (v, polls);
            }
        }
    }

    /// `value` after `n` polls, logging each poll.
    async fn answer<T>(n: usize, name: &'static str, value: T, log: &RefCell<Vec<&'static str>>) -> T {
        after(n, name, log).await;
        value
    }

    #[test]
    fn the_first_answer_decides_and_the_rest_is_dropped_or_waited_for() {
        // Some: the rest, started alongside, is dropped unfinished.
        let log = RefCell::new(Vec::new());
        let first = answer(1, "first", Ok::<_, ()>(Some("dup")), &log);
        let (out, _) = run(first_decides(first, answer(5, "rest", Ok("new"), &log)));
        assert_eq!(out, Ok(Decided::First("dup")));
        assert_eq!(*log.borrow(), ["first", "rest", "first"], "rest started with first, not polled after");

        // None: the rest's answer, even when it came before the decision.
        let log = RefCell::new(Vec::new());
        let first = answer(2, "first", Ok::<_, ()>(None), &log);
        let (out, polls) = run(first_decides(first, answer(0, "rest", Ok("new"), &log)));
        assert_eq!((out, polls), (Ok(Decided::Rest("new")), 3));
        assert_eq!(*log.borrow(), ["first", "rest", "first", "first"]);

        // An error of the first is the one reported; of the rest, when the first says None.
        let log = RefCell::new(Vec::new());
        let first = answer(0, "first", Err::<Option<&str>, _>("first failed"), &log);
        let (out, _) = run(first_decides(first, answer(0, "rest", Err("rest failed"), &log)));
        assert_eq!(out, Err("first failed"));
        let first = answer(0, "first", Ok::<Option<&str>, _>(None), &log);
        let (out, _) = run(first_decides(first, answer(0, "rest", Err("rest failed"), &log)));
        assert_eq!(out, Err("rest failed"));
    }
}
