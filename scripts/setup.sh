#!/usr/bin/env bash
# Set up nnscratch on a Debian/Ubuntu machine: system packages (when we may install them),
# a virtual environment in .venv, and the package itself in editable mode.
#
#   bash scripts/setup.sh            # runtime only
#   bash scripts/setup.sh test       # + pytest, hypothesis, torch (the reference)
#   bash scripts/setup.sh test,docs  # several extras, comma-separated
#
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${1:-}"
python="${PYTHON:-python3}"
venv="${VENV:-.venv}"

missing=()
[ -d /usr/share/datasets/fashion-mnist ] || missing+=(dataset-fashion-mnist)
# The docs tests take a screenshot of the built site with headless Chromium (tests/docs/test_browser.py).
case ",$extras," in
    *,test,* | *,docs,*) command -v chromium >/dev/null 2>&1 || missing+=(chromium) ;;
esac
if [ ! -x "$venv/bin/python" ] && ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
    missing+=(python3-venv)
fi

if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "setup: apt-get install -y ${missing[*]}"
        # A fresh machine may have empty package lists: update once and retry.
        DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" \
            || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"; } \
            || echo "setup: apt-get failed; nnscratch will use its bundled Fashion-MNIST sample (and skip the screenshot test)"
    else
        echo "setup: please run:  sudo apt-get install -y ${missing[*]}"
        echo "setup: (without dataset-fashion-mnist, nnscratch uses its bundled sample; without chromium, the screenshot test is skipped)"
    fi
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "setup: creating virtual environment $venv"
    "$python" -m venv "$venv"
fi

target="."
[ -n "$extras" ] && target=".[$extras]"
echo "setup: pip install -e '$target'"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$target"
