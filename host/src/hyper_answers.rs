//! Problem bodies for the answers hyper gives on its own.
//!
//! A request head larger than the limit (`431`), or a request target longer than the
//! 65,534 bytes `http::Uri` holds (`414`), fails in hyper's parser before any service sees
//! the request; hyper then writes a bare answer (`content-length: 0`) and closes the
//! connection. [`ProblemAnswers`] wraps a connection and writes, in place of exactly that
//! answer, the same status with an `application/problem+json` body, as the host's and the
//! components' other errors have. Everything else passes through untouched, also a bare
//! `431` or `414` a component answered itself ([`BareAnswers`] tells them apart).
//!
//! A head that does not arrive within hyper's header-read timeout gets no answer from hyper
//! at all: hyper fails the connection and drops it. [`Watched`] notes whether the client
//! sent anything since the connection's last answer, and hands the connection back when
//! hyper drops it, so that [`answer_head_timeout`] can write a `408` with its problem body
//! to a client whose head was cut off; an idle connection (nothing sent since its last
//! answer) is closed unanswered.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, Bytes};
use http::header::{CONNECTION, CONTENT_LENGTH, DATE};
use http::{Response, StatusCode};
use hyper::rt::{Read, ReadBufCursor, Write};
use tokio::io::{AsyncRead, AsyncWrite};

/// The two statuses hyper answers by itself that [`ProblemAnswers`] gives a body.
const REWRITTEN: [StatusCode; 2] = [
    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
    StatusCode::URI_TOO_LONG,
];

/// What a connection's service answered last, so that [`ProblemAnswers`] leaves a
/// component's own bare `431` or `414` alone.
#[derive(Debug, Default)]
pub struct BareAnswers {
    from_service: AtomicBool,
}

impl BareAnswers {
    /// Notes the response the service is about to hand to hyper, when hyper will
    /// write it as it writes its own bare answers.
    pub fn note<B: hyper::body::Body>(&self, response: &Response<B>) {
        if is_bare(response) {
            self.from_service.store(true, Ordering::Release);
        }
    }

    fn take_from_service(&self) -> bool {
        self.from_service.swap(false, Ordering::AcqRel)
    }
}

/// Whether hyper writes `response` as it writes its own bare answers: no body, and no
/// headers but `content-length: 0`, `connection` and `date`.
fn is_bare<B: hyper::body::Body>(response: &Response<B>) -> bool {
    let headers = response.headers();
    let length_zero = match headers.get(CONTENT_LENGTH) {
        Some(length) => length == "0",
        None => response.body().size_hint().exact() == Some(0),
    };
    REWRITTEN.contains(&response.status())
        && headers
            .keys()
            .all(|name| [CONTENT_LENGTH, CONNECTION, DATE].contains(name))
        && length_zero
}

/// The problem bodies written in place of hyper's bare answers, and of its silence.
#[derive(Debug, Clone)]
pub struct Problems {
    /// For `431 Request Header Fields Too Large`.
    pub headers_too_large: Bytes,
    /// For `414 URI Too Long`.
    pub uri_too_long: Bytes,
    /// For `408 Request Timeout`, when a head does not arrive in time.
    pub head_timeout: Bytes,
}

/// A connection whose bare `431` and `414` answers from hyper get problem bodies.
pub struct ProblemAnswers<T> {
    inner: T,
    problems: Arc<Problems>,
    bare: Arc<BareAnswers>,
    /// The rest of an answer written in place of hyper's.
    pending: Bytes,
}

impl<T> ProblemAnswers<T> {
    /// Wraps `inner`; `bare` is shared with the connection's service.
    pub fn new(inner: T, problems: Arc<Problems>, bare: Arc<BareAnswers>) -> Self {
        Self {
            inner,
            problems,
            bare,
            pending: Bytes::new(),
        }
    }

