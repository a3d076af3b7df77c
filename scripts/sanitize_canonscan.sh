#!/usr/bin/env bash
# The sanitizer job of the canonical XML walk (issue 28): the only compiled code of EIKIS reads bytes a provider
# wrote, so CI builds it with AddressSanitizer and UndefinedBehaviorSanitizer and runs, against that build,
#   1. the canonical-walk unit tests (test_xml_hostile, test_xml_canon, test_vsaa_canon; not the staging
#      comparisons, which test the stages around the walk), whose guard-page tests place bodies right before a
#      no-access page (ASan cannot see a read past a mapped file);
#   2. a fixed-seed mutation run (tests/sanitize/test_canon_mutations.py) of EIKIS_FUZZ_SECONDS (default 120):
#      mutated VID, PMLP, SOPA and VSAA extracts, libxml2 + the project's XSD the oracle for every accepted file.
# PYTHONMALLOC=malloc so ASan sees Python's small allocations too; libasan is preloaded (python is not built with
# it). Any sanitizer report, fault or failed test fails the job.
#
#   scripts/sanitize_canonscan.sh               the job
#   scripts/sanitize_canonscan.sh --self-check  proves the job catches a read past the body: builds the walk with
#                                               -DEIKIS_PLANT_OOB and fails unless every check above fails on it
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
asan=$(gcc -print-file-name=libasan.so)
if [ ! -e "$asan" ]; then
  echo "sanitize: gcc has no AddressSanitizer runtime ($asan); install libasan8" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
include=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
suffix=$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
build="$work/_canonscan$suffix"

compile() {
  gcc -shared -fPIC -g -O1 -std=c11 -Wall -Wextra -Werror -Werror=vla -fsanitize=address,undefined \
    -fno-sanitize-recover=all -fno-omit-frame-pointer -I"$include" "$@" pipeline/sources/_canonscan.c -o "$build"
}

sanitized() {  # pytest "$@" against the sanitized build; ASan's own handlers and reports reach stderr
  env PYTHONMALLOC=malloc LD_PRELOAD="$asan" ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=0 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 EIKIS_SANITIZED_CANONSCAN="$build" \
    "$PY" -m pytest -q -x -p no:cacheprovider -p no:faulthandler --capture=sys -p tests.sanitize.plugin "$@"
}

UNIT=(tests/unit/test_xml_hostile.py tests/unit/test_xml_canon.py tests/unit/test_vsaa_canon.py)
FUZZ=tests/sanitize/test_canon_mutations.py

if [ "${1:-}" = "--self-check" ]; then
  compile -DEIKIS_PLANT_OOB
  # each check must fail on the planted read, and say why: a fault at the guard page, ASan on the heap
  declare -A expect=(
    ["sub_range"]="AddressSanitizer: SEGV"
    ["allocation_of_its_own_size"]="AddressSanitizer: heap-buffer-overflow"
  )
  for test in "${!expect[@]}"; do
    if sanitized tests/unit/test_xml_hostile.py -k "$test" >"$work/out" 2>&1; then
      echo "sanitize --self-check: the planted out-of-bounds read passed '$test'" >&2
      exit 1
    fi
    grep -q "${expect[$test]}" "$work/out" || {
      tail -20 "$work/out" >&2
      echo "sanitize --self-check: '$test' failed, but not with '${expect[$test]}'" >&2
      exit 1
    }
  done
  if EIKIS_FUZZ_SECONDS=10 sanitized "$FUZZ" >"$work/out" 2>&1 || ! grep -q "AddressSanitizer: SEGV" "$work/out"; then
    tail -20 "$work/out" >&2
    echo "sanitize --self-check: the mutation run did not fault on the planted read" >&2
    exit 1
  fi
  echo "sanitize --self-check: the planted out-of-bounds read is caught (guard page, heap, mutation run)"
  exit 0
fi

compile
sanitized "${UNIT[@]}" -k "not staging"
EIKIS_FUZZ_SECONDS=${EIKIS_FUZZ_SECONDS:-120} sanitized -rP "$FUZZ"
echo "sanitize: the canonical walk held under ASan + UBSan"
