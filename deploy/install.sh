#!/usr/bin/env bash
# Builds devin-bridge with the Swift runtime linked in and installs it as a CGI program.
#
#   sudo deploy/install.sh
#
# Settings (environment variables):
#   DESTDIR     staging root prepended to every path (packaging); default empty
#   PREFIX      default /usr/local: the admin command goes to $PREFIX/bin
#   BINDIR      default $PREFIX/bin
#   CGI_DIR     default /usr/lib/cgi-bin (Debian's cgi-bin, used by both deploy/ drop-ins)
#   CONF_DIR    default /etc/devin-bridge
#   STATE_DIR   default /var/lib/devin-bridge: the delivery records (owned by WEB_USER, 0750)
#   WEB_USER    default www-data: the user the web server runs CGI programs as
#   WEB_GROUP   default www-data: the group the web server runs CGI programs as
#   BUILD_DIR   default .build in the checkout: SwiftPM's build folder (--scratch-path)
#   SKIP_BUILD  1: install the existing $BUILD_DIR/release/devin-bridge without building
#
# Safe to run again: the binary is replaced atomically, an existing bridge.conf is never
# overwritten (only a world-readable one is made private), directories are left as they are.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
BINDIR=${BINDIR:-$PREFIX/bin}
CGI_DIR=${CGI_DIR:-/usr/lib/cgi-bin}
CONF_DIR=${CONF_DIR:-/etc/devin-bridge}
WEB_GROUP=${WEB_GROUP:-www-data}
WEB_USER=${WEB_USER:-www-data}
STATE_DIR=${STATE_DIR:-/var/lib/devin-bridge}

say() { printf 'install: %s\n' "$*"; }
die() { printf 'install: error: %s\n' "$*" >&2; exit 1; }

BUILD_DIR=${BUILD_DIR:-$root/.build}
binary=$BUILD_DIR/release/devin-bridge
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    command -v swift >/dev/null || die "swift is not on PATH: install the Swift toolchain (https://swift.org/install) or set SKIP_BUILD=1 with a prebuilt $BUILD_DIR/release/devin-bridge"
    say "building a release binary with the Swift runtime linked statically"
    (cd "$root" && swift build -c release --static-swift-stdlib --product devin-bridge --scratch-path "$BUILD_DIR")
    (cd "$root" && swift build -c release --static-swift-stdlib --product devin-bridge-http --scratch-path "$BUILD_DIR")
fi
helper=$BUILD_DIR/release/devin-bridge-http
for file in "$binary" "$helper"; do
    [ -x "$file" ] || die "no binary at $file"
    # The target host must need no Swift toolchain: no libswift*.so among the dynamic dependencies.
    if ldd "$file" | grep -q 'libswift'; then
        die "$file links the Swift runtime dynamically; build with --static-swift-stdlib"
    fi
    if ldd "$file" | grep -q 'not found'; then
        die "$file needs libraries this host lacks: $(ldd "$file" | grep 'not found' | tr -s ' \t' ' ')"
    fi
done

as_root=0
[ "$(id -u)" = 0 ] && as_root=1
if [ $as_root = 1 ] && ! getent group "$WEB_GROUP" >/dev/null; then
    die "group $WEB_GROUP does not exist: install the web server first, or set WEB_GROUP"
fi
if [ $as_root = 1 ] && ! getent passwd "$WEB_USER" >/dev/null; then
    die "user $WEB_USER does not exist: install the web server first, or set WEB_USER"
fi

# The CGI program and its network helper (run only for accepted tickets; it refuses to run as
# a CGI program itself), each replaced atomically so a request in flight never sees half a file.
# Stripped: symbols are of no use on the server and cost disk and page cache.
install -d -m 0755 "$DESTDIR$CGI_DIR"
for name in devin-bridge-http devin-bridge; do
    tmp="$DESTDIR$CGI_DIR/.$name.new.$$"
    install -m 0755 "$BUILD_DIR/release/$name" "$tmp"
    strip "$tmp" 2>/dev/null || true
    mv -f "$tmp" "$DESTDIR$CGI_DIR/$name"
    say "installed $DESTDIR$CGI_DIR/$name ($(du -h "$DESTDIR$CGI_DIR/$name" | cut -f1))"
