#!/usr/bin/env bash
# setup-gotch.sh: make gotch v0.9.1 (Go bindings for libtorch) build against the libtorch
# installed on this machine, in third_party/gotch (git-ignored). Idempotent: a stamp file
# records what the copy was adapted to, and the work is redone only when that changes.
#
#   scripts/setup-gotch.sh            Debian's libtorch-dev (1.13.1) + OpenBLAS, installed
#                                     with apt-get when missing
#   LIBTORCH=/opt/libtorch scripts/setup-gotch.sh
#                                     an official libtorch (CPU or CUDA build) unpacked in
#                                     /opt/libtorch (the folder holding include/ and lib/);
#                                     with a CUDA build the CUDA libraries are linked too
#   FORCE=1 scripts/setup-gotch.sh    redo even when the stamp matches
#
# What it does:
#   1. installs libtorch-dev, libopenblas0-pthread and g++ when missing (not with LIBTORCH);
#   2. copies gotch v0.9.1 out of the Go module cache into third_party/gotch (the module
#      cache itself is never written to) and rewrites libtch/lib.go's cgo preamble for the
#      local include and library paths;
#   3. compiles libtch/torch_api.cpp with `g++ -fsyntax-only` and replaces every generated
#      atg_* wrapper that does not compile against these headers with a thrown error naming
#      the op (scripts/gotch/patchgen), repeating until it compiles;
#   4. writes third_party/gotch/.flowmatch-stamp.
# train/go.mod points at third_party/gotch with a replace directive. The first `go build`
# of train/ afterwards compiles gotch's C++ wrappers: about 3-4 minutes on 2 cores, cached
# by Go's build cache after that.
set -euo pipefail

GOTCH_VERSION=v0.9.1
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/third_party/gotch"
STAMP="$DEST/.flowmatch-stamp"
GO="${GO:-go}"

say() { echo "setup-gotch: $*"; }
die() { echo "setup-gotch: error: $*" >&2; exit 1; }

# ---------------------------------------------------------------- 1. libtorch
if [[ -n "${LIBTORCH:-}" ]]; then
	LIBTORCH="$(cd "$LIBTORCH" 2>/dev/null && pwd)" || die "LIBTORCH=$LIBTORCH is not a folder"
	TORCH_INC="$LIBTORCH/include"
	TORCH_LIB="$LIBTORCH/lib"
	[[ -f "$TORCH_INC/torch/csrc/api/include/torch/torch.h" ]] ||
		die "LIBTORCH=$LIBTORCH has no include/torch/csrc/api/include/torch/torch.h (point it at the unpacked libtorch folder)"
	[[ -e "$TORCH_LIB/libtorch.so" ]] || die "LIBTORCH=$LIBTORCH has no lib/libtorch.so"
	if [[ -f "$LIBTORCH/build-version" ]]; then
		TORCH_VERSION="$(head -n1 "$LIBTORCH/build-version")"
	else
		TORCH_VERSION="$(grep -E 'define TORCH_VERSION_(MAJOR|MINOR|PATCH)' "$TORCH_INC/torch/csrc/api/include/torch/version.h" | awk '{print $3}' | paste -sd.)"
	fi
	command -v g++ >/dev/null || die "g++ is needed (apt-get install g++)"
	say "using libtorch $TORCH_VERSION from LIBTORCH=$LIBTORCH"
