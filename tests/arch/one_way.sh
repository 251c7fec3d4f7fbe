#!/usr/bin/env bash
# The modules' one-way rule, checked from the sources: a file of module M may include only
# "nettrain/<N>/..." headers of M itself and of the modules below it. The build enforces the same
# (a module's target does not see a higher module's include folder); this test names the file.
#   core -> layers, data, io -> train -> run -> report, export -> app;  core -> dist -> app
# Usage: one_way.sh NETTRAIN_BINARY SOURCE_DIR (the binary is unused; every cli test gets it).
set -euo pipefail
root=$2
declare -A allowed=(
  [core]="core"
  [layers]="core layers"
  [data]="core data"
  [io]="core io"
  [dist]="core dist"
  [train]="core layers data io train"
  [run]="core layers data io train run"
  [export]="core layers data io train run export"
  [report]="core layers data io train run report"
)
bad=0
for module in "${!allowed[@]}"; do
  while IFS=: read -r file line text; do
    used=$(sed -E 's|.*"nettrain/([a-z_]+)/.*|\1|' <<<"$text")
    if [[ " ${allowed[$module]} " != *" $used "* ]]; then
      echo "$file:$line: module '$module' includes a header of '$used' ($text); allowed: ${allowed[$module]}" >&2
      bad=1
    fi
  done < <(grep -rn --include='*.h' --include='*.cpp' -E '#include "nettrain/[a-z_]+/' "$root/lib/$module" || true)
done
# A header outside the module folders would slip past the build's check.
stray=$(find "$root/lib" -name '*.h' -not -path "$root/lib/*/include/nettrain/*/*" -not -path "$root/lib/*/src/*")
if [[ -n $stray ]]; then
  echo "headers outside lib/<module>/include/nettrain/<module>/ or lib/<module>/src/: $stray" >&2
  bad=1
fi
[[ $bad == 0 ]] && echo "one_way: every include runs down (${#allowed[@]} modules)"
exit $bad
