#!/usr/bin/env bash
# Builds devin-bridge with the Swift runtime linked in and installs it as a CGI program that runs
# under its own group, so that no other script on the web server can read its secrets or its
# state; or removes it again.
#
#   sudo deploy/install.sh                       install, or update an existing install
#   sudo deploy/install.sh --uninstall           remove the programs, the timer, the user and group;
#                                                keep bridge.conf and the state directory
#   sudo deploy/install.sh --uninstall --purge   also remove bridge.conf and the state directory
#
# Settings (environment variables, the same for install and uninstall):
#   DESTDIR       staging root prepended to every path (packaging); default empty
#   PREFIX        default /usr/local: the admin command goes to $PREFIX/bin
#   BINDIR        default $PREFIX/bin
#   CGI_DIR       default /usr/lib/devin-bridge: the CGI program. Not
#                 Debian's /usr/lib/cgi-bin, which Apache's serve-cgi-bin.conf publishes at /cgi-bin/
#   CONF_DIR      default /etc/devin-bridge
#   STATE_DIR     default /var/lib/devin-bridge: the delivery records
#   BRIDGE_USER   default devin-bridge: the system user that owns the state (and runs the retry timer)
#   BRIDGE_GROUP  default devin-bridge: the group the CGI program runs as (setgid), the only
#                 group that can read bridge.conf and enter the state directory
#   BUILD_DIR     default .build in the checkout: SwiftPM's build folder (--scratch-path)
#   SKIP_BUILD    1: install the existing $BUILD_DIR/release/devin-bridge without building
#   SYSTEM_CA_FILE default /etc/ssl/certs/ca-certificates.crt: the CA bundle libcurl verifies the
#                 Devin API's certificate with (Debian's libcurl looks there); a warning if missing
#
# What it makes (as root; the user and group are created on this host, even with DESTDIR):
#   $CGI_DIR/devin-bridge        root:$BRIDGE_GROUP 2755 (setgid: the web server's user runs it,
#                                with the group $BRIDGE_GROUP as its effective group)
#   $BINDIR/devin-bridge         a symlink to $CGI_DIR/devin-bridge (the admin commands)
#   $CONF_DIR                    root:$BRIDGE_GROUP 0750
#   $CONF_DIR/bridge.conf        root:$BRIDGE_GROUP 0640, from bridge.conf.example, never overwritten
#   $STATE_DIR                   $BRIDGE_USER:$BRIDGE_GROUP 2770 (and its tickets/ and locks/)
#   /etc/systemd/system/devin-bridge-retry.{service,timer}, run as $BRIDGE_USER
#
# Safe to run again: the binaries are replaced atomically, an existing bridge.conf is never
# overwritten. An install of the earlier layout (programs in /usr/lib/cgi-bin, bridge.conf
# readable by www-data, a state directory owned by www-data) is migrated, and each change is
# reported.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
BINDIR=${BINDIR:-$PREFIX/bin}
CGI_DIR=${CGI_DIR:-/usr/lib/devin-bridge}
CONF_DIR=${CONF_DIR:-/etc/devin-bridge}
STATE_DIR=${STATE_DIR:-/var/lib/devin-bridge}
BRIDGE_USER=${BRIDGE_USER:-devin-bridge}
BRIDGE_GROUP=${BRIDGE_GROUP:-devin-bridge}
# Where earlier versions installed the programs, served by Debian's serve-cgi-bin.conf.
LEGACY_CGI_DIR=/usr/lib/cgi-bin

say() { printf 'install: %s\n' "$*"; }
die() { printf 'install: error: %s\n' "$*" >&2; exit 1; }

mode=install
purge=0
for argument in "$@"; do
    case "$argument" in
        --uninstall) mode=uninstall ;;
        --purge) purge=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument $argument (usage: $0 [--uninstall [--purge]])" ;;
    esac
done
[ $purge = 1 ] && [ $mode != uninstall ] && die "--purge only goes with --uninstall"

as_root=0
[ "$(id -u)" = 0 ] && as_root=1
units="devin-bridge-retry.service devin-bridge-retry.timer"
conf="$DESTDIR$CONF_DIR/bridge.conf"
state="$DESTDIR$STATE_DIR"

