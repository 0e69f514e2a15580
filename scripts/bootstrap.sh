#!/usr/bin/env bash
# Idempotent set-up: a virtual environment at .venv with memaug and its pinned dependencies.
# Quick on a second run: it reinstalls only when requirements or package manifests change.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "memaug needs Python 3.11 or newer as '$python' (set PYTHON=... to choose another)" >&2
  exit 1
fi
if [ "$(uname -m)" != "x86_64" ]; then
  echo "memaug's pinned wheels (ROS 2 Kilted, MuJoCo, ONNX Runtime) are for x86_64 Linux" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$python" -m venv .venv
fi

stamp=.venv/.memaug-stamp
want=$(cat requirements.txt requirements-dev.txt src/*/setup.py src/*/package.xml scripts/bootstrap.sh \
  interfaces/*/CMakeLists.txt interfaces/*/package.xml interfaces/*/msg/* | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

echo "bootstrap: installing dependencies into .venv (first run takes a minute or two)"
log=.venv/bootstrap.log

# Cyclone DDS 0.10.2 (the Go2's DDS, needed by memaug_hardware) has no wheel: its Python
# package builds against Debian's cyclonedds-dev, found through a prefix folder whose
# include/, lib/ and bin/ point at Debian's multiarch paths.
if ! dpkg -s cyclonedds-dev >/dev/null 2>&1; then
  echo "bootstrap: installing Debian's cyclonedds-dev (apt)"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq cyclonedds-dev >/dev/null
fi
cdds_home="$root/.venv/cyclonedds-home"
mkdir -p "$cdds_home"
ln -sfn /usr/include "$cdds_home/include"
ln -sfn "/usr/lib/$(uname -m)-linux-gnu" "$cdds_home/lib"
ln -sfn /usr/bin "$cdds_home/bin"
export CYCLONEDDS_HOME="$cdds_home"
packages=()
for pkg in src/*/; do packages+=(-e "$pkg"); done
if ! {
  .venv/bin/python -m pip install --upgrade pip &&
  .venv/bin/python -m pip install -r requirements-dev.txt &&
  # unitree_sdk2py (BSD-3) as the working 1.0.3 build; its opencv dependency is for cameras only.
  .venv/bin/python -m pip install --no-deps unitree-sdk2py-dimos==1.0.3 &&
  .venv/bin/python -m pip install --no-deps "${packages[@]}"
} >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "bootstrap: pip failed; full log in $log" >&2
  exit 1
fi

# Message packages the ROS wheels lack (interfaces/README.md): built into .venv, whose lib/
# the ROS wheels put on the library path, only where Python cannot import them.
for interface in interfaces/*/; do
  name="$(basename "$interface")"
  if .venv/bin/python -c "import $name.msg" 2>/dev/null; then
    continue
  fi
  echo "bootstrap: building the $name messages into .venv"
  if ! command -v cmake >/dev/null || ! command -v c++ >/dev/null || ! command -v make >/dev/null; then
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq cmake g++ make >/dev/null
  fi
  if ! {
    PATH="$root/.venv/bin:$PATH" CMAKE_PREFIX_PATH="$root/.venv" AMENT_PREFIX_PATH="$root/.venv" \
      cmake -S "$interface" -B "build/interfaces/$name" -DCMAKE_INSTALL_PREFIX="$root/.venv" \
      -DPython3_EXECUTABLE="$root/.venv/bin/python" -DBUILD_TESTING=OFF &&
      cmake --build "build/interfaces/$name" -j 2 &&
      cmake --install "build/interfaces/$name" &&
      .venv/bin/python -c "import $name.msg"
  } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "bootstrap: building $name failed; full log in $log" >&2
    exit 1
  fi
done
echo "$want" > "$stamp"
echo "bootstrap: ready"