else
	need=()
	for p in libtorch-dev libopenblas0-pthread g++; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null || need+=("$p")
	done
	if ((${#need[@]})); then
		say "installing ${need[*]} with apt-get (once)"
		SUDO=()
		if [[ $(id -u) != 0 ]]; then
			command -v sudo >/dev/null || die "need root (or sudo) to apt-get install ${need[*]}"
			SUDO=(sudo)
		fi
		"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
		"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
	else
		say "libtorch-dev, libopenblas0-pthread and g++ are installed"
	fi
	TORCH_INC=/usr/include
	TORCH_LIB="/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)"
	TORCH_VERSION="$(dpkg-query -W -f='${Version}' libtorch-dev) (Debian libtorch-dev)"
	say "using Debian's libtorch $TORCH_VERSION"
fi

CUDA=0
if [[ -e "$TORCH_LIB/libtorch_cuda.so" ]]; then CUDA=1; fi
# C++ ABI of the libtorch build: official "pre-cxx11" builds use the old std::string ABI.
ABI=0
if nm -D "$TORCH_LIB/libc10.so" 2>/dev/null | grep "__cxx11" >/dev/null; then ABI=1; fi

# ---------------------------------------------------------------- stamp check
# Run outside any module so that no go.mod or go.sum is touched.
DL="$(mktemp -d)"
GOTCH_SRC="$(cd "$DL" && GOFLAGS= "$GO" mod download -json "github.com/sugarme/gotch@$GOTCH_VERSION" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
rmdir "$DL"
[[ -d "$GOTCH_SRC/libtch" ]] || die "could not download github.com/sugarme/gotch@$GOTCH_VERSION"
SELF_SUM="$(cat "$ROOT/scripts/setup-gotch.sh" "$ROOT/scripts/gotch/patchgen/main.go" | sha256sum | cut -c1-16)"
WANT="gotch=$GOTCH_VERSION
libtorch=$TORCH_VERSION
include=$TORCH_INC
lib=$TORCH_LIB
cuda=$CUDA
cxx11abi=$ABI
cxx=$(g++ -dumpfullversion)
script=$SELF_SUM"
if [[ -z "${FORCE:-}" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
	say "third_party/gotch is up to date (libtorch $TORCH_VERSION, gotch $GOTCH_VERSION, cuda=$CUDA)"
	exit 0
fi

# ---------------------------------------------------------------- 2. copy + lib.go
say "adapting gotch $GOTCH_VERSION to libtorch $TORCH_VERSION (cuda=$CUDA, cxx11 ABI=$ABI) in third_party/gotch"
TMP="$ROOT/third_party/gotch.tmp.$$"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$ROOT/third_party"
rm -rf "$TMP"
cp -R "$GOTCH_SRC" "$TMP"
chmod -R u+w "$TMP"
rm -rf "$TMP/example" # example programs are not needed and some do not build here

CXXFLAGS="-std=c++17 -O2 -D_GLIBCXX_USE_CXX11_ABI=$ABI -Wno-deprecated-declarations -Wno-unused-variable -Wno-sign-compare -Wno-unused-function"
# -I/usr/include would reorder the system include path and break #include_next.
if [[ "$TORCH_INC" != /usr/include ]]; then CXXFLAGS="$CXXFLAGS -I$TORCH_INC"; fi
CXXFLAGS="$CXXFLAGS -I$TORCH_INC/torch/csrc/api/include"
LDFLAGS="-L$TORCH_LIB -Wl,-rpath,$TORCH_LIB -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10"
if ((CUDA)); then
	# Loaded for their static initialisers (CUDA kernels register themselves), so they
	# must not be dropped by --as-needed even though no symbol is referenced directly.
	LDFLAGS="$LDFLAGS -ltorch_cuda -lc10_cuda"
fi
LDFLAGS="$LDFLAGS -Wl,--as-needed -lstdc++"
# One directive per line and no blank line: a blank line inside a cgo preamble ends the
# comment block, and cgo silently ignores everything above it.
cat >"$TMP/libtch/lib.go" <<EOF
// Generated by flowmatch scripts/setup-gotch.sh for libtorch $TORCH_VERSION
// (include $TORCH_INC, lib $TORCH_LIB, cuda=$CUDA). Do not edit; rerun the script.

package libtch

// #cgo CFLAGS: -I\${SRCDIR} -O2 -Wno-deprecated-declarations
// #cgo CXXFLAGS: -I\${SRCDIR} $CXXFLAGS
// #cgo LDFLAGS: $LDFLAGS
import "C"
EOF
# gotch's init() calls log.Fatal when \$HOME/.cache/gotch cannot be created (no HOME, a
# read-only home): make that a warning; flowmatch never uses gotch's download cache.
sed -i 's/\t\t\tlog.Fatal(err)/\t\t\tlog.Printf("gotch: %v", err)/' "$TMP/init.go"

# ---------------------------------------------------------------- 3. patch wrappers
say "checking the generated wrappers against the installed headers (g++ -fsyntax-only, about 1 minute a round)"
(cd "$ROOT/scripts/gotch" && GOFLAGS= "$GO" run ./patchgen -dir "$TMP/libtch" \
	-cxxflags "-I$TMP/libtch $CXXFLAGS" -libtorch "libtorch $TORCH_VERSION")

# ---------------------------------------------------------------- 4. versions, stamp
# The versions, for the provenance the trainer writes into every model file.
cat >"$TMP/flowmatch_build.go" <<EOF
// Generated by flowmatch scripts/setup-gotch.sh. Do not edit; rerun the script.

package gotch

// The libtorch this copy of gotch was adapted to and built against, and gotch's version.
const (
	FlowmatchLibtorch = "$TORCH_VERSION"
	FlowmatchGotch    = "$GOTCH_VERSION"
	FlowmatchCUDA     = $( ((CUDA)) && echo true || echo false )
)
EOF
printf '%s\n' "$WANT" >"$TMP/.flowmatch-stamp"
rm -rf "$DEST"
mv "$TMP" "$DEST"
trap - EXIT
say "done: third_party/gotch is ready."
say "note: the first build of train/ compiles gotch's C++ wrappers, about 3-4 minutes on 2 cores (cached afterwards)."
