//! Building a client's frame (RFC 6455 §5.2), for the clients pushlab itself runs: the bench,
//! and the tests that speak raw WebSocket to the server.

/// A masked client frame: `first` is FIN/RSV/opcode as sent, the length takes the shortest of its
/// three forms (7, 16 or 64 bits), and the payload is XORed with `mask`.
pub fn client_frame(first: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 14);
    frame.push(first);
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n if n < 65_536 => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}
