#!/usr/bin/env python3
"""Holds the Azure Terraform (infra/azure) to its permission list
(infra/permissions/azure.yaml).

  check-azure-permissions.py [--terraform DIR] [--permissions FILE] [--source DIR]

Fails (exit 1, one line per problem) when:
- the Rust code (src/ and functions/*/src under --source, test modules aside) makes an Azure
  SDK call that no need names under `calls`, or a need names a call no code makes any
  more, or a need says neither which calls need it nor who else acts (`source`), or a
  call's data action is not its need's;
- a role assignment is not one of the list's grants, or assigns another role (Owner or
  Contributor where the list says Storage Blob Data Reader), to another principal, at
  another scope (the storage account where the list says a container), or without the
  conditions the grant requires (deny deletes, writes only under prefixes);
- a grant of the list has no role assignment;
- a need's data action is not in its grant's role, or is denied by the grant's conditions;
- a grant's role allows an action that no need uses, that its conditions do not deny and
  that the grant does not accept with a reason;
- the function app lacks a setting the handler reads, or reaches storage with a key.
"""

import argparse
import fnmatch
import importlib.util
import json
import pathlib
import re
import sys

try:
    import yaml
except ImportError as e:  # pragma: no cover
    sys.exit(f"check-azure-permissions: PyYAML is required: {e}")

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def _load(name, file):
    spec = importlib.util.spec_from_file_location(name, HERE / file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tf = _load("check_terraform", "check-terraform.py")
# For strip_tests_and_comments: the code is read the same way for both clouds.
aws = _load("check_aws_permissions", "check-aws-permissions.py")

# Roles that must never appear, whatever the list says: they manage the resource (and its
# keys or access) rather than use its data.
PRIVILEGED = {
    "Owner",
    "Contributor",
    "User Access Administrator",
    "Role Based Access Control Administrator",
    "Storage Account Contributor",
    "Key Vault Administrator",
    "Key Vault Contributor",
    "Website Contributor",
}

# For messages only: how much a role lets its holder do, within one kind of data.
BREADTH = {
    "Storage Blob Data Reader": 1,
    "Storage Blob Data Contributor": 2,
    "Storage Blob Data Owner": 3,
    "Key Vault Secrets User": 1,
    "Key Vault Secrets Officer": 2,
    "Key Vault Administrator": 3,
}


class Problems(list):
    def add(self, where, message):
        self.append(f"{where}: {message}")


def refs(value):
    """Addresses a value refers to: 'T.N', 'data.T.N', 'var.x', 'local.x', 'each', ..."""
    out = set()
    for root, name, third, _after in tf.references(value):
        if root == "data":
            out.add(f"data.{name}.{third}")
        elif root in ("each", "count"):
            out.add(root)
        else:
            out.add(f"{root}.{name}")
    return out


def local_text(module, name, seen=None):
    """The text of a local and of every local it uses, so a condition built from locals
    can be read whole."""
    seen = set() if seen is None else seen
    if name in seen or name not in module.locals:
        return ""
    seen.add(name)
    value = module.locals[name][1]
    text = json.dumps(value)
    for address in refs(value):
        if address.startswith("local."):
            text += "\n" + local_text(module, address.split(".", 1)[1], seen)
    return text


def matches(action, pattern):
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def check(module, perms, problems):
    roles = perms.get("roles", {})
    principals = perms.get("principals", {})
    scopes = perms.get("scopes", {})
    conditions = perms.get("conditions", {})
    grants = {g["id"]: g for g in perms.get("grants", [])}
    needs = perms.get("needs", [])

    # ------------------------------------------------ the list is consistent with itself
    for gid, g in grants.items():
        where = f"azure.yaml grant {gid}"
        if g.get("role") not in roles:
            problems.add(where, f"role {g.get('role')!r} is not defined under roles")
        if g.get("role") in PRIVILEGED:
            problems.add(where, f"{g['role']} manages the resource itself: never grant it to mlgate")
        if g.get("principal") not in principals:
            problems.add(where, f"principal {g.get('principal')!r} is not defined under principals")
        if g.get("scope") not in scopes:
            problems.add(where, f"scope {g.get('scope')!r} is not defined under scopes")
        for c in g.get("conditions", []):
            if c not in conditions:
                problems.add(where, f"condition {c!r} is not defined under conditions")
        if not g.get("why"):
            problems.add(where, "says no why")

    used = {gid: set() for gid in grants}
    for i, need in enumerate(needs):
        where = f"azure.yaml need {i + 1} ({need.get('does', '?')})"
        action = need.get("data_action") or need.get("action")
        if not action:
            problems.add(where, "names no data_action")
            continue
        for gid in need.get("grants", []):
            g = grants.get(gid)
            if g is None:
                problems.add(where, f"grant {gid!r} is not in the list")
                continue
            if g.get("principal") != need.get("principal"):
                problems.add(where, f"grant {gid} is for {g.get('principal')}, the need is {need.get('principal')}'s")
            role = roles.get(g.get("role"), {})
            granted = role.get("data_actions", []) + role.get("actions", [])
            hits = [p for p in granted if matches(action, p)]
            if not hits:
                problems.add(where, f"{action} is not in {g.get('role')} (grant {gid})")
            for c in g.get("conditions", []):
                if any(matches(action, d) for d in conditions.get(c, {}).get("denies", [])):
                    problems.add(where, f"{action} is denied by grant {gid}'s condition {c}")
            used[gid].update(hits)

    for gid, g in grants.items():
        where = f"azure.yaml grant {gid}"
        role = roles.get(g.get("role"), {})
        granted = role.get("actions", []) + role.get("data_actions", [])
        denied = {d for c in g.get("conditions", []) for d in conditions.get(c, {}).get("denies", [])}
        accepted = g.get("accepted") or {}
        for action in accepted:
            if action not in granted:
                problems.add(where, f"accepts {action}, which {g.get('role')} does not grant")
            elif not accepted[action]:
                problems.add(where, f"accepts {action} without a reason")
        for action in granted:
            if action in used[gid] or action in denied or action in accepted:
                continue
            problems.add(
                where,
                f"{g.get('role')} also allows {action}, which no need uses: deny it with a condition, "
                "accept it with a reason, or pick a narrower role",
            )
        if not used[gid]:
            problems.add(where, "no need uses this grant")

    # ------------------------------------------------ the Terraform holds to the list
    by_address = {g.get("terraform"): g for g in grants.values()}
    assignments = {a: v for a, v in module.resources.items() if a.startswith("azurerm_role_assignment.")}
    scope_by_tf = {s["terraform"]: key for key, s in scopes.items()}

    for address, (path, body) in sorted(assignments.items()):
        where = tf.locate(module, path, "resource", *address.split(".", 1)) + f" {address}"
        g = by_address.get(address)
        if "role_definition_id" in body:
            problems.add(where, "names its role by role_definition_id; use role_definition_name so it can be checked")
            continue
        role = tf.unquote(body.get("role_definition_name", ""))
        if g is None:
            problems.add(where, f"assigns {role!r} but is not in infra/permissions/azure.yaml: list it with why")
            continue
        if role in PRIVILEGED:
            problems.add(where, f"assigns {role}, which manages the resource itself; the list says {g['role']}")
        elif role != g["role"]:
            broader = BREADTH.get(role, 9) > BREADTH.get(g["role"], 0)
            problems.add(
                where,
                f"assigns {role}, {'broader than' if broader else 'not'} the listed {g['role']}",
            )

        # The scope: one of the listed scopes, and the grant's.
        scope_refs = refs(body.get("scope", ""))
        found = [scope_by_tf[r] for r in scope_refs if r in scope_by_tf]
        want = scopes.get(g["scope"], {})
        if not found:
            what = ", ".join(sorted(scope_refs)) or tf.unquote(str(body.get("scope")))
            level = "account" if any(r.startswith("azurerm_storage_account.") for r in scope_refs) else "unlisted"
            problems.add(
                where,
                f"scope is {what} ({level} scope), not a listed scope; the list says {g['scope']} "
                f"({want.get('level')} scope, {want.get('terraform')})",
            )
        elif found != [g["scope"]]:
            got = scopes[found[0]]
            problems.add(
                where,
                f"scope is {found[0]} ({got.get('level')} scope), the list says {g['scope']} ({want.get('level')} scope)",
            )

        # The principal.
        principal = principals.get(g["principal"], {}).get("terraform")
        principal_refs = refs(body.get("principal_id", "")) | refs(body.get("for_each", ""))
        if principal not in principal_refs:
            problems.add(where, f"principal is {', '.join(sorted(principal_refs)) or '?'}, the list says {principal}")

        # The conditions.
        wanted = g.get("conditions", [])
        if wanted:
            if tf.unquote(str(body.get("condition_version", ""))) != "2.0":
                problems.add(where, 'needs condition_version = "2.0" for its conditions')
            condition_refs = refs(body.get("condition", ""))
            for c in wanted:
                spec = conditions[c]
                local = spec.get("terraform", "")
                if local not in condition_refs:
                    problems.add(where, f"lacks the condition {c} ({local}): {spec_summary(spec)}")
                    continue
                text = local_text(module, local.split(".", 1)[1])
                for action in spec.get("denies", []) + spec.get("limits", []):
                    if action not in text:
                        problems.add(where, f"condition {c} ({local}) does not name {action}")
                for token in spec.get("must_contain", []):
                    if token not in text:
                        problems.add(where, f"condition {c} ({local}) has no {token}")

    for g in grants.values():
        if g.get("terraform") not in assignments:
            problems.add(
                f"azure.yaml grant {g['id']}",
                f"{g.get('terraform')} is not in the Terraform: {g.get('principal')} lacks {g.get('role')} on {g.get('scope')}",
            )

    check_function_app(module, perms.get("function_app") or {}, principals, problems)


def spec_summary(spec):
    if spec.get("denies"):
        return "denies " + ", ".join(a.rsplit("/", 2)[-2] + "/" + a.rsplit("/", 1)[-1] for a in spec["denies"])
    return "limits writes to prefixes"


def check_function_app(module, app, principals, problems):
    if not app:
        return
    address = app.get("terraform", "")
    if address not in module.resources:
        problems.add("azure.yaml function_app", f"{address} is not in the Terraform")
        return
    path, body = module.resources[address]
    where = tf.locate(module, path, "resource", *address.split(".", 1)) + f" {address}"
    text = json.dumps(body)
    for name in sorted(refs(body)):
        if name.startswith("local."):
            text += "\n" + local_text(module, name.split(".", 1)[1])

    for setting in app.get("settings", {}):
        if f'\\"{setting}\\"' not in text and f"{setting} =" not in text:
            problems.add(where, f"does not set {setting} ({app['settings'][setting]})")
    forge = app.get("forge_token_settings", [])
    if forge:
        if not all(name in text for name in forge):
            problems.add(where, f"does not set the forge token as one of {', '.join(forge)}")
        if "@Microsoft.KeyVault(SecretUri=" not in text:
            problems.add(where, "the forge token is not a Key Vault reference")
    for setting, why in (app.get("forbidden_settings") or {}).items():
        if f'\\"{setting}\\"' in text or f'"{setting}"' in text:
            problems.add(where, f"sets {setting}: {why}")

    # No storage key anywhere in the configuration.
    for path_, source in module.texts.items():
        for secret in ("primary_access_key", "secondary_access_key", "primary_connection_string",
                       "secondary_connection_string", "primary_blob_connection_string"):
            if secret in source:
                problems.add(path_.name, f"reads {secret}: storage is reached by identity only")

    identity = principals.get(app.get("identity"), {}).get("terraform")
    identity_blocks = body.get("identity", [])
    identity_text = json.dumps(identity_blocks)
    if "UserAssigned" not in identity_text or identity not in refs(identity_blocks):
        problems.add(where, f"does not run as the user-assigned identity {identity}")
    props = (body.get("body") or {}).get("properties", {}) if isinstance(body.get("body"), dict) else {}
    if not props:
        problems.add(where, "has no body.properties to check")
        return
    if props.get("httpsOnly") is not True:
        problems.add(where, "httpsOnly is not true")
    if identity not in refs(props.get("keyVaultReferenceIdentity", "")):
        problems.add(where, f"keyVaultReferenceIdentity is not {identity}")
    site = props.get("siteConfig", {})
    if tf.unquote(str(site.get("minTlsVersion", ""))) != "1.2":
        problems.add(where, "siteConfig.minTlsVersion is not 1.2")
    storage = props.get("functionAppConfig", {}).get("deployment", {}).get("storage", {})
    auth = storage.get("authentication", {})
    if tf.unquote(str(auth.get("type", ""))) != "UserAssignedIdentity":
        problems.add(where, "the deployment package is not read by the user-assigned identity")
    runtime = props.get("functionAppConfig", {}).get("runtime", {})
    if tf.unquote(str(runtime.get("name", ""))) != "custom":
        problems.add(where, "functionAppConfig.runtime.name is not custom (the Rust handler is a custom handler)")

    # Basic (user name and password) publishing is off.
    basic = [
        (a, b) for a, (p, b) in module.resources.items()
        if a.startswith("azapi_resource.") and "basicPublishingCredentialsPolicies" in json.dumps(b.get("type", ""))
    ]
    kinds = set()
    for a, b in basic:
        text_b = json.dumps(b)
        if '"allow": false' not in text_b:
            problems.add(a, "basic publishing credentials are not disallowed")
        for kind in ("scm", "ftp"):
            if kind in text_b:
                kinds.add(kind)
    if kinds != {"scm", "ftp"}:
        problems.add(where, "basic publishing credentials (scm and ftp) are not both turned off")


# ---------------------------------------------------------------------------- the code

# The clients of azure_storage_blob 1.1 and their methods that send a request (the
# constructors, `url`, `with_*` and the `*_client` accessors send none).
CLIENTS = {
    "BlobClient": "download download_into upload exists abort_copy acquire_lease break_lease "
    "change_lease create_snapshot delete delete_immutability_policy get_account_info "
    "get_properties get_tags release_lease renew_lease set_immutability_policy set_legal_hold "
    "set_metadata set_properties set_tags set_tier start_copy_from_url undelete",
    "BlockBlobClient": "upload commit_block_list get_block_list stage_block stage_block_from_url "
    "upload_blob_from_url",
    "AppendBlobClient": "append_block append_block_from_url create seal",
    "PageBlobClient": "clear_pages create list_page_ranges resize set_sequence_number upload_pages "
    "upload_pages_from_url",
    "BlobContainerClient": "exists acquire_lease break_lease change_lease create delete "
    "find_blobs_by_tags get_access_policy get_account_info get_properties list_blobs release_lease "
    "renew_lease set_access_policy set_metadata",
    "BlobServiceClient": "find_blobs_by_tags get_account_info get_properties get_statistics "
    "get_user_delegation_key list_containers set_properties",
}
CLIENTS = {client: set(methods.split()) for client, methods in CLIENTS.items()}
# The client a receiver's name means: the first word of these it contains.
RECEIVERS = [
    ("container", "BlobContainerClient"),
    ("service", "BlobServiceClient"),
    ("block_blob", "BlockBlobClient"),
    ("append", "AppendBlobClient"),
    ("page", "PageBlobClient"),
    ("blob", "BlobClient"),
]
_BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/"
# The data actions that allow a call (any one of them); a call not here cannot be listed
# until it is added.
ACTIONS = {
    "BlobClient.download": {_BLOBS + "read"},
    "BlobClient.download_into": {_BLOBS + "read"},
    "BlobClient.exists": {_BLOBS + "read"},
    "BlobClient.get_properties": {_BLOBS + "read"},
    "BlobContainerClient.list_blobs": {_BLOBS + "read"},
    "BlobClient.upload": {_BLOBS + "add/action", _BLOBS + "write"},
    "BlockBlobClient.upload": {_BLOBS + "add/action", _BLOBS + "write"},
    "BlockBlobClient.stage_block": {_BLOBS + "add/action", _BLOBS + "write"},
    "BlockBlobClient.commit_block_list": {_BLOBS + "add/action", _BLOBS + "write"},
    "BlobClient.set_metadata": {_BLOBS + "write"},
    "BlobClient.set_properties": {_BLOBS + "write"},
    "BlobClient.delete": {_BLOBS + "delete"},
}
SOURCES = {"code", "functions-host", "app-service", "event-grid", "people"}
# Crates whose use is no data call (credentials, HTTP) or is found above.
KNOWN_CRATES = {"azure_core", "azure_identity", "azure_storage_blob"}
DOT_CALL = re.compile(r"\.\s*([a-z_][a-z0-9_]*)\s*(?:::\s*<[^>]*>\s*)?\(")


def receiver(text, dot):
    """The name just before the `.` at `dot`: a variable or field (`blob`, `self.container`)
    or, after a call, the method that made the receiver (`c.blob_client(key)`)."""
    i = dot - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    if i >= 0 and text[i] == ")":
        depth = 0
        while i >= 0:
            depth += {")": 1, "(": -1}.get(text[i], 0)
            i -= 1
            if depth == 0:
                break
    end = i + 1
    while i >= 0 and (text[i].isalnum() or text[i] == "_"):
        i -= 1
    return text[i + 1:end]


def code_calls(root):
    """{"Client.method": [file:line, ...]} for the Azure SDK calls of src/ and
    functions/*/src, and problems.

    Kept simple (like check-aws-permissions.py without the SDK's sources): in a file that
    names azure_storage_blob or one of its clients (comment lines and #[cfg(test)] modules
    aside), `.m(` is a call of a client when m is one of that client's request methods in
    CLIENTS, the client being told by the receiver's name only (RECEIVERS: `blob`,
    `self.container`, `c.blob_client(key)`). So keep a client in a variable named after it:
    under another name its calls are not seen. Another Azure crate (Key Vault, queues) in
    the code fails: its calls would not be seen either."""
    files = sorted(root.glob("src/**/*.rs")) + sorted(root.glob("functions/*/src/**/*.rs"))
    calls, problems = {}, []
    for path in files:
        name = path.relative_to(root).as_posix()
        text = aws.strip_tests_and_comments(path.read_text(encoding="utf-8"))
        for crate in sorted(set(re.findall(r"\b(azure_[a-z0-9_]+)::", text)) - KNOWN_CRATES):
            problems.append(f"{name} uses {crate}, whose calls this checker does not find: teach it")
        if not re.search(r"\bazure_storage_blob\b|\b[A-Z]\w*Blob\w*Client\b", text):
            continue
        for m in DOT_CALL.finditer(text):
            method = m.group(1)
            if not any(method in methods for methods in CLIENTS.values()):
                continue
            who = receiver(text, m.start())
            client = next((c for word, c in RECEIVERS if word in who.lower()), None)
            if client is None:
                continue
            line = text.count("\n", 0, m.start(1)) + 1
            where = f"{name}:{line}"
            if method not in CLIENTS[client]:
                problems.append(
                    f"{where}: `{who}.{method}()`: {client} (by the name {who!r}) has no {method}; "
                    "name the receiver after its client"
                )
                continue
            calls.setdefault(f"{client}.{method}", []).append(where)
    return calls, problems


def check_code(perms, calls, problems):
    named = {}
    for i, need in enumerate(perms.get("needs", [])):
        where = f"azure.yaml need {i + 1} ({need.get('does', '?')})"
        source = need.get("source")
        listed = need.get("calls") or []
        if source is None:
            problems.add(
                where,
                "names neither calls nor source: name the SDK calls that need it (source: code, calls: [...]) "
                f"or who else takes the action (source: {' | '.join(sorted(SOURCES - {'code'}))})"
                if not listed else "names calls but no source: say `source: code`",
            )
        elif source not in SOURCES:
            problems.add(where, f"source {source!r} is not one of {', '.join(sorted(SOURCES))}")
        elif source == "code" and not listed:
            problems.add(where, "is source: code but names no call")
        elif source != "code" and listed:
            problems.add(where, f"names calls but is source: {source}")
        action = need.get("data_action") or need.get("action")
        for call in listed:
            named.setdefault(call, []).append(i + 1)
            allowed = ACTIONS.get(call)
            if allowed is None:
                problems.add(where, f"names {call}, whose data action this checker does not know: add it to ACTIONS")
            elif action not in allowed:
                problems.add(where, f"names {call}, which needs {' or '.join(sorted(allowed))}, not {action}")
    for call, where in sorted(calls.items()):
        if call not in named:
            needs = " or ".join(sorted(ACTIONS.get(call, {"a data action this checker does not know"})))
            problems.append(
                f"code calls {call} ({', '.join(where)}), which needs {needs}: "
                "name it under `calls` of the need it serves in infra/permissions/azure.yaml"
            )
    for call, numbers in sorted(named.items()):
        if call not in calls:
            problems.add(
                f"azure.yaml need {', '.join(map(str, numbers))}",
                f"names {call}, which no code calls any more",
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terraform", default=None, help="Terraform directory (default: the list's `terraform`)")
    parser.add_argument("--permissions", default=str(ROOT / "infra/permissions/azure.yaml"))
    parser.add_argument("--source", default=str(ROOT), help="where src/ and functions/ are (default: the repository)")
    args = parser.parse_args()

    perms_path = pathlib.Path(args.permissions)
    try:
        perms = yaml.safe_load(perms_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        print(f"check-azure-permissions: {perms_path}: {e}", file=sys.stderr)
        return 1
    directory = pathlib.Path(args.terraform or ROOT / perms.get("terraform", "infra/azure"))
    module = tf.load_dir(directory)
    problems = Problems(module.errors)
    if not module.errors:
        check(module, perms, problems)
    calls, call_problems = code_calls(pathlib.Path(args.source))
    problems.extend(call_problems)
    check_code(perms, calls, problems)
    if problems:
        for p in problems:
            print(f"check-azure-permissions: {p}", file=sys.stderr)
        print(f"check-azure-permissions: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    grants = perms.get("grants", [])
    print(
        f"check-azure-permissions: {directory}: {len(grants)} grants, {len(perms.get('needs', []))} needs: "
        "every role assignment is listed, no broader than listed, with its conditions; "
        f"{len(calls)} SDK calls in the code ({', '.join(sorted(calls))}), each named by a need"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