    /// The answer to write instead of `head`, when `head` is hyper's own bare answer.
    fn replacement(&self, head: &[u8]) -> Option<Bytes> {
        let (status, date) = hyper_answer(head)?;
        if self.bare.take_from_service() {
            return None;
        }
        let body = if status == StatusCode::URI_TOO_LONG {
            &self.problems.uri_too_long
        } else {
            &self.problems.headers_too_large
        };
        let mut answer = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/problem+json\r\n\
             content-length: {}\r\nconnection: close\r\n",
            body.len()
        )
        .into_bytes();
        if let Some(date) = date {
            answer.extend_from_slice(b"date: ");
            answer.extend_from_slice(date);
            answer.extend_from_slice(b"\r\n");
        }
        answer.extend_from_slice(b"\r\n");
        answer.extend_from_slice(body);
        Some(answer.into())
    }
}

/// The status and date of `head` when it is exactly an answer hyper writes by itself
/// after a parse error: a canonical status line for one of [`REWRITTEN`], then
/// `content-length: 0` and optionally `connection: close` and `date`, and no body.
fn hyper_answer(head: &[u8]) -> Option<(StatusCode, Option<&[u8]>)> {
    let head = std::str::from_utf8(head.strip_suffix(b"\r\n\r\n")?).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status = REWRITTEN.into_iter().find(|status| {
        let reason = status.canonical_reason().unwrap_or_default();
        status_line == format!("HTTP/1.1 {} {reason}", status.as_u16())
    })?;
    let mut length_zero = false;
    let mut date = None;
    for line in lines {
        match line.to_ascii_lowercase().split_once(": ") {
            Some(("content-length", "0")) => length_zero = true,
            Some(("connection", "close")) => {}
            Some(("date", _)) => date = line.get(6..).map(str::as_bytes),
            _ => return None,
        }
    }
    length_zero.then_some((status, date))
}

/// The `408` written to a client whose head did not arrive in time, with `body`.
fn head_timeout_answer(body: &[u8]) -> Vec<u8> {
    let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT");
    let mut answer = format!(
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/problem+json\r\n\
         content-length: {}\r\nconnection: close\r\ndate: {date}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(body);
    answer
}

/// How long a connection answered `408` is read on (and what it sends thrown away) after
/// the answer, before it is closed.
const LINGER: Duration = Duration::from_secs(2);

/// Writes the `408` (with `problems.head_timeout`) to `stream`, whose head did not arrive
/// within hyper's header-read timeout, and closes it. The close is lingering: the client
/// may still be sending its head, and a socket closed with unread bytes is reset, which
/// can cost the client the answer before it reads it; so what it sends is read and thrown
/// away until it closes too, or for at most [`LINGER`].
pub async fn answer_head_timeout<S>(mut stream: S, problems: &Problems)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let answer = head_timeout_answer(&problems.head_timeout);
    let _ = tokio::time::timeout(LINGER, async {
        stream.write_all(&answer).await?;
        stream.shutdown().await?;
        let mut sink = [0; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, io::Error>(())
    })
    .await;
}

/// A connection that notes whether anything was read since it last wrote, and hands itself
/// back ([`Watch::take_unanswered`]) when dropped.
pub struct Watched<T> {
    inner: Option<T>,
    watch: Arc<Watch<T>>,
}

/// What a [`Watched`] connection shares with the task that serves it.
pub struct Watch<T> {
    /// Bytes were read since the connection last wrote (or since it opened).
    unanswered: AtomicBool,
    /// The connection, once hyper has dropped it.
    returned: Mutex<Option<T>>,
}

impl<T> Watched<T> {
    /// Watches `inner`; the [`Watch`] is kept by whoever serves the connection.
    pub fn new(inner: T) -> (Self, Arc<Watch<T>>) {
        let watch = Arc::new(Watch {
            unanswered: AtomicBool::new(false),
            returned: Mutex::new(None),
        });
        let watched = Self {
            inner: Some(inner),
            watch: watch.clone(),
        };
        (watched, watch)
    }

    fn inner(&mut self) -> Pin<&mut T>
    where
        T: Unpin,
    {
        Pin::new(
            self.inner
                .as_mut()
                .expect("the connection is held until the wrapper is dropped"),
        )
    }

    fn wrote(&self, written: &Poll<io::Result<usize>>) {
        if matches!(written, Poll::Ready(Ok(n)) if *n > 0) {
            self.watch.unanswered.store(false, Ordering::Release);
        }
    }
}

impl<T> Watch<T> {
    /// The connection hyper dropped, when the client had sent something it did not answer
    /// (a head cut off by the timeout); `None` for an idle connection.
    pub fn take_unanswered(&self) -> Option<T> {
        let returned = self
            .returned
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        returned.filter(|_| self.unanswered.load(Ordering::Acquire))
    }
}

impl<T> Drop for Watched<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            *self
                .watch
                .returned
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(inner);
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = this.inner().poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.watch.unanswered.store(true, Ordering::Release);
        }
        read
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = this.inner().poll_write(cx, buf);
        this.wrote(&written);
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = this.inner().poll_write_vectored(cx, bufs);
        this.wrote(&written);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(AsyncWrite::is_write_vectored)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().inner().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().inner().poll_shutdown(cx)
    }
}

