//! Connections counted per IP address, so that one address cannot take every
//! connection the server has and lock the others out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The connections served per IP address. A slot is taken when a connection is
/// admitted and given back when its [`AddressSlot`] drops.
#[derive(Debug, Default, Clone)]
pub(crate) struct PerAddress(Arc<Mutex<HashMap<IpAddr, usize>>>);

impl PerAddress {
    /// Takes a slot for `addr` if it holds fewer than `limit`; `None` otherwise.
    pub(crate) fn try_take(&self, addr: IpAddr, limit: usize) -> Option<AddressSlot> {
        let mut counts = self.lock();
        let count = counts.entry(addr).or_insert(0);
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            counts: self.clone(),
            addr,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        crate::lock::lock(&self.0)
    }
}

/// One connection's slot in [`PerAddress`]: given back on drop, and the
/// address forgotten once it holds none (the map stays as small as the
/// addresses connected now).
#[derive(Debug)]
pub(crate) struct AddressSlot {
    counts: PerAddress,
    addr: IpAddr,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock();
        if let Some(count) = counts.get_mut(&self.addr) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.addr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_per_address_and_given_back() {
        let per = PerAddress::default();
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.2".parse().unwrap(), "::1".parse().unwrap());
        let first = per.try_take(a, 2).unwrap();
        let second = per.try_take(a, 2).unwrap();
        assert!(per.try_take(a, 2).is_none());
        let other = per.try_take(b, 2).unwrap();
        drop(first);
        let third = per.try_take(a, 2).unwrap();
        drop((second, third, other));
        assert!(per.lock().is_empty());
    }
}
