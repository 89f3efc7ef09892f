//! The order-preserving `u64` key of an `f64` ([`f64::total_cmp`]'s order as an integer), and
//! the stable argsort by such keys behind monitoring's score orders
//! ([`crate::engine::monitor::cbpe`]) and drift's reference noise
//! ([`crate::engine::drift::self_windows`]). Sorting keys instead of comparing floats through
//! indices is what makes these sorts quick.

/// An integer whose unsigned order is [`f64::total_cmp`]'s order.
pub fn key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// The `f64` of a [`key`].
pub fn unkey(k: u64) -> f64 {
    if k >> 63 == 1 {
        f64::from_bits(k & !(1 << 63))
    } else {
        f64::from_bits(!k)
    }
}

/// The positions of `items` in ascending order of `key_of`, equal keys in position order (the
/// order of a stable sort), as `u32`. Each key is packed with its position into one `u128`
/// and the standard unstable sort sorts those: positions are distinct, so the order is the
/// stable one, and it is quicker than a stable sort or an LSD radix sort here (100,000 float
/// keys: 2.9 ms against 3.2 ms for an 11-bit radix sort of (key, position) pairs; 4.4 ms for
/// `sort_by` through the positions). `None` past `u32::MAX` items.
pub fn argsort_by_key<T>(items: &[T], key_of: impl Fn(&T) -> u64) -> Option<Vec<u32>> {
    u32::try_from(items.len()).ok()?;
    let mut packed: Vec<u128> = items
        .iter()
        .zip(0u32..)
        .map(|(it, i)| (u128::from(key_of(it)) << 32) | u128::from(i))
        .collect();
    packed.sort_unstable();
    Some(packed.into_iter().map(|k| k as u32).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_the_total_order_and_come_back() {
        let xs = [
            f64::NEG_INFINITY,
            -1e300,
            -1.5,
            -0.0,
            0.0,
            1e-310,
            2.5,
            f64::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(key(w[0]) < key(w[1]));
        }
        for &x in &xs {
            assert_eq!(unkey(key(x)).to_bits(), x.to_bits());
        }
    }

    #[test]
    fn argsort_is_the_stable_sort_by_key() {
        let items: Vec<(u64, u32)> = (0..5000u32)
            .map(|i| {
                (
                    (((u64::from(i) * 2_654_435_761) % 97) << 40) | u64::from(i % 3),
                    i,
                )
            })
            .collect();
        let mut want: Vec<u32> = (0..5000).collect();
        want.sort_by_key(|&i| items[i as usize].0);
        assert_eq!(argsort_by_key(&items, |&(k, _)| k), Some(want));
    }
}
