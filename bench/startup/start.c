/* The least a CGI program can do: start, answer a fixed skip, leave. With bench/startup/swift and
   bench/startup/essentials it splits devin-bridge's time into the language's start-up, the
   floor's work (libcrypto and one HMAC) and the bridge's own work. Reads nothing. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
    printf("Status: 200 OK\r\nContent-Type: application/json\r\n\r\n{\"status\":\"skipped\"}\n");
    fflush(stdout);
    _exit(0);
}
