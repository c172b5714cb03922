//! Two futures at once, for reads that go out together: on `spin:postgres` both statements are
//! pipelined on the one connection (one round trip); on SQLite they run one after the other.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;

/// Both outputs, when both futures are done.
pub async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut first, mut second) = (None, None);
    poll_fn(|cx| {
        if first.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            first = Some(v);
        }
        if second.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            second = Some(v);
        }
        match (first.take(), second.take()) {
            (Some(x), Some(y)) => Poll::Ready((x, y)),
            (x, y) => {
                (first, second) = (x, y);
                Poll::Pending
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::join;
    use std::cell::Cell;
    use std::task::Poll;

    /// Ready after `n` polls, waking itself each time.
    async fn after(n: u32, log: &Cell<u32>, tag: u32) -> u32 {
        let left = Cell::new(n);
        std::future::poll_fn(|cx| {
            if left.get() == 0 {
                log.set(log.get() * 10 + tag);
                return Poll::Ready(tag);
            }
            left.set(left.get() - 1);
            cx.waker().wake_by_ref();
            Poll::Pending
        })
        .await
    }

    #[test]
    fn both_run_at_once_and_both_outputs_come_back() {
        let log = Cell::new(0);
        let (a, b) = tailor_store::block_on(join(after(3, &log, 1), after(1, &log, 2)));
        assert_eq!((a, b), (1, 2));
        assert_eq!(log.get(), 21, "the shorter one finished first: they ran interleaved");
    }
}