impl<T: Write + Unpin> ProblemAnswers<T> {
    /// Writes what is left of a replacement answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            let written = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending.advance(written);
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: Read + Unpin> Read for ProblemAnswers<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: Write + Unpin> Write for ProblemAnswers<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if let Some(answer) = this.replacement(buf) {
            this.pending = answer;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        let mut written = bufs.iter().filter(|b| !b.is_empty());
        if let (Some(only), None) = (written.next(), written.next())
            && let Some(answer) = this.replacement(only)
        {
            this.pending = answer;
            return Poll::Ready(Ok(only.len()));
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::time::Duration;

    use http_body_util::Empty;
    use hyper::service::service_fn;
    use hyper_util::rt::{TokioIo, TokioTimer};

    use super::*;

    const HEADERS_PROBLEM: &str = r#"{"status":431}"#;
    const URI_PROBLEM: &str = r#"{"status":414}"#;

    /// Sends `request` on one connection to hyper, whose service answers `status` with no
    /// body and no headers, and returns everything written back.
    fn exchange(request: Vec<u8>, max_header: usize, status: StatusCode) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            stream.write_all(&request).unwrap();
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).unwrap();
            String::from_utf8(answer).unwrap()
        });
        runtime.block_on(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let problems = Arc::new(Problems {
                headers_too_large: Bytes::from_static(HEADERS_PROBLEM.as_bytes()),
                uri_too_long: Bytes::from_static(URI_PROBLEM.as_bytes()),
                head_timeout: Bytes::new(),
            });
            let bare = Arc::new(BareAnswers::default());
            let io = ProblemAnswers::new(TokioIo::new(stream), problems, bare.clone());
            let service = service_fn(move |_req| {
                let bare = bare.clone();
                async move {
                    let mut resp = Response::new(Empty::<Bytes>::new());
                    *resp.status_mut() = status;
                    bare.note(&resp);
                    Ok::<_, std::convert::Infallible>(resp)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .max_header_size(max_header)
                .keep_alive(false)
                .serve_connection(io, service)
                .await;
        });
        client.join().unwrap()
    }

    fn get(target: &str, extra_header: &str) -> Vec<u8> {
        format!("GET {target} HTTP/1.1\r\nhost: x\r\n{extra_header}\r\n").into_bytes()
    }

    fn parts(answer: &str) -> (&str, &str) {
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        (head.lines().next().unwrap(), body)
    }

    #[test]
    fn a_head_over_the_limit_gets_a_problem_body() {
        let big = format!("x-big: {}\r\n", "a".repeat(2000));
        let answer = exchange(get("/", &big), 1024, StatusCode::OK);
        assert_eq!(
            parts(&answer),
            (
                "HTTP/1.1 431 Request Header Fields Too Large",
                HEADERS_PROBLEM
            )
        );
        assert!(
            answer.contains("content-type: application/problem+json\r\n")
                && answer.contains(&format!("content-length: {}\r\n", HEADERS_PROBLEM.len()))
                && answer.contains("\r\ndate: "),
            "{answer}"
        );
    }

    #[test]
    fn a_uri_longer_than_hyper_holds_gets_a_problem_body() {
        let target = format!("/{}", "a".repeat(70_000));
        let answer = exchange(get(&target, ""), 128 * 1024, StatusCode::OK);
        assert_eq!(parts(&answer), ("HTTP/1.1 414 URI Too Long", URI_PROBLEM));
    }

    #[test]
    fn a_services_own_bare_answer_passes_untouched() {
        let answer = exchange(
            get("/", ""),
            1024,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        );
        assert_eq!(
            parts(&answer),
            ("HTTP/1.1 431 Request Header Fields Too Large", "")
        );
        assert!(answer.contains("content-length: 0\r\n"), "{answer}");
    }

    #[test]
    fn other_answers_pass_untouched() {
        let answer = exchange(get("/", ""), 1024, StatusCode::NO_CONTENT);
        assert_eq!(parts(&answer), ("HTTP/1.1 204 No Content", ""));
    }

    #[test]
    fn only_hypers_exact_answer_is_recognised() {
        let date = "date: Thu, 01 Jan 2026 00:00:00 GMT";
        let answer = |s: &str| hyper_answer(s.as_bytes()).map(|(status, _)| status);
        assert_eq!(
            answer(&format!(
                "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n{date}\r\n\r\n"
            )),
            Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
        assert_eq!(
            answer("HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"),
            Some(StatusCode::URI_TOO_LONG)
        );
        for other in [
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 414 URI Too Long\r\ncontent-length: 2\r\n\r\n",
            "HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\nx-a: b\r\n\r\n",
            "HTTP/1.1 414 URI Too Long\r\nconnection: close\r\n\r\n",
            "HTTP/1.1 414 URI Too Long\r\ntransfer-encoding: chunked\r\n\r\n",
            "HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\nbody",
        ] {
            assert_eq!(answer(other), None, "{other}");
        }
    }

    #[test]
    fn a_watched_connection_tells_a_cut_off_head_from_an_idle_one() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (mut client, server) = tokio::io::duplex(1024);
            let (mut watched, watch) = Watched::new(server);
            // Nothing read yet: idle.
            client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
            let mut buf = [0; 64];
            let n = watched.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"GET / HTTP/1.1\r\n");
            watched.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
            drop(watched);
            // Answered after the last read: idle, closed unanswered.
            assert!(watch.take_unanswered().is_none());

            let (mut client, server) = tokio::io::duplex(1024);
            let (mut watched, watch) = Watched::new(server);
            client.write_all(b"GET / HTTP/1.1\r\nhost:").await.unwrap();
            let n = watched.read(&mut buf).await.unwrap();
            assert!(n > 0);
            // Still held by hyper: nothing to take.
            assert!(watch.take_unanswered().is_none());
            drop(watched);
            let problems = Problems {
                headers_too_large: Bytes::new(),
                uri_too_long: Bytes::new(),
                head_timeout: Bytes::from_static(br#"{"status":408}"#),
            };
            let stream = watch.take_unanswered().expect("a cut-off head");
            drop(client.shutdown().await);
            let answering =
                tokio::spawn(async move { answer_head_timeout(stream, &problems).await });
            let mut answer = String::new();
            client.read_to_string(&mut answer).await.unwrap();
            drop(client);
            answering.await.unwrap();
            let (head, body) = answer.split_once("\r\n\r\n").unwrap();
            assert!(
                head.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
                "{head}"
            );
            assert!(
                head.contains("content-type: application/problem+json\r\n"),
                "{head}"
            );
            assert!(
                head.contains("content-length: 14\r\nconnection: close\r\n"),
                "{head}"
            );
            assert_eq!(body, r#"{"status":408}"#);
        });
    }
}
