//! base64url (RFC 4648 §5) as absl's `WebSafeBase64Unescape` reads it: ASCII white
//! space anywhere is skipped, exact padding is optional, non-zero trailing bits are
//! tolerated, `+` and `/` are refused. Encoding is canonical (no padding).

use base64::Engine;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes base64url text.
pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    const WHITE_SPACE: [char; 6] = [' ', '\t', '\n', '\x0b', '\x0c', '\r'];
    if text.contains(WHITE_SPACE) { LENIENT.decode(text.replace(WHITE_SPACE, "")) } else { LENIENT.decode(text) }
}

/// Encodes bytes as unpadded base64url.
pub fn encode(bytes: &[u8]) -> String {
    LENIENT.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_leniency() {
        assert_eq!(encode(b"\xfb\xff"), "-_8");
        assert_eq!(decode("-_8").unwrap(), b"\xfb\xff");
        assert_eq!(decode("-_8=").unwrap(), b"\xfb\xff");
        assert!(decode("+/8").is_err());
        assert!(decode("A").is_err());
        assert_eq!(decode("-_ 8\t").unwrap(), b"\xfb\xff");
        assert!(decode("-_8==").is_err());
    }
}
