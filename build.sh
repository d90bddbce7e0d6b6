#!/usr/bin/env bash
# OpsRobot's build and test entry point.
#
#   ./build.sh test     install what the tests need (Debian packages), build, run every test, print totals
#   ./build.sh build    build the solution
#   ./build.sh format   check formatting and analyzers the way CI would (dotnet format --verify-no-changes)
#
# The test run ends with one line, "N passed, N failed, N skipped", so CI and people can see what ran.
set -euo pipefail

here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
cd "$here"
results="$here/artifacts/test-results"

log() { printf '==> %s\n' "$*" >&2; }

# The Debian packages the tests' real servers need, as "command package": each is installed when its command is
# missing. As root (CI) they are installed together; otherwise the one command to run is printed.
test_packages=(
  "/usr/bin/chromium chromium"
  "/usr/sbin/ngircd ngircd"
  "/usr/bin/prometheus-alertmanager prometheus-alertmanager"
  "/usr/sbin/sshd openssh-server"
  "/usr/bin/ssh openssh-client"
  "/usr/bin/ansible-playbook ansible"
  "/usr/sbin/nagios4 nagios4-core"
  "/usr/lib/nagios/plugins/check_dummy monitoring-plugins-basic"
  "/usr/bin/curl curl"
  "/usr/bin/mount mount" # the disk-full fault test mounts a small tmpfs (as root)
)

install_test_dependencies() {
  local missing=() entry command package
  for entry in "${test_packages[@]}"; do
    read -r command package <<<"$entry"
    if ! command -v "$command" >/dev/null 2>&1 && [ ! -x "$command" ]; then
      missing+=("$package")
    fi
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" != "0" ]; then
    echo "build.sh: the tests need Debian packages that are missing; install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  log "apt-get update"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

build() {
  log "dotnet build"
  dotnet build OpsRobot.slnx -c Debug --nologo -v quiet -clp:ErrorsOnly
}

# Sums the counters of every TRX file: the one line CI reads.
print_totals() {
  local passed=0 failed=0 total=0 executed=0 files=0
  # Only this run's files: a test host killed in an earlier run can still leave one behind.
  for trx in $(find "$results" -name '*.trx' -newer "$results/.started" 2>/dev/null); do
    files=$((files + 1))
    local counters
    counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
    attr() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
    passed=$((passed + $(attr passed)))
    failed=$((failed + $(attr failed) + $(attr error) + $(attr timeout) + $(attr aborted)))
    total=$((total + $(attr total)))
    executed=$((executed + $(attr executed)))
  done
  if [ "$files" -eq 0 ]; then
    echo "build.sh: no test results were written; the test run did not start." >&2
    echo "0 passed, 1 failed"
    return
  fi
  echo "$passed passed, $failed failed, $((total - executed)) skipped"
}

run_tests() {
  install_test_dependencies
  build
  rm -rf "$results"
  mkdir -p "$results"
  touch "$results/.started"
  log "dotnet test"
  local status=0
  dotnet test OpsRobot.slnx --no-build -c Debug --nologo \
    --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" || status=$?
  local totals
  totals="$(print_totals)"
  echo "$totals"
  # A run that counted failures fails, whatever dotnet test's own exit code said.
  case "$totals" in
    *" 0 failed"*) ;;
    *) [ "$status" -ne 0 ] || status=1 ;;
  esac
  return "$status"
}

case "${1:-test}" in
  test) run_tests ;;
  build) build ;;
  format)
    dotnet format OpsRobot.slnx --verify-no-changes
    ;;
  *)
    echo "usage: ./build.sh [test|build|format]" >&2
    exit 2
    ;;
esac
