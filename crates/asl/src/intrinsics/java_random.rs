//! `java.util.Random`'s linear congruential generator, so `States.MathRandom` with a seed
//! yields the same sequence a JVM would (AWS's interpreter runs on the JVM).

pub struct JavaRandom {
    seed: i64,
}

const MULTIPLIER: i64 = 0x5DEE_CE66D;
const MASK: i64 = (1 << 48) - 1;

impl JavaRandom {
    pub fn new(seed: i64) -> JavaRandom {
        JavaRandom { seed: (seed ^ MULTIPLIER) & MASK }
    }

    fn next(&mut self, bits: u32) -> i32 {
        self.seed = (self.seed.wrapping_mul(MULTIPLIER).wrapping_add(0xB)) & MASK;
        (self.seed >> (48 - bits)) as i32
    }

    /// A value in `0..bound` (`bound` > 0), exactly as `Random.nextInt(int)`.
    pub fn next_int(&mut self, bound: i32) -> i32 {
        let mut r = self.next(31);
        let m = bound - 1;
        if bound & m == 0 {
            return ((i64::from(bound) * i64::from(r)) >> 31) as i32;
        }
        let mut u = r;
        loop {
            r = u % bound;
            if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                return r;
            }
            u = self.next(31);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_jvm_sequence() {
        // Printed by a JVM: new java.util.Random(42).nextInt(100) three times.
        let mut r = JavaRandom::new(42);
        assert_eq!([r.next_int(100), r.next_int(100), r.next_int(100)], [30, 63, 48]);
        // new Random(7): nextInt(16) (power-of-two path), then nextInt(1000000007) (rejection loop).
        let mut r = JavaRandom::new(7);
        assert_eq!(r.next_int(16), 11);
        assert_eq!(r.next_int(1_000_000_007), 371_249_157);
    }
}