# Removes the programs from the old location, where /cgi-bin/devin-bridge would keep serving
# them outside the drop-in's access rules and limits.
remove_legacy_programs() {
    [ "$CGI_DIR" = "$LEGACY_CGI_DIR" ] && return 0
    local name
    for name in devin-bridge devin-bridge-http; do
        if [ -e "$DESTDIR$LEGACY_CGI_DIR/$name" ] || [ -L "$DESTDIR$LEGACY_CGI_DIR/$name" ]; then
            rm -f "$DESTDIR$LEGACY_CGI_DIR/$name"
            say "removed $DESTDIR$LEGACY_CGI_DIR/$name (the old location, served at /cgi-bin/$name by Debian's Apache)"
        fi
    done
    rm -f "$DESTDIR$LEGACY_CGI_DIR"/.devin-bridge*.new.* 2>/dev/null || true
}

# Web-server drop-ins copied from an earlier version still point at the old location.
warn_stale_drop_ins() {
    local file
    for file in "$DESTDIR/etc/apache2/conf-available/devin-bridge.conf" "$DESTDIR/etc/nginx/snippets/devin-bridge.conf"; do
        if [ -f "$file" ] && grep -q "$LEGACY_CGI_DIR/devin-bridge" "$file"; then
            say "warning: $file still runs $LEGACY_CGI_DIR/devin-bridge: replace it with the one in $here/ and reload the web server"
        fi
    done
}

if [ $mode = uninstall ]; then
    if [ $as_root = 1 ] && [ -z "$DESTDIR" ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        systemctl disable --now devin-bridge-retry.timer >/dev/null 2>&1 || true
        systemctl stop devin-bridge-retry.service >/dev/null 2>&1 || true
    fi
    for unit in $units; do
        if [ -e "$DESTDIR/etc/systemd/system/$unit" ]; then
            rm -f "$DESTDIR/etc/systemd/system/$unit"
            say "removed $DESTDIR/etc/systemd/system/$unit"
        fi
    done
    if [ $as_root = 1 ] && [ -z "$DESTDIR" ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        systemctl daemon-reload || true
    fi
    link="$DESTDIR$BINDIR/devin-bridge"
    if [ -L "$link" ] && case "$(readlink "$link")" in */devin-bridge) true ;; *) false ;; esac; then
        rm -f "$link"
        say "removed $link"
    fi
    for name in devin-bridge devin-bridge-http; do
        if [ -e "$DESTDIR$CGI_DIR/$name" ]; then
            rm -f "$DESTDIR$CGI_DIR/$name"
            say "removed $DESTDIR$CGI_DIR/$name"
        fi
    done
    rm -f "$DESTDIR$CGI_DIR"/.devin-bridge*.new.* 2>/dev/null || true
    if [ -d "$DESTDIR$CGI_DIR" ] && [ "$CGI_DIR" != "$LEGACY_CGI_DIR" ]; then
        rmdir "$DESTDIR$CGI_DIR" 2>/dev/null && say "removed $DESTDIR$CGI_DIR" || true
    fi
    remove_legacy_programs

    if [ $purge = 1 ]; then
        for dir in "$DESTDIR$CONF_DIR" "$state"; do
            if [ -e "$dir" ]; then
                rm -rf "$dir"
                say "removed $dir"
            fi
        done
    else
        # Kept, but given to root: a group or user created later may get the same number, and
        # must not inherit the secrets. A later install hands them back to the bridge's user.
        if [ -e "$conf" ]; then
            [ $as_root = 1 ] && chown -R root:root "$DESTDIR$CONF_DIR"
            say "kept $conf (with your secrets; now root-only; --purge removes it)"
        fi
        if [ -d "$state" ]; then
            [ $as_root = 1 ] && chown -R root:root "$state"
            say "kept $state (the delivery records; now root-only; --purge removes it)"
        fi
    fi

    if [ $as_root = 1 ]; then
        if getent passwd "$BRIDGE_USER" >/dev/null; then
            userdel "$BRIDGE_USER"
            say "removed the user $BRIDGE_USER"
        fi
        if getent group "$BRIDGE_GROUP" >/dev/null; then
            groupdel "$BRIDGE_GROUP"
            say "removed the group $BRIDGE_GROUP"
        fi
    else
        say "not root: the user $BRIDGE_USER and the group $BRIDGE_GROUP are left as they are"
    fi
    for file in "$DESTDIR/etc/apache2/conf-enabled/devin-bridge.conf" "$DESTDIR/etc/nginx/snippets/devin-bridge.conf"; do
        [ -e "$file" ] && say "the web server still has $file: remove it (a2disconf devin-bridge / the include line) and reload"
    done
    exit 0
