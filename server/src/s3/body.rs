//! Request bodies as the S3 endpoint reads them: cut off when the client goes quiet, and
//! watched for how they end, so that a body cut short gets S3's own answer
//! (`IncompleteBody`, `RequestTimeout`) instead of a 500 from whatever read it.

use axum::body::{Body, Bytes, HttpBody};
use http_body::{Frame, SizeHint};
use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// How a request body ended, as far as the reader could tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Read to its end, or not (yet) read at all.
    Fine,
    /// The connection ended before `Content-Length` bytes arrived.
    Short,
    /// No byte arrived for the idle timeout.
    Stalled,
}

/// Shared between the body and the layer that answers for the request.
#[derive(Debug, Default)]
pub struct Watch(AtomicU8);

impl Watch {
    pub fn ending(&self) -> Ending {
        match self.0.load(Ordering::Relaxed) {
            1 => Ending::Short,
            2 => Ending::Stalled,
            _ => Ending::Fine,
        }
    }

    fn set(&self, ending: Ending) {
        let value = match ending {
            Ending::Fine => 0,
            Ending::Short => 1,
            Ending::Stalled => 2,
        };
        self.0.store(value, Ordering::Relaxed);
    }
}

/// A request body with an idle timeout and a [`Watch`] on how it ends.
pub struct Guarded {
    inner: Body,
    idle: Duration,
    /// Armed while the reader waits for bytes; pushed back whenever some arrive.
    timer: Pin<Box<Sleep>>,
    waiting: bool,
    received: u64,
    declared: Option<u64>,
    watch: Arc<Watch>,
}

impl Guarded {
    pub fn new(inner: Body, idle: Duration, declared: Option<u64>, watch: Arc<Watch>) -> Self {
        Guarded {
            inner,
            idle,
            timer: Box::pin(tokio::time::sleep(idle)),
            waiting: false,
            received: 0,
            declared,
            watch,
        }
    }
}

impl HttpBody for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                this.waiting = false;
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => {
                if this.declared.is_some_and(|declared| this.received < declared) {
                    this.watch.set(Ending::Short);
                }
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                if !this.waiting {
                    this.waiting = true;
                    let deadline = Instant::now() + this.idle;
                    this.timer.as_mut().reset(deadline);
                }
                if this.timer.as_mut().poll(cx).is_ready() {
                    this.watch.set(Ending::Stalled);
                    return Poll::Ready(Some(Err(axum::Error::new(format!(
                        "no byte of the request body arrived for {} s",
                        this.idle.as_secs()
                    )))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Bytes already read from a body (by a layer that had to look inside), then the rest.
pub struct Prefixed {
    prefix: Option<Bytes>,
    rest: Body,
}

impl Prefixed {
    pub fn new(prefix: Bytes, rest: Body) -> Self {
        Prefixed {
            prefix: (!prefix.is_empty()).then_some(prefix),
            rest,
        }
    }
}

impl HttpBody for Prefixed {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Some(prefix) = this.prefix.take() {
            return Poll::Ready(Some(Ok(Frame::data(prefix))));
        }
        Pin::new(&mut this.rest).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_none() && self.rest.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let prefix = self.prefix.as_ref().map_or(0, |p| p.len() as u64);
        let rest = self.rest.size_hint();
        let mut hint = SizeHint::new();
        hint.set_lower(rest.lower() + prefix);
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper + prefix);
        }
        hint
    }
}
