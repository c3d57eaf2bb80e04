//! Where lines go: tracing-subscriber's [`MakeWriter`], [`LogBuffer`] for tests, and
//! the writer-erased [`WriteLine`] the layer keeps.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use tracing_subscriber::fmt::MakeWriter;

/// An in-memory log shared by its clones: point a [`LogLayer`](super::LogLayer) at one
/// clone and read the lines from another (tests, demos).
///
/// ```
/// use std::io::Write;
/// let logs = verror::layer::LogBuffer::new();
/// let mut writer = logs.clone();
/// writer.write_all(b"{\"a\":1}\n{\"a\":2}\n").unwrap();
/// assert_eq!(logs.lines(), ["{\"a\":1}", "{\"a\":2}"]);
/// assert_eq!(logs.take(), "{\"a\":1}\n{\"a\":2}\n");
/// assert!(logs.contents().is_empty());
/// ```
#[derive(Clone, Debug, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// An empty buffer.
    pub fn new() -> LogBuffer {
        LogBuffer::default()
    }

    fn bytes(&self) -> MutexGuard<'_, Vec<u8>> {
        crate::lock::lock(&self.0)
    }

    /// Everything written so far (invalid UTF-8 replaced).
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }

    /// Everything written so far, one string a line, without the `\n`s.
    pub fn lines(&self) -> Vec<String> {
        self.contents().lines().map(str::to_owned).collect()
    }

    /// Everything written so far, leaving the buffer empty.
    pub fn take(&self) -> String {
        let bytes = std::mem::take(&mut *self.bytes());
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Empties the buffer.
    pub fn clear(&self) {
        self.bytes().clear();
    }
}

impl Write for &LogBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogBuffer {
    type Writer = &'a LogBuffer;

    fn make_writer(&'a self) -> &'a LogBuffer {
        self
    }
}

/// A [`MakeWriter`] with its writer type erased.
pub(super) trait WriteLine: Send + Sync {
    fn write_line(&self, line: &[u8]) -> io::Result<()>;
    fn flush(&self) -> io::Result<()>;
}

impl<M> WriteLine for M
where
    M: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        self.make_writer().write_all(line)
    }

    fn flush(&self) -> io::Result<()> {
        self.make_writer().flush()
    }
}
