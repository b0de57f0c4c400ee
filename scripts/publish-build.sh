#!/usr/bin/env bash
#
# Puts a finished Tierwall build live on the app server, for builds made
# elsewhere (in CI, say) and copied here. It does on this machine what the
# build does on its own: the build folder moves in beside the others, then the
# `dist` symlink is renamed onto it in one step, so the running server switches
# to the new build within half a second and never sees half of one.
#
#   scripts/publish-build.sh <build folder> [dist symlink]
#
# <build folder>  a complete build (manifest.json, public/, gated/), ideally
#                 copied into the builds folder under a dot-name such as
#                 .dist-builds/.incoming-<id>, so that the move is a rename.
#                 The folder is moved, not copied.
# [dist symlink]  the path the server reads as DIST_DIR (default: $DIST_DIR,
#                 else ./dist). Builds live beside it in .<name>-builds/.
#
# Old builds are removed once they are neither among the newest KEEP_BUILDS
# (default 3) nor replaced less than GRACE_SECONDS (default 60) ago: a request
# that began on a build just replaced still finds its files.

set -euo pipefail

die() {
  echo "publish-build: $*" >&2
  exit 1
}

build=${1:?usage: publish-build.sh <build folder> [dist symlink]}
dist=$(realpath -ms "${2:-${DIST_DIR:-dist}}")
keep=${KEEP_BUILDS:-3}
grace=${GRACE_SECONDS:-60}

[[ -f "$build/manifest.json" && -d "$build/public" ]] ||
  die "$build is not a Tierwall build: it needs manifest.json and public/"

build_id=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).buildId' \
  "$build/manifest.json")
[[ "$build_id" =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ ]] ||
  die "the manifest's buildId \"$build_id\" is not a plain folder name"

if [[ -d "$dist" && ! -L "$dist" ]]; then
  die "$dist is a real folder; move it aside once (mv $dist $dist.old) and run again"
fi

builds_dir="$(dirname "$dist")/.$(basename "$dist")-builds"
target="$builds_dir/$build_id"
mkdir -p "$builds_dir"
[[ -e "$target" ]] && die "build $build_id is already in $builds_dir"

# Move the build in, stamp the moment it goes live, then swap the link.
mv -- "$build" "$target"
touch -- "$target"
next_link="$dist.next-$build_id"
ln -s -- ".$(basename "$dist")-builds/$build_id" "$next_link"
mv -T -- "$next_link" "$dist"
echo "publish-build: $build_id is live at $dist"

# Prune: build IDs sort by time; a build's folder mtime is when it went live.
mapfile -t builds < <(find "$builds_dir" -mindepth 1 -maxdepth 1 -type d ! -name '.*' \
  -printf '%f\n' | sort)
now=$(date +%s)
for ((i = 0; i < ${#builds[@]} - keep; i++)); do
  name=${builds[i]}
  [[ "$name" == "$build_id" ]] && continue
  successor_live_since=$(stat -c %Y -- "$builds_dir/${builds[i + 1]}")
  ((now - successor_live_since < grace)) && continue
  rm -rf -- "${builds_dir:?}/$name"
done
