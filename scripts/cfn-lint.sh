#!/bin/sh
# AWS's CloudFormation linter over the synthesised template (run `scripts/cdk-synth-offline.sh` first):
#   scripts/cfn-lint.sh
# Settings and the accepted, CDK-caused warnings (with their reasons) are in .cfnlintrc.yaml, the one place
# they are listed. Exit 0 = clean; anything else = an error or an unaccepted warning (cfn-lint's exit code:
# 2 error, 4 warning, 8 informational, OR-ed together).
set -eu
cd "$(dirname "$0")/.."
if ! command -v cfn-lint >/dev/null 2>&1; then
  echo "cfn-lint is not installed: pip install cfn-lint (the build machines have it)" >&2
  exit 127
fi
ls cdk.out/*.template.json >/dev/null 2>&1 || { echo "no cdk.out/*.template.json: run scripts/cdk-synth-offline.sh first" >&2; exit 1; }
cfn-lint --version
exec cfn-lint --config-file .cfnlintrc.yaml
