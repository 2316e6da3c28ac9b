/* See include/CCurl.h: libcurl through dlopen, on first use. glibc 2.34 and later keep dlopen
   and pthread_once in libc itself, so this adds no library to the program's start. */
#include "CCurl.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

static struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *handle);
    CURLcode (*easy_perform)(CURL *handle);
    CURLcode (*easy_setopt)(CURL *handle, CURLoption option, ...);
    CURLcode (*easy_getinfo)(CURL *handle, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *line);
    void (*slist_free_all)(struct curl_slist *list);
} api;

static const char *soname = "libcurl.so.4";
static const char *failure = "libcurl was not loaded";
static int ready = 0;
static pthread_once_t once = PTHREAD_ONCE_INIT;

void bridge_curl_use_library(const char *name) { soname = name; }

static void load(void) {
    /* RTLD_LOCAL: its symbols stay its own. An absolute name is never built from input: the
       soname is fixed, and the dynamic loader looks in the system's directories only (in a
       setgid process it ignores LD_LIBRARY_PATH). */
    void *library = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
    if (!library) {
        failure = "libcurl (libcurl.so.4) could not be loaded: install it (Debian: apt-get install libcurl4)";
        return;
    }
#define FIND(field, name)                                                     \
    if (!(*(void **)&api.field = dlsym(library, name))) {                      \
        failure = "the installed libcurl.so.4 lacks " name ": install libcurl 7.85 or later"; \
        return;                                                               \
    }
    FIND(global_init, "curl_global_init")
    FIND(easy_init, "curl_easy_init")
    FIND(easy_cleanup, "curl_easy_cleanup")
    FIND(easy_perform, "curl_easy_perform")
    FIND(easy_setopt, "curl_easy_setopt")
    FIND(easy_getinfo, "curl_easy_getinfo")
    FIND(easy_strerror, "curl_easy_strerror")
    FIND(slist_append, "curl_slist_append")
    FIND(slist_free_all, "curl_slist_free_all")
#undef FIND
    if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        failure = "libcurl could not be initialised (curl_global_init failed)";
        return;
    }
    failure = NULL;
    ready = 1;
}

const char *bridge_curl_load(void) {
    pthread_once(&once, load);
    return failure;
}

CURL *bridge_curl_easy_init(void) { return ready ? api.easy_init() : NULL; }

void bridge_curl_easy_cleanup(CURL *handle) {
    if (ready && handle) api.easy_cleanup(handle);
}

CURLcode bridge_curl_easy_perform(CURL *handle) { return ready ? api.easy_perform(handle) : CURLE_FAILED_INIT; }

const char *bridge_curl_easy_strerror(CURLcode code) { return ready ? api.easy_strerror(code) : "libcurl not loaded"; }

struct curl_slist *bridge_curl_slist_append(struct curl_slist *list, const char *line) {
    return ready ? api.slist_append(list, line) : NULL;
}

void bridge_curl_slist_free_all(struct curl_slist *list) {
    if (ready && list) api.slist_free_all(list);
}

CURLcode bridge_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return ready ? api.easy_setopt(handle, option, value) : CURLE_FAILED_INIT;
}

CURLcode bridge_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return ready ? api.easy_setopt(handle, option, value) : CURLE_FAILED_INIT;
}

CURLcode bridge_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return ready ? api.easy_setopt(handle, option, value) : CURLE_FAILED_INIT;
}

CURLcode bridge_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return ready ? api.easy_setopt(handle, option, value) : CURLE_FAILED_INIT;
}

CURLcode bridge_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return ready ? api.easy_setopt(handle, option, value) : CURLE_FAILED_INIT;
}

CURLcode bridge_curl_setopt_callback(CURL *handle, CURLoption option, curl_write_callback value) {
    return ready ? api.easy_setopt(handle, option, value) : CURLE_FAILED_INIT;
}

CURLcode bridge_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return ready ? api.easy_getinfo(handle, info, value) : CURLE_FAILED_INIT;
}