done

# The admin command (check, sign): the same binary.
install -d -m 0755 "$DESTDIR$BINDIR"
ln -sfn "$CGI_DIR/devin-bridge" "$DESTDIR$BINDIR/devin-bridge"
say "linked $DESTDIR$BINDIR/devin-bridge -> $CGI_DIR/devin-bridge"

# The configuration: created once from the example, never overwritten; readable by root and the
# web server's group only, since it holds the secrets.
conf="$DESTDIR$CONF_DIR/bridge.conf"
if [ ! -d "$DESTDIR$CONF_DIR" ]; then
    install -d -m 0750 "$DESTDIR$CONF_DIR"
    [ $as_root = 1 ] && chown "root:$WEB_GROUP" "$DESTDIR$CONF_DIR"
fi
if [ -e "$conf" ]; then
    say "kept the existing $conf"
    if [ -n "$(find "$conf" -maxdepth 0 -perm /o=rwx)" ]; then
        chmod o-rwx "$conf"
        say "made $conf unreadable to others (it holds secrets)"
    fi
else
    install -m 0640 "$here/bridge.conf.example" "$conf"
    [ $as_root = 1 ] && chown "root:$WEB_GROUP" "$conf"
    say "created $conf from the example: fill in DEVIN_API_KEY, DEVIN_ORG_ID and WEBHOOK_SECRET"
fi
# The state directory: written by the CGI (as the web server's user) and by `devin-bridge retry`.
if [ ! -d "$DESTDIR$STATE_DIR" ]; then
    install -d -m 0750 "$DESTDIR$STATE_DIR"
    [ $as_root = 1 ] && chown "$WEB_USER:$WEB_GROUP" "$DESTDIR$STATE_DIR"
    say "created $DESTDIR$STATE_DIR (owner $WEB_USER, mode 0750)"
else
    say "kept the existing $DESTDIR$STATE_DIR"
fi

# The retry timer's units, when systemd is there to run them.
if [ -d "$DESTDIR/etc/systemd/system" ] || [ -n "$DESTDIR" ]; then
    install -d -m 0755 "$DESTDIR/etc/systemd/system"
    for unit in devin-bridge-retry.service devin-bridge-retry.timer; do
        sed -e "s|/usr/local/bin/devin-bridge|$BINDIR/devin-bridge|g" -e "s|User=www-data|User=$WEB_USER|" \
            -e "s|Group=www-data|Group=$WEB_GROUP|" -e "s|/var/lib/devin-bridge|$STATE_DIR|g" \
            -e "s|/etc/devin-bridge/bridge.conf|$CONF_DIR/bridge.conf|g" \
            "$here/systemd/$unit" > "$DESTDIR/etc/systemd/system/$unit"
        chmod 0644 "$DESTDIR/etc/systemd/system/$unit"
    done
    say "installed the retry timer units in $DESTDIR/etc/systemd/system (enable: systemctl enable --now devin-bridge-retry.timer)"
fi

[ $as_root = 1 ] || say "not root: ownership left as is; make $conf root:$WEB_GROUP 0640 and $STATE_DIR $WEB_USER-owned when installing for real"

cat <<NEXT
install: next steps
  1. edit $CONF_DIR/bridge.conf, then run: devin-bridge check
     (and if STATE_DIR is not $STATE_DIR there, create that directory owned by $WEB_USER)
     (with a CONF_DIR other than /etc/devin-bridge, change DEVIN_BRIDGE_CONFIG in the web-server drop-in you copy)
  2. Apache: cp $here/apache/devin-bridge.conf /etc/apache2/conf-available/ && a2enmod cgid && a2enconf devin-bridge && systemctl reload apache2
     nginx:  cp $here/nginx/devin-bridge.conf /etc/nginx/snippets/ and include it in your server block;
             see $here/fcgiwrap/override.conf for more than one fcgiwrap worker
  3. point the ticketing system's webhook at https://<your host>/hooks/tickets with the same secret
  4. deliver queued tickets: systemctl enable --now devin-bridge-retry.timer
     (or from cron, every minute: sudo -u $WEB_USER $BINDIR/devin-bridge retry)
NEXT
