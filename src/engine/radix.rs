//! LSD radix sort on `u64` keys, and the order-preserving key of an `f64`: the one radix
//! sort behind drift's sorted windows ([`crate::engine::drift::window_stats`]) and
//! monitoring's stable argsorts ([`crate::engine::monitor::cbpe`]).

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

/// `items` in ascending order of `key_of`, equal keys in their input order (stable), from
/// 11-bit digits: 2,048 counters stay in the L1 cache. Every pass's digit counts come from one
/// read of the keys, and a pass where every key shares the digit is skipped.
pub fn sort_by_key<T: Copy + Default>(mut items: Vec<T>, key_of: impl Fn(&T) -> u64) -> Vec<T> {
    const BITS: u32 = 11;
    const PASSES: usize = 64usize.div_ceil(BITS as usize);
    let n = items.len();
    let mask = (1u64 << BITS) - 1;
    let mut counts = vec![[0usize; 1 << BITS]; PASSES];
    for it in &items {
        let k = key_of(it);
        for (p, c) in counts.iter_mut().enumerate() {
            c[((k >> (p as u32 * BITS)) & mask) as usize] += 1;
        }
    }
    let mut buf = vec![T::default(); n];
    for (p, counts) in counts.iter_mut().enumerate() {
        if counts.contains(&n) {
            continue;
        }
        let shift = p as u32 * BITS;
        let mut sum = 0;
        for c in counts.iter_mut() {
            let t = *c;
            *c = sum;
            sum += t;
        }
        for &it in &items {
            let d = ((key_of(&it) >> shift) & mask) as usize;
            buf[counts[d]] = it;
            counts[d] += 1;
        }
        std::mem::swap(&mut items, &mut buf);
    }
    items
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
    fn sorts_stably_by_key() {
        let items: Vec<(u64, u32)> = (0..5000u32)
            .map(|i| {
                (
                    (((u64::from(i) * 2_654_435_761) % 97) << 40) | u64::from(i % 3),
                    i,
                )
            })
            .collect();
        let mut want = items.clone();
        want.sort_by_key(|&(k, _)| k);
        assert_eq!(sort_by_key(items, |&(k, _)| k), want);
    }
}
