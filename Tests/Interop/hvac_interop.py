"""Drive a running Coffer with the unmodified hvac client (PyPI).

Reads VAULT_ADDR and VAULT_TOKEN. Exits non-zero with a message on the first mismatch.
"""
import os
import sys
import warnings

import hvac
from hvac import exceptions

warnings.simplefilter("ignore", DeprecationWarning)


def check(condition, message):
    if not condition:
        print(f"FAIL: {message}", file=sys.stderr)
        sys.exit(1)


client = hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"])
kv = client.secrets.kv.v2

# Health and authentication.
check(client.sys.is_initialized(), "is_initialized")
check(not client.sys.is_sealed(), "is_sealed")
check(client.sys.read_health_status(method="GET")["initialized"], "read_health_status")
check(client.is_authenticated(), "is_authenticated with a good token")
me = client.auth.token.lookup_self()["data"]
check(me["coffer_role"] == "admin", f"lookup_self role: {me}")
bad = hvac.Client(url=os.environ["VAULT_ADDR"], token="cft_" + "A" * 43)
check(not bad.is_authenticated(), "is_authenticated with a bad token")

# Create, update with CAS, read versions.
kv.create_or_update_secret(path="interop/app", secret={"user": "svc", "password": "p1"}, cas=0)
try:
    kv.create_or_update_secret(path="interop/app", secret={"password": "stale"}, cas=0)
    check(False, "CAS mismatch must fail")
except exceptions.InvalidRequest:
    pass
kv.create_or_update_secret(path="interop/app", secret={"user": "svc", "password": "p2"}, cas=1)
latest = kv.read_secret_version(path="interop/app", raise_on_deleted_version=True)
check(latest["data"]["data"]["password"] == "p2", f"latest: {latest}")
check(latest["data"]["metadata"]["version"] == 2, "latest version number")
first = kv.read_secret_version(path="interop/app", version=1, raise_on_deleted_version=True)
check(first["data"]["data"]["password"] == "p1", "version 1")
kv.patch(path="interop/app", secret={"extra": "e"})
check(kv.read_secret_version(path="interop/app", raise_on_deleted_version=True)["data"]["data"]["extra"] == "e", "patch")

# List (LIST verb).
kv.create_or_update_secret(path="interop/other/x", secret={"k": "v"})
listed = kv.list_secrets(path="interop")["data"]["keys"]
check(listed == ["app", "other/"], f"list_secrets: {listed}")

# Delete latest, read as deleted, undelete, destroy.
kv.delete_latest_version_of_secret(path="interop/app")
try:
    kv.read_secret_version(path="interop/app", raise_on_deleted_version=True)
    check(False, "deleted latest must raise")
except exceptions.InvalidPath:
    pass
deleted = kv.read_secret_version(path="interop/app", raise_on_deleted_version=False)
check(deleted["data"]["metadata"]["deletion_time"] != "", f"deleted version metadata: {deleted}")
kv.undelete_secret_versions(path="interop/app", versions=[3])
check(kv.read_secret_version(path="interop/app", raise_on_deleted_version=True)["data"]["metadata"]["version"] == 3, "undelete")
kv.delete_secret_versions(path="interop/app", versions=[1])
kv.destroy_secret_versions(path="interop/app", versions=[1])

# Metadata.
kv.update_metadata(path="interop/app", max_versions=5, cas_required=False, custom_metadata={"team": "payments"})
meta = kv.read_secret_metadata(path="interop/app")["data"]
check(meta["max_versions"] == 5 and meta["custom_metadata"] == {"team": "payments"}, f"metadata: {meta}")
check(meta["versions"]["1"]["destroyed"] is True, "destroyed flag in metadata")
check(meta["current_version"] == 3, "current_version")
kv.delete_metadata_and_all_versions(path="interop/app")
try:
    kv.read_secret_metadata(path="interop/app")
    check(False, "metadata delete must remove the secret")
except exceptions.InvalidPath:
    pass

# Tokens.
child = client.auth.token.create(policies=["viewer"], ttl="1h")["auth"]
viewer = hvac.Client(url=os.environ["VAULT_ADDR"], token=child["client_token"])
check(viewer.is_authenticated(), "child token authenticates")
check(viewer.secrets.kv.v2.list_secrets(path="interop")["data"]["keys"] == ["other/"], "viewer can list")
try:
    viewer.secrets.kv.v2.create_or_update_secret(path="interop/denied", secret={"k": "v"})
    check(False, "viewer must not write")
except exceptions.Forbidden:
    pass
viewer.auth.token.revoke_self()
check(not viewer.is_authenticated(), "revoked token no longer authenticates")

# Transit, unchanged hvac calls.
import base64

