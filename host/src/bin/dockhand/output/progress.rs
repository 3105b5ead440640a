//! Progress on stderr for long work, drawn by indicatif: pages as `--all-pages` requests them
//! (with how many to expect once the first page has said), and the steps of the multi-call
//! commands. Only on a terminal and never with `--json`: a pipe or a log gets the result alone.

use dockhand_host::CallObserver;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

/// Whether progress may be drawn at all: stderr is a terminal and JSON was not asked for.
pub fn wanted(as_json: bool) -> bool {
    !as_json && std::io::stderr().is_terminal()
}

/// The pages of one `--all-pages` call, counted as each request goes out.
pub struct Pages {
    bar: ProgressBar,
    /// Items per page, from the first request's `page_size` (or SCIM's `count`).
    per_page: AtomicU64,
    /// At most this many pages are fetched (`--max-pages`, or the component's default).
    most: u64,
}

impl Pages {
    pub fn new(most: u32) -> Pages {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(style("fetching pages: {pos} requested"));
        Pages {
            bar,
            per_page: AtomicU64::new(0),
            most: u64::from(most.max(1)),
        }
    }

    /// Clears the line, so the result or error starts clean.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl CallObserver for Pages {
    fn request(&self, uri: &http::Uri) {
        if self.per_page.load(Ordering::Relaxed) == 0
            && let Some(n) = per_page(uri)
        {
            self.per_page.store(n, Ordering::Relaxed);
        }
        self.bar.inc(1);
    }

    fn listing_size(&self, items: u64) {
        let per_page = self.per_page.load(Ordering::Relaxed);
        if self.bar.length().is_some() || per_page == 0 {
            return;
        }
        let pages = items.div_ceil(per_page).clamp(1, self.most);
        self.bar.set_length(pages);
        self.bar
            .set_style(style("fetching pages: {pos} of {len} requested {wide_bar}"));
    }
}

/// The page size a listing request asks for.
fn per_page(uri: &http::Uri) -> Option<u64> {
    uri.query()?.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        matches!(name, "page_size" | "count")
            .then(|| value.parse().ok())
            .flatten()
            .filter(|&n| n > 0)
    })
}

/// A known number of steps (a plan's tags), each with a line saying what it did.
pub struct Steps {
    bar: ProgressBar,
}

impl Steps {
    pub fn new(total: u64) -> Steps {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(style("[{bar:30}] {pos}/{len} {wide_msg}"));
        Steps { bar }
    }

    /// One step done, with what happened.
    pub fn step(&self, what: &str) {
        self.bar.set_message(super::human::printable(what));
        self.bar.inc(1);
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("the templates here are valid")
        .progress_chars("#>-")
}

#[cfg(test)]
mod tests {
    use super::per_page;

    #[test]
    fn the_page_size_comes_from_the_request() {
        let uri = |s: &str| s.parse::<http::Uri>().unwrap();
        assert_eq!(
            per_page(&uri("http://h/v2/x?page=2&page_size=25")),
            Some(25)
        );
        assert_eq!(
            per_page(&uri("http://h/scim/v2/Users?startIndex=1&count=10")),
            Some(10)
        );
        assert_eq!(per_page(&uri("http://h/v2/x?page=2")), None);
        assert_eq!(per_page(&uri("http://h/v2/x?page_size=0")), None);
    }
}
