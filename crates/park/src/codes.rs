//! Pickup-code allocation for one policy: sequential from the range start, wrapping
//! after the end, skipping codes still held by parked calls.

use std::ops::RangeInclusive;

use crate::limits::PICKUP_CODE_MAX;

const WORDS: usize = (PICKUP_CODE_MAX as usize + 1).div_ceil(64);

/// The codes in use under one policy, and where the sequence stands. Covers every
/// code a policy could ever have used, so a range change never strands a held code.
#[derive(Debug, Clone)]
pub(crate) struct CodeBook {
    in_use: Box<[u64; WORDS]>,
    last_issued: Option<u16>,
}

impl Default for CodeBook {
    fn default() -> Self {
        Self { in_use: Box::new([0; WORDS]), last_issued: None }
    }
}

impl CodeBook {
    /// The next code in sequence within `range` that no parked call holds, marked as
    /// held; `None` when every code in the range is held.
    pub(crate) fn allocate(&mut self, range: RangeInclusive<u16>) -> Option<u16> {
        let (start, end) = (*range.start(), *range.end());
        let first = match self.last_issued {
            Some(last) if last >= start && last < end => last + 1,
            _ => start,
        };
        let code = self
            .first_free(first, end)
            .or_else(|| (first > start).then(|| self.first_free(start, first - 1)).flatten())?;
        self.set(code, true);
        self.last_issued = Some(code);
        Some(code)
    }

    /// Marks `code` held (a park restored after a restart); false if it already is.
    pub(crate) fn claim(&mut self, code: u16) -> bool {
        if self.is_held(code) || code > PICKUP_CODE_MAX {
            return false;
        }
        self.set(code, true);
        self.last_issued = Some(self.last_issued.map_or(code, |last| last.max(code)));
        true
    }

    pub(crate) fn release(&mut self, code: u16) {
        if self.is_held(code) {
            self.set(code, false);
        }
    }

    pub(crate) fn is_held(&self, code: u16) -> bool {
        let index = usize::from(code);
        index <= usize::from(PICKUP_CODE_MAX) && self.in_use[index / 64] & (1 << (index % 64)) != 0
    }

    #[cfg(test)]
    fn held(&self) -> usize {
        self.in_use.iter().map(|word| word.count_ones() as usize).sum()
    }

    fn set(&mut self, code: u16, held: bool) {
        let index = usize::from(code);
        let bit = 1u64 << (index % 64);
        if held {
            self.in_use[index / 64] |= bit;
        } else {
            self.in_use[index / 64] &= !bit;
        }
    }

    /// The lowest code in `low..=high` not held, scanning a word (64 codes) at a time.
    fn first_free(&self, low: u16, high: u16) -> Option<u16> {
        let (low, high) = (usize::from(low), usize::from(high));
        let mut index = low;
        while index <= high {
            let word = index / 64;
            // Free codes of this word at or above `index`.
            let free = !self.in_use[word] & (u64::MAX << (index % 64));
            if free != 0 {
                let found = word * 64 + free.trailing_zeros() as usize;
                return (found <= high).then(|| u16::try_from(found).ok()).flatten();
            }
            index = (word + 1) * 64;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(book: &mut CodeBook, range: RangeInclusive<u16>, count: usize) -> Vec<u16> {
        (0..count).filter_map(|_| book.allocate(range.clone())).collect()
    }

    #[test]
    fn first_code_is_range_start_then_sequential() {
        let mut book = CodeBook::default();
        assert_eq!(take(&mut book, 10..=99, 3), vec![10, 11, 12]);
    }

    #[test]
    fn sequence_continues_after_release_instead_of_reusing() {
        let mut book = CodeBook::default();
        take(&mut book, 10..=99, 3);
        book.release(10);
        assert_eq!(book.allocate(10..=99), Some(13));
    }

    #[test]
    fn wraps_to_start_after_end() {
        let mut book = CodeBook::default();
        assert_eq!(take(&mut book, 10..=12, 3), vec![10, 11, 12]);
        book.release(10);
        book.release(11);
        book.release(12);
        assert_eq!(book.allocate(10..=12), Some(10));
    }

    #[test]
    fn held_codes_are_skipped() {
        let mut book = CodeBook::default();
        take(&mut book, 10..=14, 5);
        book.release(11);
        book.release(13);
        // Last issued is 14: wrap to 10 (held), 11 is free.
        assert_eq!(book.allocate(10..=14), Some(11));
        assert_eq!(book.allocate(10..=14), Some(13));
        assert_eq!(book.allocate(10..=14), None);
    }

    #[test]
    fn full_range_is_refused_and_nothing_changes() {
        let mut book = CodeBook::default();
        take(&mut book, 10..=11, 2);
        assert_eq!(book.allocate(10..=11), None);
        assert_eq!(book.held(), 2);
        book.release(10);
        assert_eq!(book.allocate(10..=11), Some(10));
    }

    #[test]
    fn range_change_applies_to_new_codes_and_keeps_held_ones() {
        let mut book = CodeBook::default();
        take(&mut book, 10..=99, 2);
        assert_eq!(book.allocate(500..=510), Some(500));
        assert!(book.is_held(10) && book.is_held(11));
        assert_eq!(book.allocate(500..=510), Some(501));
        // Back to a range below the last issued code: start over at its start.
        assert_eq!(book.allocate(10..=20), Some(12));
    }

    #[test]
    fn scans_across_words_up_to_the_top_code() {
        let mut book = CodeBook::default();
        let all = take(&mut book, 10..=9999, 9990);
        assert_eq!(all.len(), 9990);
        assert_eq!(all.last(), Some(&9999));
        assert_eq!(book.allocate(10..=9999), None);
        book.release(5000);
        assert_eq!(book.allocate(10..=9999), Some(5000));
    }

    #[test]
    fn release_of_a_free_code_is_harmless() {
        let mut book = CodeBook::default();
        book.release(42);
        assert_eq!(book.held(), 0);
    }
}
