# make install PREFIX=/usr DESTDIR=<scratch> from the build the tests run against (build, or
# build-debug under ASan): every file in place, a C program built with `pkg-config emsync` that
# composes a piece (against the shared and the static library), the binary, emsync.pc, the man
# page and the library agreeing on the version, the man page rendering, the installed data found
# by the installed binary, the bash completion answering, and make uninstall leaving no file.
. "$(dirname "$0")/../cli-lib.sh"
cd "$scratch"
root=$ES_ROOT
build=${ES_BIN%/emsync}
build=${build#"$root"/}  # as the Makefile names it (its dependency files use that spelling)
dest=$scratch/dest
usr=$dest/usr
# a make of its own, not the jobs or variables of a make that may be running the tests
run_make() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$root" BUILD="$build" PREFIX=/usr DESTDIR="$dest" "$@"; }

if ! run_make install >install.log 2>&1; then
  fail "make install failed: $(tail -5 install.log)"
  finish
fi

for f in bin/emsync lib/libemsync.a lib/libemsync.so include/emsync.h lib/pkgconfig/emsync.pc \
         share/man/man1/emsync.1 share/bash-completion/completions/emsync \
         share/emsync/models/emsync-pop909.pt share/doc/emsync/LICENSE share/doc/emsync/NOTICE; do
  check "installed $f" [ -e "$usr/$f" ]
done
check "the header is the repository's" cmp -s "$root/include/emsync.h" "$usr/include/emsync.h"
soname=$(readelf -d "$usr/lib/libemsync.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
check "soname libemsync.so.N ($soname)" grep -Eqx 'libemsync\.so\.[0-9]+' <<<"$soname"
check "$soname links to the library" [ -L "$usr/lib/$soname" -a -f "$usr/lib/$soname" ]
others=$(nm -D --defined-only "$usr/lib/libemsync.so" | awk '{ print $3 }' | grep -v '^emsync_')
check "the shared library exports only emsync_* ($others)" [ -z "$others" ]
# the face models are copied only where they were installed before (never downloaded)
if grep -q "face models not found" install.log; then
  check "no face model installed" not ls "$usr/share/emsync/models" | grep -q face
else
  for f in $("$root/scripts/install-face-models.sh" --list); do
    check "installed face model $f" [ -f "$usr/share/emsync/models/$f" ]
  done
fi

# a program built against the installed library only
export PKG_CONFIG_PATH=$usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
version=$(pkg-config --modversion emsync) || fail "pkg-config does not find emsync.pc"
cat >piece.c <<'EOF'
#include <emsync.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    emsync_options o;
    emsync_options_default(&o);
    o.composer = EMSYNC_COMPOSER_RULES;
    o.fixed_mood = 1;
    o.valence = 0.6;
    o.arousal = 0.4;
    emsync_set_quiet(1);
    if (emsync_compose(4.0, argv[1], NULL, NULL, &o)) {
        fprintf(stderr, "piece: %s\n", emsync_error());
        return 1;
    }
    printf("%s\n", emsync_version());
    return 0;
}
EOF
# a sanitizer build's library needs the sanitizer runtimes in the program too
san=""
nm "$usr/lib/libemsync.a" 2>/dev/null | grep -q __asan_ && san="-fsanitize=address,undefined"
# shellcheck disable=SC2046
if cc -std=c11 $san -o piece-shared piece.c $(pkg-config --cflags --libs emsync) 2>cc.log; then
  check "piece-shared needs $soname" grep -q "\[$soname\]" <(readelf -d piece-shared)
  out=$(LD_LIBRARY_PATH=$usr/lib ./piece-shared shared.mid 2>&1) || fail "piece-shared failed: $out"
  check "emsync_version() through the shared library is the .pc version ($out, $version)" [ "$out" = "$version" ]
  check "the shared library composed a MIDI file" grep -q '^MThd' shared.mid
else
  fail "could not build against the shared library: $(head -5 cc.log)"
fi
# static: libemsync.a, then what emsync.pc says it needs (Requires.private, Libs.private)
private=$(sed -n 's/^Libs.private: *//p' "$usr/lib/pkgconfig/emsync.pc")
# shellcheck disable=SC2046,SC2086
if cc -std=c11 $san -o piece-static piece.c $(pkg-config --cflags emsync) "$usr/lib/libemsync.a" \
      $(pkg-config --libs $(pkg-config --print-requires-private emsync)) $private 2>cc.log; then
  check "piece-static does not need libemsync.so" not grep -q libemsync <(readelf -d piece-static)
  out=$(./piece-static static.mid 2>&1) || fail "piece-static failed: $out"
  check "emsync_version() in the static library is the .pc version ($out, $version)" [ "$out" = "$version" ]
  check "the static library composed the same MIDI file" cmp -s shared.mid static.mid
else
  fail "could not build against the static library: $(head -5 cc.log)"
fi

# one version everywhere
check "emsync --version is the .pc version" [ "$("$usr/bin/emsync" --version)" = "emsync $version" ]
man=$usr/share/man/man1/emsync.1
check "the man page's version is the .pc version" grep -Eq "^\.TH EMSYNC 1 \"[^\"]*\" \"emsync $version\"" "$man"

# the man page: every command, rendered without warnings when groff is there
if command -v groff >/dev/null; then
  groff -man -Tutf8 -ww -z "$man" 2>groff.log
  check "groff renders the man page without warnings ($(head -c 300 groff.log))" [ ! -s groff.log ]
  groff -man -Tascii -P-cbou "$man" >man.txt 2>/dev/null
else
  sed -e 's/\\-/-/g' -e 's/\\f[BIR]//g' "$man" >man.txt
  for section in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS ENVIRONMENT; do
    check "the man page has the section $section" grep -qx "\.SH $section" "$man"
  done
fi
for cmd in $("$ES_BIN" --help | awk '/^commands:$/ { on = 1; next } on && /^$/ { exit } on { print $1 }'); do
  check "the man page describes emsync $cmd" grep -Eq "^ *emsync $cmd\$" man.txt
done
check "the man page lists --overwrite" grep -q -- "--overwrite" man.txt

# the installed binary finds the installed data, not the checkout's
env -u EMSYNC_MODEL HOME="$scratch" XDG_DATA_HOME= EMSYNC_DATA="$usr/share/emsync" \
  "$usr/bin/emsync" model-info --json >info.json 2>err.txt || fail "installed model-info failed: $(cat err.txt)"
check "the installed binary uses the installed bundled model ($(cat info.json))" \
  grep -Fq "\"path\":\"$usr/share/emsync/models/emsync-pop909.pt\"" info.json
# ... and without being told where: it looks in <its bin>/../share/emsync, so any PREFIX works,
# staged under DESTDIR or moved elsewhere (neither is one of the fixed /usr roots)
mkdir -p empty-home moved/opt/x
cp -a "$usr/bin" "$usr/share" moved/opt/x/
for prefix in "$usr" "$scratch/moved/opt/x"; do
  env -u EMSYNC_MODEL -u EMSYNC_DATA -u XDG_DATA_HOME HOME="$scratch/empty-home" \
    "$prefix/bin/emsync" model-info --json >info.json 2>err.txt ||
    fail "$prefix/bin/emsync model-info without EMSYNC_DATA failed: $(cat err.txt)"
  # written out as the resolved path (/proc/self/exe), whatever symlinks $TMPDIR holds
  check "$prefix/bin/emsync finds its own bundled model ($(cat info.json))" \
    grep -Fq "\"path\":\"$(realpath "$prefix")/share/emsync/models/emsync-pop909.pt\"" info.json
done
if [ -f "$usr/share/emsync/models/tiny_face_detector_model.bin" ]; then
  "$usr/bin/emsync" faces -q "$root/tests/data/faces/sample1.jpg" --models "$usr/share/emsync/models" >faces.json ||
    fail "the installed face models do not load"
  check "the installed face models find 3 faces" [ "$(grep -c '"box"' faces.json)" -eq 3 ]
fi

# bash completion, asking the installed binary
complete_words() {
  PATH=$usr/bin:$PATH bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _emsync; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$usr/share/bash-completion/completions/emsync" emsync "$@"
}
check "completion: commands" grep -qx faces <(complete_words fa)
check "completion: --version" grep -qx -- --version <(complete_words --v)
check "completion: faces -q" grep -qx -- -q <(complete_words faces -)
check "completion: faces --overwrite" grep -qx -- --overwrite <(complete_words faces --o)
check "completion: --original-audio values" [ "$(complete_words score --original-audio '' | tr '\n' ' ')" = "off mix track " ]
check "completion: --emotion values" grep -qx joy <(complete_words compose --emotion j)
check "completion: --faces values" [ "$(complete_words analyze --faces '' | tr '\n' ' ')" = "on off " ]

run_make uninstall >uninstall.log 2>&1 || fail "make uninstall failed: $(tail -5 uninstall.log)"
left=$(find "$dest" ! -type d)
check "make uninstall leaves no file ($left)" [ -z "$left" ]
finish
