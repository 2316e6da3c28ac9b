import COpenSSL

/// HMAC-SHA256 and constant-time comparison, from the system's OpenSSL libcrypto.
/// All C calls of the project live in this file.
public enum HMACSHA256 {
    public static let byteCount = 32

    /// The HMAC-SHA256 of `message` under `key`.
    public static func authenticate<Key: Collection, Message: Collection>(
        _ message: Message, key: Key
    ) -> [UInt8] where Key.Element == UInt8, Message.Element == UInt8 {
        let keyBytes = Array(key)
        var mac = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var macLength: UInt32 = 0
        let result: UnsafeMutablePointer<UInt8>? = keyBytes.withUnsafeBytes { keyBuffer in
            let runAll: (UnsafeRawBufferPointer) -> UnsafeMutablePointer<UInt8>? = { messageBuffer in
                mac.withUnsafeMutableBufferPointer { macBuffer in
                    HMAC(EVP_sha256(),
                         keyBuffer.baseAddress, Int32(keyBuffer.count),
                         messageBuffer.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBuffer.count,
                         macBuffer.baseAddress, &macLength)
                }
            }
            if let contiguous = message.withContiguousStorageIfAvailable({ runAll(UnsafeRawBufferPointer($0)) }) {
                return contiguous
            }
            return Array(message).withUnsafeBytes(runAll)
        }
        // HMAC() only fails on allocation failure or a broken libcrypto: nothing a request can cause.
        precondition(result != nil && Int(macLength) == byteCount, "OpenSSL HMAC-SHA256 failed")
        return Array(mac.prefix(byteCount))
    }

    /// Compares two MACs in time that does not depend on where they first differ
    /// (`CRYPTO_memcmp`). Lengths are public, so a length mismatch returns early.
    public static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.isEmpty { return true }
        return lhs.withUnsafeBytes { left in
            rhs.withUnsafeBytes { right in
                CRYPTO_memcmp(left.baseAddress, right.baseAddress, left.count) == 0
            }
        }
    }
}

/// SHA-256 digests (for file names of state records), from libcrypto.
public enum SHA256Digest {
    public static func hash<Message: Collection>(_ message: Message) -> [UInt8] where Message.Element == UInt8 {
        let bytes = Array(message)
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            digest.withUnsafeMutableBufferPointer { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        precondition(ok == 1 && length == 32, "OpenSSL SHA-256 failed")
        return Array(digest.prefix(32))
    }
}

/// Lower-case hex of bytes, and bytes from hex of either case.
public enum Hex {
    public static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Returns nil unless `text` is an even number of hex digits.
    public static func decode<S: StringProtocol>(_ text: S) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
