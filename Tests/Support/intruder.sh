#!/bin/sh
# Another CGI script on the same web server, running as the web server's user (www-data): what any
# PHP page or CGI program with a bug could be made to do. Served by webserver.py --intruder at
# /intruder, outside the bridge's location, with the bridge's paths in INTRUDER_CONFIG and
# INTRUDER_STATE. Answers one JSON object: for each attempt "ok", "denied" (EACCES/EPERM) or
# "failed: <message>".
outcome() {
    # $1: the exit status, $2: what the command wrote to stderr
    if [ "$1" = 0 ]; then printf 'ok'
    else case "$2" in
        *"Permission denied"*|*"Operation not permitted"*) printf 'denied' ;;
        *) printf 'failed: %s' "$(printf '%s' "$2" | tr -d '"\\' | tr '\n' ' ')" ;;
    esac; fi
}
attempt() {
    err=$("$@" 2>&1 >/dev/null)
    outcome $? "$err"
}
read_config=$(attempt cat "$INTRUDER_CONFIG")
list_state=$(attempt ls -A "$INTRUDER_STATE")
create_in_state=$(attempt sh -c ': > "$1/planted"' sh "$INTRUDER_STATE")
plant_record=$(attempt sh -c 'printf "{}" > "$1/tickets/planted.json"' sh "$INTRUDER_STATE")
read_records=$(attempt sh -c 'cat "$1"/tickets/*.json' sh "$INTRUDER_STATE")
printf 'Status: 200 OK\r\nContent-Type: application/json\r\n\r\n'
printf '{"uid":"%s","gid":"%s","groups":"%s","read_config":"%s","list_state":"%s","create_in_state":"%s","plant_record":"%s","read_records":"%s"}\n' \
    "$(id -u)" "$(id -g)" "$(id -G)" "$read_config" "$list_state" "$create_in_state" "$plant_record" "$read_records"
