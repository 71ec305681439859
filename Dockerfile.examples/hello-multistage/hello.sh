#!/bin/sh
# Runs at build time in the "build" stage; its output is all the final image carries.
echo "hello from a dbuild multi-stage build"
echo "built on $(uname -m) by $(id -un) in $(pwd)"
