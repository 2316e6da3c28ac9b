/*
 * The floor: a C CGI program doing the bridge's minimum work, for bench/run.sh.
 * Reads CONTENT_LENGTH bytes of body, checks X-Hub-Signature-256 (OpenSSL HMAC-SHA256,
 * CRYPTO_memcmp), looks for a trigger label by substring, and answers a fixed JSON document.
 * For a triggered ticket it POSTs a fixed session request with libcurl (the create path).
 * Not a product: no JSON parsing, no state, no prompt. Configuration from the environment.
 */
#ifdef WITH_CURL
#include <curl/curl.h>
#endif
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef WITH_CURL
static size_t sink(char *data, size_t size, size_t count, void *user) {
    (void)data; (void)user;
    return size * count;
}
#endif

/* The secret from the environment, else from the KEY=VALUE file at DEVIN_BRIDGE_CONFIG (as the
 * bridge does behind a web server). */
static const char *webhook_secret(void) {
    static char line[4096];
    const char *secret = getenv("WEBHOOK_SECRET");
    const char *path = getenv("DEVIN_BRIDGE_CONFIG");
    if (secret || !path) return secret ? secret : "";
    FILE *file = fopen(path, "r");
    while (file && fgets(line, sizeof line, file)) {
        if (strncmp(line, "WEBHOOK_SECRET=", 15) == 0) {
            line[strcspn(line, "\r\n")] = 0;
            fclose(file);
            return line + 15;
        }
    }
    if (file) fclose(file);
    return "";
}

static void answer(const char *status, const char *body) {
    printf("Status: %s\r\nContent-Type: application/json\r\n\r\n%s\n", status, body);
}

/* The answer is out: leave without the exit handlers (OpenSSL's cleanup frees, one by one, what its
   first HMAC set up: 0.7 M instructions that change nothing for a process about to end). */
static int finish(void) {
    fflush(stdout);
    _exit(0);
}

int main(void) {
    const char *length_text = getenv("CONTENT_LENGTH");
    long length = length_text ? strtol(length_text, NULL, 10) : 0;
    if (length < 0 || length > 1048576 * 2) { answer("413 Content Too Large", "{\"error\":\"payload_too_large\"}"); return finish(); }
    unsigned char *body = malloc((size_t)length + 1);
    size_t got = 0;
    while (got < (size_t)length) {
        size_t n = fread(body + got, 1, (size_t)length - got, stdin);
        if (n == 0) break;
        got += n;
    }
    body[got] = 0;

    const char *secret = webhook_secret();
    const char *header = getenv("HTTP_X_HUB_SIGNATURE_256");
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_length = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), body, got, mac, &mac_length);
    unsigned char given[32];
    int ok = header && strncmp(header, "sha256=", 7) == 0 && strlen(header) == 71;
    for (int i = 0; ok && i < 32; i++) {
        unsigned int byte;
        if (sscanf(header + 7 + 2 * i, "%2x", &byte) != 1) ok = 0;
        given[i] = (unsigned char)byte;
    }
    if (!ok || CRYPTO_memcmp(given, mac, 32) != 0) {
        answer("401 Unauthorized", "{\"error\":\"bad_signature\",\"message\":\"The signature does not verify.\"}");
        return finish();
    }
    if (!strstr((const char *)body, "\"devin-autofix\"")) {
        answer("200 OK", "{\"status\":\"skipped\",\"reason\":\"no trigger label\"}");
        return finish();
    }

#ifdef WITH_CURL
    char url[512], auth[512];
    snprintf(url, sizeof url, "%s/v3/organizations/%s/sessions", getenv("DEVIN_API_BASE"), getenv("DEVIN_ORG_ID"));
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", getenv("DEVIN_API_KEY"));
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, auth);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "{\"prompt\":\"Ticket: see the tracker\",\"title\":\"bench\",\"tags\":[\"bench\"]}");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 8L);
    CURLcode result = curl_easy_perform(curl);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (result != CURLE_OK || code != 200) { answer("502 Bad Gateway", "{\"error\":\"upstream\"}"); return finish(); }
#endif
    answer("200 OK", "{\"status\":\"created\"}");
    return finish();
}
