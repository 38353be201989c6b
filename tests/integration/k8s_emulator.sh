#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Kubernetes API emulator's suite lives beside the emulator.
exec "$(dirname "$0")/../k8s/emulator.sh" "$@"
