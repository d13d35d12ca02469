#!/usr/bin/env bash
# Builds and runs Coffer's libFuzzer targets: each parser of untrusted input, compiled from Coffer's own
# sources with -sanitize=fuzzer,address (no package build needed), run for a bounded time from the
# committed seed corpus. New inputs found are kept in a scratch corpus, never in the committed one.
#
#   Fuzz/run.sh              every target, 20 s each
#   Fuzz/run.sh json 300     one target, 5 minutes
#
# A crash or a violated property exits non-zero and leaves the input in .build/fuzz/crash-*.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${2:-${FUZZ_SECONDS:-20}}
out=.build/fuzz
mkdir -p "$out"

core=Sources/CofferCore
declare -A sources=(
    [json]="$core/Domain/JSONParser.swift $core/Domain/JSONValue.swift $core/Domain/JSONNumber.swift $core/Domain/JSONValue+Literals.swift"
    [duration]="$core/Domain/Clock.swift"
    [scope]="$core/APIKeys/Scope.swift"
    [cidr]="$core/Network/CIDR.swift"
    [apikey]="$core/APIKeys/APIKeyFormat.swift $core/APIKeys/CRC32.swift $core/Encoding/Base62.swift $core/Encoding/Base64.swift $core/Domain/Tenant.swift Fuzz/Support/SecureRandomShim.swift"
    [listframing]="Sources/CofferServer/Channel/ListFraming.swift"
    [gatewayschema]="$core/Gateway/ParameterSchema.swift $core/Gateway/StrictObject.swift $core/Domain/JSONParser.swift $core/Domain/JSONValue.swift $core/Domain/JSONNumber.swift $core/Domain/JSONValue+Literals.swift $core/Errors/CofferError.swift Fuzz/Support/RateLimitStatusShim.swift"
    [structuredfields]="$core/Gateway/StructuredFields.swift $core/Encoding/Base64.swift"
    [asseturltoken]="$core/Gateway/AssetURLToken.swift $core/Encoding/Base64.swift"
    [tokenrole]="$core/Tokens/TokenRole.swift $core/Tokens/TokenSpec.swift $core/Identity/AuthMethod.swift $core/Mounts/Mount.swift $core/Domain/Role.swift $core/APIKeys/Scope.swift $core/Network/CIDR.swift $core/Domain/JSONParser.swift $core/Domain/JSONValue.swift $core/Domain/JSONNumber.swift $core/Domain/JSONValue+Literals.swift $core/Errors/CofferError.swift Fuzz/Support/RateLimitStatusShim.swift Fuzz/Support/TokenRoleShim.swift"
    [jwtclaims]="$core/Identity/JWTRole.swift $core/Identity/Glob.swift $core/Identity/LoginTokenSettings.swift $core/Identity/UserpassUser.swift $core/Identity/Lockout.swift $core/Identity/PasswordHash.swift $core/Identity/AuthMethod.swift $core/Tokens/TokenSpec.swift $core/Domain/Role.swift $core/APIKeys/Scope.swift $core/Network/CIDR.swift $core/Domain/JSONParser.swift $core/Domain/JSONValue.swift $core/Domain/JSONNumber.swift $core/Domain/JSONValue+Literals.swift $core/Errors/CofferError.swift Fuzz/Support/RateLimitStatusShim.swift Fuzz/Support/TokenRoleShim.swift Fuzz/Support/IdentityShim.swift"
    [leakscan]="$core/Scanning/LeakScanner.swift $core/Scanning/GitLogScanner.swift $core/APIKeys/APIKeyFormat.swift $core/APIKeys/CRC32.swift $core/Encoding/Base62.swift $core/Domain/Tenant.swift Fuzz/Support/SecureRandomShim.swift"
    [alertsettings]="$core/Alerts/AlertSettings.swift $core/Alerts/AlertRule.swift $core/Domain/Tenant.swift $core/Domain/JSONParser.swift $core/Domain/JSONValue.swift $core/Domain/JSONNumber.swift $core/Domain/JSONValue+Literals.swift $core/Errors/CofferError.swift Fuzz/Support/RateLimitStatusShim.swift"
    [cron]="$core/Keyring/CronSchedule.swift $core/Errors/CofferError.swift Fuzz/Support/RateLimitStatusShim.swift"
    [gatewaypath]="$core/Gateway/RouteTemplate.swift $core/Gateway/GatewayQuery.swift $core/Gateway/GatewayHeaders.swift $core/Errors/CofferError.swift Fuzz/Support/RateLimitStatusShim.swift"
)
targets=("${1:-all}")
[ "${targets[0]}" = all ] && targets=(json duration scope cidr apikey listframing gatewaypath gatewayschema structuredfields asseturltoken tokenrole jwtclaims leakscan alertsettings cron)

for target in "${targets[@]}"; do
    [ -n "${sources[$target]:-}" ] || { echo "fuzz: unknown target $target" >&2; exit 2; }
    # shellcheck disable=SC2086
    swiftc -swift-version 6 -parse-as-library -sanitize=fuzzer,address -O -g -module-name "Fuzz_$target" \
        ${sources[$target]} Fuzz/Support/FuzzInput.swift "Fuzz/Targets/$target.swift" -o "$out/$target" 2> "$out/$target.build.log" \
        || { cat "$out/$target.build.log" >&2; exit 1; }
    scratch="$out/corpus-$target"
    mkdir -p "$scratch"
    echo "fuzz: $target for ${seconds}s"
    "$out/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -artifact_prefix="$out/crash-$target-" -print_final_stats=1 "$scratch" "Fuzz/Corpus/$target" > "$out/$target.log" 2>&1 \
        || { tail -40 "$out/$target.log" >&2; echo "fuzz: $target FAILED (input in $out/crash-$target-*)" >&2; exit 1; }
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$out/$target.log" | tr '\n' ' '
    echo
done
echo "fuzz: all targets passed"
