//! The rows of a window of the current data: consecutive rows (a window by row count, which
//! takes no memory per row) or a list (a calendar window, whose rows need not be
//! consecutive).

use std::ops::Range;

/// A window's 0-based rows, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rows {
    Range(Range<usize>),
    List(Vec<usize>),
}

impl Rows {
    pub fn len(&self) -> usize {
        match self {
            Rows::Range(r) => r.len(),
            Rows::List(l) => l.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn first(&self) -> Option<usize> {
        match self {
            Rows::Range(r) => (!r.is_empty()).then_some(r.start),
            Rows::List(l) => l.first().copied(),
        }
    }

    pub fn last(&self) -> Option<usize> {
        match self {
            Rows::Range(r) => (!r.is_empty()).then(|| r.end - 1),
            Rows::List(l) => l.last().copied(),
        }
    }

    /// The rows as consecutive rows, if they are.
    pub fn as_range(&self) -> Option<Range<usize>> {
        match self {
            Rows::Range(r) => Some(r.clone()),
            Rows::List(l) => match (l.first(), l.last()) {
                (Some(&a), Some(&b)) if b >= a && b - a + 1 == l.len() => Some(a..b + 1),
                (None, _) => Some(0..0),
                _ => None,
            },
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        match self {
            Rows::Range(r) => Iter::Range(r.clone()),
            Rows::List(l) => Iter::List(l.iter()),
        }
    }

    /// `values` at the rows, in order.
    pub fn gather<T: Copy>(&self, values: &[T]) -> Vec<T> {
        match self {
            Rows::Range(r) => values[r.clone()].to_vec(),
            Rows::List(l) => l.iter().map(|&i| values[i]).collect(),
        }
    }
}

/// The rows of [`Rows::iter`].
pub enum Iter<'a> {
    Range(Range<usize>),
    List(std::slice::Iter<'a, usize>),
}

impl Iterator for Iter<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        match self {
            Iter::Range(r) => r.next(),
            Iter::List(l) => l.next().copied(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::Range(r) => r.size_hint(),
            Iter::List(l) => l.size_hint(),
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_and_its_list_are_the_same_rows() {
        let r = Rows::Range(3..7);
        let l = Rows::List(vec![3, 4, 5, 6]);
        let gaps = Rows::List(vec![1, 4, 5]);
        for rows in [&r, &l] {
            assert_eq!(rows.len(), 4);
            assert_eq!((rows.first(), rows.last()), (Some(3), Some(6)));
            assert_eq!(rows.as_range(), Some(3..7));
            assert_eq!(rows.iter().collect::<Vec<_>>(), [3, 4, 5, 6]);
            assert_eq!(
                rows.gather(&[0, 10, 20, 30, 40, 50, 60, 70]),
                [30, 40, 50, 60]
            );
        }
        assert_eq!(gaps.as_range(), None);
        assert_eq!(gaps.iter().len(), 3);
        let empty = Rows::Range(5..5);
        assert!(empty.is_empty());
        assert_eq!((empty.first(), empty.last()), (None, None));
        assert_eq!(Rows::List(Vec::new()).as_range(), Some(0..0));
    }
}