fi

BUILD_DIR=${BUILD_DIR:-$root/.build}
binary=$BUILD_DIR/release/devin-bridge
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    command -v swift >/dev/null || die "swift is not on PATH: install the Swift toolchain (https://swift.org/install) or set SKIP_BUILD=1 with a prebuilt $BUILD_DIR/release/devin-bridge"
    say "building a release binary with the Swift and C++ runtimes linked statically"
    "$root/deploy/build-release.sh" "$BUILD_DIR"
fi
[ -x "$binary" ] || die "no binary at $binary"
# The target host must need no Swift toolchain: no libswift*.so among the dynamic dependencies.
if ldd "$binary" | grep -q 'libswift'; then
    die "$binary links the Swift runtime dynamically; build with --static-swift-stdlib"
fi
if ldd "$binary" | grep -q 'not found'; then
    die "$binary needs libraries this host lacks: $(ldd "$binary" | grep 'not found' | tr -s ' \t' ' ')"
fi
# libcurl is loaded when the first request is sent (dlopen), so ldd does not list it.
if ! /sbin/ldconfig -p 2>/dev/null | grep -q 'libcurl\.so\.4 '; then
    if [ -z "$DESTDIR" ]; then
        die "libcurl.so.4 is not installed: devin-bridge sends its requests with it (Debian: apt-get install libcurl4)"
    fi
    say "warning: libcurl.so.4 is not installed here; the target host needs it (Debian: libcurl4)"
fi
# libcurl verifies every https answer against the system's CA certificates, which a minimal
# Debian lacks (libcurl4 only recommends them): without them no session could start.
SYSTEM_CA_FILE=${SYSTEM_CA_FILE:-/etc/ssl/certs/ca-certificates.crt}
if [ ! -s "$SYSTEM_CA_FILE" ]; then
    say "warning: $SYSTEM_CA_FILE is missing: libcurl cannot verify the Devin API's certificate, so no session can start (Debian: apt-get install ca-certificates; or set CURL_CA_BUNDLE for the CGI program and the timer)"
fi

# The bridge's own group and user: only they (and root) can read the secrets and the state.
# A concurrent install may create them first: then they exist, which is all that matters.
if [ $as_root = 1 ]; then
    if ! getent group "$BRIDGE_GROUP" >/dev/null; then
        groupadd --system "$BRIDGE_GROUP" 2>/dev/null || getent group "$BRIDGE_GROUP" >/dev/null \
            || die "cannot create the group $BRIDGE_GROUP"
        say "created the system group $BRIDGE_GROUP"
    fi
    if ! getent passwd "$BRIDGE_USER" >/dev/null; then
        useradd --system --gid "$BRIDGE_GROUP" --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$BRIDGE_USER" 2>/dev/null || getent passwd "$BRIDGE_USER" >/dev/null \
            || die "cannot create the user $BRIDGE_USER"
        say "created the system user $BRIDGE_USER (no login, no home)"
    fi
fi

# The CGI program, replaced atomically so a request in flight never sees half a file.
# Stripped: symbols are of no use on the server and cost disk and page cache.
# devin-bridge is setgid $BRIDGE_GROUP: the web server's user runs it, and the kernel gives it
# that group (and makes it undumpable, and glibc ignores LD_* for it), so it can read the
# configuration and the state that the web server's other scripts cannot.
install -d -m 0755 "$DESTDIR$CGI_DIR"
for name in devin-bridge; do
    tmp="$DESTDIR$CGI_DIR/.$name.new.$$"
    install -m 0755 "$BUILD_DIR/release/$name" "$tmp"
    strip "$tmp" 2>/dev/null || true
    if [ $as_root = 1 ]; then
        if [ $name = devin-bridge ]; then
            chown "root:$BRIDGE_GROUP" "$tmp"
            chmod 2755 "$tmp"  # after chown, which clears the setgid bit
        else
            chown root:root "$tmp"
        fi
    fi
    mv -f "$tmp" "$DESTDIR$CGI_DIR/$name"
    say "installed $DESTDIR$CGI_DIR/$name ($(du -h "$DESTDIR$CGI_DIR/$name" | cut -f1), $(stat -c '%U:%G %a' "$DESTDIR$CGI_DIR/$name"))"
