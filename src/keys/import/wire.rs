//! Reading the SSH wire encoding (RFC 4251 §5: uint32 big-endian, string = uint32 length + bytes)
//! from a borrowed buffer, as openssh-key-v1 and PuTTY's blobs use it. Returns slices of the
//! buffer, so secret bytes are never copied out of their zeroizing owner.

pub(super) struct Wire<'a>(pub &'a [u8]);

impl<'a> Wire<'a> {
    pub fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let (value, rest) = self.0.split_at_checked(len)?;
        self.0 = rest;
        Some(value)
    }

    pub fn u32(&mut self) -> Option<u32> {
        let (value, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        Some(u32::from_be_bytes(*value))
    }

    pub fn string(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.u32()?).ok()?;
        self.take(len)
    }
}
