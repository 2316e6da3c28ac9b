#if canImport(Glibc)
import Glibc
#endif

// A dictionary and an environment read, as any real program has: generic metadata at first use.
var seen: [String: Int] = ["GATEWAY_INTERFACE": 1]
if let value = getenv("CONTENT_LENGTH") { seen[String(cString: value)] = 2 }
print("Status: 200 OK\r\nContent-Type: application/json\r\n\r\n{\"status\":\"skipped\"}")
fflush(stdout)
_exit(seen.isEmpty ? 1 : 0)