transit = client.secrets.transit
b64 = lambda raw: base64.b64encode(raw).decode()
transit.create_key(name="interop-aes")
transit.create_key(name="interop-chacha", key_type="chacha20-poly1305")
transit.create_key(name="interop-ed", key_type="ed25519")
transit.create_key(name="interop-ec", key_type="ecdsa-p256")
# hvac checks key types against Vault's list, so the post-quantum ones go through its adapter.
client.adapter.post("/v1/transit/keys/interop-pq", json={"type": "ml-dsa-65"})
client.adapter.post("/v1/transit/keys/interop-xwing", json={"type": "x-wing"})
for name in ["interop-aes", "interop-chacha", "interop-xwing"]:
    encrypted = transit.encrypt_data(name=name, plaintext=b64(b"wire transfer 42"))["data"]["ciphertext"]
    check(encrypted.startswith("vault:v1:"), f"{name}: ciphertext prefix {encrypted[:12]}")
    plain = transit.decrypt_data(name=name, ciphertext=encrypted)["data"]["plaintext"]
    check(base64.b64decode(plain) == b"wire transfer 42", f"{name}: round trip")
first = transit.encrypt_data(name="interop-aes", plaintext=b64(b"rotate me"))["data"]["ciphertext"]
transit.rotate_key(name="interop-aes")
check(transit.read_key(name="interop-aes")["data"]["latest_version"] == 2, "rotation adds version 2")
rewrapped = transit.rewrap_data(name="interop-aes", ciphertext=first)["data"]["ciphertext"]
check(rewrapped.startswith("vault:v2:"), f"rewrap to the latest version: {rewrapped[:9]}")
check(base64.b64decode(transit.decrypt_data(name="interop-aes", ciphertext=rewrapped)["data"]["plaintext"]) == b"rotate me", "rewrapped decrypts")
batch = transit.encrypt_data(name="interop-aes", plaintext=None, batch_input=[{"plaintext": b64(b"a")}, {"plaintext": b64(b"b")}])
results = batch["data"]["batch_results"]
check(len(results) == 2 and all(r["ciphertext"].startswith("vault:v2:") for r in results), f"batch encrypt: {results}")
decrypted = transit.decrypt_data(name="interop-aes", ciphertext=None, batch_input=[{"ciphertext": r["ciphertext"]} for r in results])
check([base64.b64decode(r["plaintext"]) for r in decrypted["data"]["batch_results"]] == [b"a", b"b"], "batch decrypt")
for name in ["interop-ed", "interop-ec", "interop-pq"]:
    signature = transit.sign_data(name=name, hash_input=b64(b"approve payment"))["data"]["signature"]
    check(transit.verify_signed_data(name=name, hash_input=b64(b"approve payment"), signature=signature)["data"]["valid"] is True, f"{name}: verifies")
    check(transit.verify_signed_data(name=name, hash_input=b64(b"approve PAYMENT"), signature=signature)["data"]["valid"] is False, f"{name}: other input fails")
check(sorted(transit.list_keys()["data"]["keys"])[:2] == ["interop-aes", "interop-chacha"], "list keys")
try:
    transit.decrypt_data(name="interop-aes", ciphertext=rewrapped[:-4] + "AAA=")
    check(False, "a tampered ciphertext must not decrypt")
except exceptions.InvalidRequest:
    pass

# Mounts: a second KV v2 engine at a non-default path, listed, tuned, configured, used, disabled.
client.sys.enable_secrets_engine(backend_type="kv", path="interop-kv", options={"version": "2"}, description="interop")
mounts = client.sys.list_mounted_secrets_engines()["data"]
check(mounts["interop-kv/"]["options"]["version"] == "2" and "secret/" in mounts and "transit/" in mounts, f"mounts: {sorted(mounts)}")
check(client.sys.retrieve_mount_option("interop-kv", "version") == "2", "retrieve_mount_option")
client.sys.tune_mount_configuration(path="interop-kv", default_lease_ttl="1h", description="tuned")
check(client.sys.read_mount_configuration(path="interop-kv")["data"]["default_lease_ttl"] == 3600, "tune read back")
kv.configure(max_versions=2, cas_required=False, mount_point="interop-kv")
check(kv.read_configuration(mount_point="interop-kv")["data"]["max_versions"] == 2, "kv configure")
for value in ["1", "2", "3"]:
    kv.create_or_update_secret(path="a", secret={"v": value}, mount_point="interop-kv")
check(kv.read_secret_version(path="a", mount_point="interop-kv", raise_on_deleted_version=True)["data"]["data"]["v"] == "3", "non-default mount read")
check(sorted(kv.read_secret_metadata(path="a", mount_point="interop-kv")["data"]["versions"]) == ["2", "3"], "mount max_versions")
try:
    kv.read_secret_version(path="a", raise_on_deleted_version=True)
    check(False, "the default mount has its own data")
except exceptions.InvalidPath:
    pass
