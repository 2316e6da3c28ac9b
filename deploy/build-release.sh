#!/usr/bin/env bash
# Builds devin-bridge as it is installed: release, with the Swift runtime and the C++ runtime it
# is written in linked statically. The program then loads only libc, libm and libcrypto at start
# (libcurl when it first sends a request), and the target host needs no Swift toolchain.
#
#   deploy/build-release.sh [SCRATCH_DIR]     # default .build in the checkout
#   deploy/build-release.sh SCRATCH_DIR PACKAGE_DIR PRODUCT   # another package, same flags (bench)
#
# The binaries land in SCRATCH_DIR/release. deploy/install.sh and bench/run.sh build with this.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=${1:-$root/.build}
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)
package=${2:-$root}
product=${3:-devin-bridge}

# SwiftPM's --static-swift-stdlib links the Swift runtime statically but asks for libstdc++ and
# libgcc_s as shared libraries: binding them costs every CGI start about a millisecond. A
# directory of linker scripts, searched first, points the linker at their static archives.
flags=()
stdcxx=$(clang -print-file-name=libstdc++.a 2>/dev/null || true)
unwind=$(clang -print-file-name=libgcc_eh.a 2>/dev/null || true)
if [ -f "$stdcxx" ] && [ -f "$unwind" ]; then
    links=$scratch/static-runtime
    mkdir -p "$links"
    printf 'INPUT(%s)\n' "$stdcxx" > "$links/libstdc++.so"
    printf 'INPUT(%s)\n' "$unwind" > "$links/libgcc_s.so"
    flags=(-Xlinker -L"$links")
else
    echo "build-release: libstdc++.a or libgcc_eh.a not found (apt-get install libstdc++-12-dev): linking them dynamically" >&2
fi

# Relative relocations packed (DT_RELR, glibc 2.36 and later): the table the dynamic loader reads
# at every start shrinks from 0.9 MB to 7 KB. It needs lld (the toolchain's) and a glibc that
# reads DT_RELR; without either the binary is linked as before.
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
if command -v ld.lld >/dev/null 2>&1 || [ -x "$(dirname "$(command -v swift)")/ld.lld" ]; then
    if [ -n "$glibc" ] && [ "$(printf '%s\n2.36\n' "$glibc" | sort -V | head -1)" = 2.36 ]; then
        flags+=(-Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs)
    fi
fi

# --disable-local-rpath: no $ORIGIN run path, so the dynamic loader does not look for each
# library in a dozen subdirectories of the install directory before the system's.
cd "$package"
swift build -c release --static-swift-stdlib --disable-local-rpath --product "$product" --scratch-path "$scratch" "${flags[@]}"
