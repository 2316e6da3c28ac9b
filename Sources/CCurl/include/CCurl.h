#ifndef DEVIN_BRIDGE_CCURL_H
#define DEVIN_BRIDGE_CCURL_H
#include <curl/curl.h>

/* libcurl, loaded by devin-bridge when it first sends a request (dlopen of libcurl.so.4), not when
   the program starts: the requests that are skipped or rejected (most of them) never load it and
   its thirty dependencies. The program is not linked with libcurl; its types and constants come
   from <curl/curl.h>, its functions only through the wrappers below.

   bridge_curl_load loads and initialises it once per process (curl_global_init) and returns NULL,
   or a fixed text that says what is missing. The other functions may be called only after it
   returned NULL; before, they do nothing (NULL handle, CURLE_FAILED_INIT). */
const char *bridge_curl_load(void);

CURL *bridge_curl_easy_init(void);
void bridge_curl_easy_cleanup(CURL *handle);
CURLcode bridge_curl_easy_perform(CURL *handle);
const char *bridge_curl_easy_strerror(CURLcode code);
struct curl_slist *bridge_curl_slist_append(struct curl_slist *list, const char *line);
void bridge_curl_slist_free_all(struct curl_slist *list);

/* curl_easy_setopt and curl_easy_getinfo are C variadic functions, which Swift cannot call: one
   typed wrapper per kind of argument the transport passes. */
CURLcode bridge_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode bridge_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
/* libcurl copies string options (CURLOPT_URL, CURLOPT_CUSTOMREQUEST, ...); not CURLOPT_POSTFIELDS. */
CURLcode bridge_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode bridge_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode bridge_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
/* CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION share this signature. */
CURLcode bridge_curl_setopt_callback(CURL *handle, CURLoption option, curl_write_callback value);
CURLcode bridge_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);

/* For tests: loads `soname` instead of libcurl.so.4 (before the first bridge_curl_load). */
void bridge_curl_use_library(const char *soname);

#endif
