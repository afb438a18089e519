#!/bin/sh
# `cdk synth` with no network and no AWS credentials, for CI (.ci/run) and for checking the stack locally:
#   scripts/cdk-synth-offline.sh [extra cdk args, e.g. -c stage=prod]
# - CLI telemetry and notices off (also set in cdk.json), so the CLI makes no DNS lookups;
# - AWS credentials and profiles cleared, so it does not call STS to fill CDK_DEFAULT_ACCOUNT;
# - CDK_HOME inside the repository (.cdk/, git-ignored) unless set: the CLI otherwise writes to ~/.cdk.
# The app bundles with the esbuild in node_modules (no Docker) and runs cdk-nag: a finding fails the synth.
set -eu
cd "$(dirname "$0")/.."
export CDK_HOME="${CDK_HOME:-$PWD/.cdk}"
export CDK_DISABLE_CLI_TELEMETRY=true
export AWS_EC2_METADATA_DISABLED=true
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
mkdir -p "$CDK_HOME"
exec npx --no-install cdk synth --quiet --no-notices "$@"