client.sys.disable_secrets_engine(path="interop-kv")
check("interop-kv/" not in client.sys.list_mounted_secrets_engines()["data"], "disabled")
# A second transit engine: its own keys, driven through hvac's mount_point.
import base64
client.sys.enable_secrets_engine(backend_type="transit", path="interop-transit")
client.secrets.transit.create_key(name="own", mount_point="interop-transit")
sealed = client.secrets.transit.encrypt_data(name="own", plaintext=base64.b64encode(b"mounted").decode(), mount_point="interop-transit")["data"]["ciphertext"]
opened = client.secrets.transit.decrypt_data(name="own", ciphertext=sealed, mount_point="interop-transit")["data"]["plaintext"]
check(base64.b64decode(opened) == b"mounted", "transit on a non-default mount")
check(client.secrets.transit.list_keys(mount_point="interop-transit")["data"]["keys"] == ["own"], "keys per transit mount")
client.sys.disable_secrets_engine(path="interop-transit")

# Token lifecycle.
tokens = client.auth.token
periodic = tokens.create(policies=["viewer"], period="30m")["auth"]
check(periodic["lease_duration"] == 1800 and periodic["renewable"] is True, f"periodic: {periodic}")
check(hvac.Client(url=os.environ["VAULT_ADDR"], token=periodic["client_token"]).auth.token.renew_self()["auth"]["lease_duration"] == 1800, "renew_self")
capped = tokens.create(policies=["viewer"], ttl="30m", explicit_max_ttl="5m")["auth"]
check(capped["lease_duration"] == 300, f"explicit_max_ttl caps ttl: {capped['lease_duration']}")
check(tokens.lookup(capped["client_token"])["data"]["explicit_max_ttl"] == 300, "lookup by token")
check(tokens.lookup_accessor(capped["accessor"])["data"]["id"] == "", "lookup_accessor hides the token")
check(tokens.renew_accessor(capped["accessor"])["auth"]["lease_duration"] <= 300, "renew_accessor within the cap")
tokens.revoke_accessor(capped["accessor"])
try:
    tokens.lookup(capped["client_token"])
    check(False, "a revoked token is gone")
except exceptions.InvalidPath:
    pass
tokens.create_or_update_role("interop-role", allowed_policies=["viewer"], orphan=True, token_period="1h")
check(tokens.read_role("interop-role")["data"]["orphan"] is True, "read_role")
check("interop-role" in tokens.list_roles()["data"]["keys"], "list_roles")
made = tokens.create(role_name="interop-role")["auth"]
check(made["orphan"] is True and made["lease_duration"] == 3600 and made["policies"] == ["viewer"], f"create against a role: {made}")
tokens.delete_role("interop-role")
orphan = tokens.create_orphan(policies=["viewer"], ttl="10m")["auth"]
check(orphan["orphan"] is True, "create_orphan")
parent = tokens.create(policies=["modifier"], ttl="1h")["auth"]
kid = hvac.Client(url=os.environ["VAULT_ADDR"], token=parent["client_token"]).auth.token.create(policies=["viewer"])["auth"]
tokens.revoke_and_orphan_children(parent["client_token"])
check(tokens.lookup_accessor(kid["accessor"])["data"]["orphan"] is True, "revoke-orphan keeps the child")
try:
    tokens.create(policies=["viewer"], id="chosen-token")
    check(False, "a chosen id must be refused, not ignored")
except exceptions.InvalidRequest:
    pass

# Response wrapping.
wrapped = tokens.create(policies=["viewer"], ttl="10m", wrap_ttl="60s")
check(wrapped["auth"] is None and wrapped["wrap_info"]["ttl"] == 60, f"wrapped create: {wrapped}")
unwrapped = client.sys.unwrap(wrapped["wrap_info"]["token"])
check(unwrapped["auth"]["client_token"].startswith("cft_"), "unwrap gives the token")
try:
    client.sys.unwrap(wrapped["wrap_info"]["token"])
    check(False, "a second unwrap must fail")
except exceptions.InvalidRequest:
    pass

# Transit extras.
random_bytes = transit.generate_random_bytes(n_bytes=16)["data"]["random_bytes"]
check(len(base64.b64decode(random_bytes)) == 16, "generate_random_bytes")
digest = transit.hash_data(hash_input=b64(b"abc"), algorithm="sha2-256", output_format="hex")["data"]["sum"]
check(digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", f"hash_data: {digest}")
transit.update_key_configuration(name="interop-aes", deletion_allowed=True)
check(transit.read_key(name="interop-aes")["data"]["deletion_allowed"] is True, "update_key_configuration")

# Seal and unseal (last: everything else needs the keys).
unseal_key = os.environ.get("COFFER_UNSEAL_KEY")
if unseal_key:
    client.sys.seal()
    check(client.sys.is_sealed(), "sealed")
    try:
        kv.read_secret_version(path="interop/other/x", raise_on_deleted_version=True)
        check(False, "a sealed server answers nothing")
    except exceptions.VaultDown:
        pass
    check(client.sys.submit_unseal_key(key=unseal_key)["sealed"] is False, "submit_unseal_key")
    check(not client.sys.is_sealed(), "unsealed")
    check(kv.read_secret_version(path="interop/other/x", raise_on_deleted_version=True)["data"]["data"] == {"k": "v"}, "data survives a seal")

print("hvac interop: all checks passed")
