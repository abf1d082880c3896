#!/usr/bin/env bash
# System packages the test suite needs (Debian/Ubuntu): PortAudio for sounddevice, ffmpeg/ffprobe,
# Xvfb + xwd + ImageMagick for the real-window screenshot test, PulseAudio for the line-in path,
# fonts for Qt's window, libXinerama for --screen's monitor lookup (tests/test_screens.py).
# (The beat benchmark, not the tests, also needs fluidsynth and a General MIDI soundfont:
# apt-get install fluidsynth fluid-soundfont-gm.)
set -euo pipefail
packages=(libportaudio2 libsndfile1 ffmpeg xvfb x11-apps imagemagick fonts-dejavu-core
          pulseaudio pulseaudio-utils libasound2-plugins libx11-6 libxinerama1)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
