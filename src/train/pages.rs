//! Zeroed byte buffers the kernel may back with 2 MiB pages. The tree learners read their
//! table of bins at scattered rows, once per feature of every node: with 4 KiB pages a
//! table of 1 M rows × 30 features spans 7 680 pages, beyond the reach of the address
//! translation cache, and a deep node's reads miss it as well as the data caches.

use memmap2::MmapMut;
use std::ops::{Deref, DerefMut};

/// A huge page: buffers from this size on ask for them.
const HUGE_PAGE: usize = 2 << 20;

/// `len` zeroed bytes: an anonymous mapping advised to use huge pages when large, else
/// (or when the mapping fails) a vector.
pub enum Pages {
    Mapped { map: MmapMut, len: usize },
    Heap(Vec<u8>),
}

impl Pages {
    pub fn zeroed(len: usize) -> Pages {
        if len >= HUGE_PAGE {
            // A length of whole huge pages: the kernel then aligns the mapping to them.
            if let Ok(map) = MmapMut::map_anon(len.next_multiple_of(HUGE_PAGE)) {
                advise_huge_pages(&map);
                return Pages::Mapped { map, len };
            }
        }
        Pages::Heap(vec![0; len])
    }
}

/// Advice only: where transparent huge pages are off or unsupported the mapping keeps
/// small pages and works the same.
#[cfg(target_os = "linux")]
fn advise_huge_pages(map: &MmapMut) {
    let _ = map.advise(memmap2::Advice::HugePage);
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_: &MmapMut) {}

impl Deref for Pages {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Pages::Mapped { map, len } => &map[..*len],
            Pages::Heap(v) => v,
        }
    }
}

impl DerefMut for Pages {
    fn deref_mut(&mut self) -> &mut [u8] {
        match self {
            Pages::Mapped { map, len } => &mut map[..*len],
            Pages::Heap(v) => v,
        }
    }
}

impl Clone for Pages {
    fn clone(&self) -> Self {
        let mut copy = Pages::zeroed(self.len());
        copy.copy_from_slice(self);
        copy
    }
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pages({} bytes)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_buffers_are_zeroed_writable_and_cloned() {
        for len in [0, 10, HUGE_PAGE + 3] {
            let mut pages = Pages::zeroed(len);
            assert_eq!(pages.len(), len);
            assert!(pages.iter().all(|&b| b == 0));
            if let Some(last) = pages.last_mut() {
                *last = 7;
            }
            let copy = pages.clone();
            assert_eq!(&copy[..], &pages[..]);
            assert_eq!(copy.last().copied(), len.checked_sub(1).map(|_| 7));
        }
        assert!(matches!(Pages::zeroed(HUGE_PAGE), Pages::Mapped { .. }));
    }
}