done
remove_legacy_programs
# Earlier releases sent their requests through a helper program; the bridge now calls libcurl.
if [ -e "$DESTDIR$CGI_DIR/devin-bridge-http" ]; then
    rm -f "$DESTDIR$CGI_DIR/devin-bridge-http"
    say "removed $DESTDIR$CGI_DIR/devin-bridge-http (the network helper of earlier releases, no longer used)"
fi

# The admin command (check, sign, retry, status): the same binary.
install -d -m 0755 "$DESTDIR$BINDIR"
ln -sfn "$CGI_DIR/devin-bridge" "$DESTDIR$BINDIR/devin-bridge"
say "linked $DESTDIR$BINDIR/devin-bridge -> $CGI_DIR/devin-bridge"

# The configuration: created once from the example, never overwritten; readable by root and the
# bridge's group only, since it holds the secrets.
if [ ! -d "$DESTDIR$CONF_DIR" ]; then
    install -d -m 0750 "$DESTDIR$CONF_DIR"
    [ $as_root = 1 ] && chown "root:$BRIDGE_GROUP" "$DESTDIR$CONF_DIR"
elif [ $as_root = 1 ] && [ "$(stat -c '%U:%G %a' "$DESTDIR$CONF_DIR")" != "root:$BRIDGE_GROUP 750" ]; then
    # Only a directory of its own (a CONF_DIR of /etc must never be changed).
    [ -z "$(find "$DESTDIR$CONF_DIR" -mindepth 1 -maxdepth 1 ! -name 'bridge.conf*' | head -1)" ] \
        || die "$DESTDIR$CONF_DIR holds other files than bridge.conf: give the bridge a directory of its own (CONF_DIR)"
    was=$(stat -c '%U:%G %a' "$DESTDIR$CONF_DIR")
    chown "root:$BRIDGE_GROUP" "$DESTDIR$CONF_DIR"
    chmod 0750 "$DESTDIR$CONF_DIR"
    say "changed $DESTDIR$CONF_DIR from $was to root:$BRIDGE_GROUP 750"
fi
if [ -e "$conf" ]; then
    say "kept the existing $conf"
    if [ $as_root = 1 ] && [ "$(stat -c '%U:%G %a' "$conf")" != "root:$BRIDGE_GROUP 640" ]; then
        was=$(stat -c '%U:%G %a' "$conf")
        chown "root:$BRIDGE_GROUP" "$conf"
        chmod 0640 "$conf"
        say "changed $conf from $was to root:$BRIDGE_GROUP 640: only the bridge's group reads the secrets"
    elif [ -n "$(find "$conf" -maxdepth 0 -perm /o=rwx)" ]; then
        chmod o-rwx "$conf"
        say "made $conf unreadable to others (it holds secrets)"
    fi
else
    install -m 0640 "$here/bridge.conf.example" "$conf"
    [ $as_root = 1 ] && chown "root:$BRIDGE_GROUP" "$conf"
    say "created $conf from the example: fill in DEVIN_API_KEY, DEVIN_ORG_ID and WEBHOOK_SECRET"
fi

# The state directory: written by the CGI (effective group $BRIDGE_GROUP) and by
# `devin-bridge retry` (user $BRIDGE_USER). Setgid, so everything in it keeps the group; its
# subfolders made here too, so they are group-writable whatever the web server's umask is.
if [ ! -d "$state" ]; then
    install -d -m 2770 "$state"
    if [ $as_root = 1 ]; then
        chown "$BRIDGE_USER:$BRIDGE_GROUP" "$state"
        chmod 2770 "$state"
    fi
    say "created $state ($BRIDGE_USER:$BRIDGE_GROUP, mode 2770)"
