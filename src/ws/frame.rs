//! Building frames (RFC 6455 §5.2): the server's unmasked frames, encoded once per event and
//! shared by every client, and masked client frames for the clients pushlab itself runs (the
//! bench, and the tests that speak raw WebSocket to the server).

use bytes::Bytes;

/// FIN + text opcode, and FIN + binary opcode: a whole message in one frame.
pub const FIN_TEXT: u8 = 0x81;
pub const FIN_BINARY: u8 = 0x82;

/// Writes the frame head: `first` (FIN/RSV/opcode), then the mask bit and the length in the
/// shortest of its three forms (7, 16 or 64 bits).
fn push_head(frame: &mut Vec<u8>, first: u8, len: usize, masked: bool) {
    let mask_bit = if masked { 0x80 } else { 0 };
    frame.push(first);
    match len {
        n if n < 126 => frame.push(mask_bit | n as u8),
        n if n < 65_536 => {
            frame.push(mask_bit | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(mask_bit | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
}

/// An unmasked server frame, and where its payload starts in it.
pub fn server_frame(first: u8, payload: &[u8]) -> (Bytes, usize) {
    let mut frame = Vec::with_capacity(payload.len() + 10);
    push_head(&mut frame, first, payload.len(), false);
    let head = frame.len();
    frame.extend_from_slice(payload);
    (Bytes::from(frame), head)
}

/// A masked client frame: `first` is FIN/RSV/opcode as sent, and the payload is XORed with `mask`.
pub fn client_frame(first: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 14);
    push_head(&mut frame, first, payload.len(), true);
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}