elif [ $as_root = 1 ] && [ "$(stat -c '%U:%G %a' "$state")" != "$BRIDGE_USER:$BRIDGE_GROUP 2770" ]; then
    # Only a directory of its own: never hand over a STATE_DIR of /var/lib.
    [ -z "$(find "$state" -mindepth 1 -maxdepth 1 ! -name tickets ! -name locks ! -name 'sessions-last-hour.json' ! -name '.tmp-*' | head -1)" ] \
        || die "$state holds other files than the bridge's records: give the bridge a directory of its own (STATE_DIR)"
    was=$(stat -c '%U:%G %a' "$state")
    chown -R "$BRIDGE_USER:$BRIDGE_GROUP" "$state"
    find "$state" -type d -exec chmod 2770 {} +
    find "$state" -type f -exec chmod u+rw,g+r,g-w,o-rwx {} +
    say "changed $state from $was to $BRIDGE_USER:$BRIDGE_GROUP 2770 (and everything in it): the web server's other scripts can no longer enter it"
else
    say "kept the existing $state"
fi
for sub in tickets locks; do
    if [ ! -d "$state/$sub" ]; then
        install -d -m 2770 "$state/$sub"
        if [ $as_root = 1 ]; then
            chown "$BRIDGE_USER:$BRIDGE_GROUP" "$state/$sub"
            chmod 2770 "$state/$sub"
        fi
    fi
done

# The retry timer's units, when systemd is there to run them.
if [ -d "$DESTDIR/etc/systemd/system" ] || [ -n "$DESTDIR" ]; then
    install -d -m 0755 "$DESTDIR/etc/systemd/system"
    for unit in $units; do
        sed -e "s|/usr/local/bin/devin-bridge|$BINDIR/devin-bridge|g" -e "s|^User=devin-bridge|User=$BRIDGE_USER|" \
            -e "s|^Group=devin-bridge|Group=$BRIDGE_GROUP|" -e "s|/var/lib/devin-bridge|$STATE_DIR|g" \
            -e "s|/etc/devin-bridge/bridge.conf|$CONF_DIR/bridge.conf|g" \
            "$here/systemd/$unit" > "$DESTDIR/etc/systemd/system/$unit"
        chmod 0644 "$DESTDIR/etc/systemd/system/$unit"
    done
    say "installed the retry timer units in $DESTDIR/etc/systemd/system (enable: systemctl enable --now devin-bridge-retry.timer)"
    if [ $as_root = 1 ] && [ -z "$DESTDIR" ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        systemctl daemon-reload || true
    fi
fi
warn_stale_drop_ins

[ $as_root = 1 ] || say "not root: ownership left as is, and devin-bridge is not setgid; as root, run this again (or make devin-bridge root:$BRIDGE_GROUP 2755, $conf root:$BRIDGE_GROUP 0640, $STATE_DIR $BRIDGE_USER:$BRIDGE_GROUP 2770)"

cat <<NEXT
install: next steps
  1. edit $CONF_DIR/bridge.conf, then run: devin-bridge check
     (and if STATE_DIR is not $STATE_DIR there, create that directory $BRIDGE_USER:$BRIDGE_GROUP, mode 2770)
     (with a CONF_DIR other than /etc/devin-bridge, change DEVIN_BRIDGE_CONFIG in the web-server drop-in you copy;
      with a CGI_DIR other than /usr/lib/devin-bridge, change the path of the program there too)
  2. Apache: cp $here/apache/devin-bridge.conf /etc/apache2/conf-available/ && a2enmod cgid && a2enconf devin-bridge && systemctl reload apache2
     nginx:  cp $here/nginx/devin-bridge.conf /etc/nginx/snippets/ and include it in your server block;
             see $here/fcgiwrap/override.conf for more than one fcgiwrap worker
  3. point the ticketing system's webhook at https://<your host>/hooks/tickets with the same secret
  4. deliver queued tickets: systemctl enable --now devin-bridge-retry.timer
     (or from cron, every minute: sudo -u $BRIDGE_USER $BINDIR/devin-bridge retry)
  to remove it again: $0 --uninstall (add --purge to delete bridge.conf and the state too)
NEXT
