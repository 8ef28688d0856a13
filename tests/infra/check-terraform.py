#!/usr/bin/env python3
"""Checks a Terraform directory without Terraform: every file parses (python-hcl2), and
every reference resolves.

  check-terraform.py DIR [--tfvars FILE]

- every `.tf` file parses; a failure names the file and the parser's message;
- `var.X` is a declared variable, `local.X` a declared local, `data.T.N` a declared data
  source, `T.N` (T a resource type) a declared resource, `module.X` a declared module;
- a resource or data source with `count`/`for_each` is indexed before an attribute is
  read (`T.N[0].id`, not `T.N.id`), and one without is never indexed;
- every variable, local and data source is used somewhere; every output has a value;
- no name is declared twice; every resource type belongs to a provider listed in
  `required_providers`;
- the tfvars example (default `terraform.tfvars.example` if present) parses, sets only
  declared variables, and sets every variable that has no default.

Exit 0 when all holds, 1 with one line per problem otherwise. The same loader is used by
check-azure-permissions.py.
"""

import argparse
import pathlib
import re
import sys

try:
    import hcl2
    from hcl2.utils import SerializationOptions
except ImportError as e:  # pragma: no cover - a missing tool is a loud failure
    sys.exit(f"check-terraform: python-hcl2 (8.x) is required: {e}")

OPTIONS = SerializationOptions(with_comments=False, preserve_heredocs=False)

# Roots of references that are not declarations of this module.
BUILTIN_ROOTS = {"var", "local", "data", "module", "each", "count", "path", "terraform", "self"}


def unquote(value):
    """A quoted HCL string as python-hcl2 8 gives it ('"abc"') without its quotes."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1]
    return value


def parse_file(path):
    """The parsed file, or raises ValueError naming the file."""
    try:
        return hcl2.loads(path.read_text(encoding="utf-8"), serialization_options=OPTIONS)
    except Exception as e:  # python-hcl2 raises lark errors of several kinds
        message = " ".join(str(e).split())
        raise ValueError(f"{path}: does not parse as HCL: {message[:400]}") from None


class Module:
    """The declarations of one Terraform directory, with where each is."""

    def __init__(self):
        self.files = {}  # path -> parsed dict
        self.texts = {}  # path -> source text, to tell lines
        self.variables = {}  # name -> (path, body)
        self.locals = {}  # name -> (path, line, expression)
        self.resources = {}  # "type.name" -> (path, body)
        self.data = {}  # "type.name" -> (path, body)
        self.outputs = {}  # name -> (path, body)
        self.modules = {}  # name -> (path, body)
        self.providers = set()  # required_providers keys
        self.errors = []

    def error(self, where, message):
        self.errors.append(f"{where}: {message}")


def locate(module, path, kind, *labels):
    """`file:line` of a declaration (python-hcl2 gives no positions)."""
    text = module.texts.get(path, "")
    if kind == "locals":
        pattern = rf"^\s*{re.escape(labels[0])}\s*="
    else:
        pattern = r"^\s*" + re.escape(kind) + "".join(rf'\s+"{re.escape(label)}"' for label in labels) + r"\s*\{"
    m = re.search(pattern, text, re.M)
    line = text.count("\n", 0, m.start()) + 1 if m else "?"
    return f"{path.name}:{line}"


def load_dir(directory):
    """Parses every .tf file of `directory` into a Module (parse errors in .errors)."""
    module = Module()
    paths = sorted(pathlib.Path(directory).glob("*.tf"))
    if not paths:
        module.error(directory, "no .tf files")
    for path in paths:
        try:
            parsed = parse_file(path)
        except ValueError as e:
            module.errors.append(str(e))
            continue
        module.files[path] = parsed
        module.texts[path] = path.read_text(encoding="utf-8")
        for block in parsed.get("variable", []):
            for name, body in block.items():
                declare(module, module.variables, unquote(name), (path, body), path, "variable")
        for block in parsed.get("locals", []):
            for name, value in block.items():
                if name.startswith("__"):
                    continue
                declare(module, module.locals, name, (path, value), path, "local")
        for kind, table in (("resource", module.resources), ("data", module.data)):
            for block in parsed.get(kind, []):
                for rtype, named in block.items():
                    for name, body in named.items():
                        if name.startswith("__"):
                            continue
                        address = f"{unquote(rtype)}.{unquote(name)}"
                        declare(module, table, address, (path, body), path, kind)
        for block in parsed.get("output", []):
            for name, body in block.items():
                declare(module, module.outputs, unquote(name), (path, body), path, "output")
        for block in parsed.get("module", []):
            for name, body in block.items():
                declare(module, module.modules, unquote(name), (path, body), path, "module")
        for block in parsed.get("terraform", []):
            for required in block.get("required_providers", []):
                module.providers.update(k for k in required if not k.startswith("__"))
    return module


def declare(module, table, name, entry, path, kind):
    if name in table:
        first = table[name][0]
        module.error(path.name, f"{kind} {name} is declared twice (also in {first.name})")
    else:
        table[name] = entry


# ---------------------------------------------------------------- expressions


def expressions_in(text):
    """The expressions inside a python-hcl2 value string: the interpolations of a template,
    or the whole `${...}` of a bare expression."""
    out = []
    i = 0
    while True:
        i = text.find("${", i)
        if i < 0:
            return out
        if i > 0 and text[i - 1] == "$":  # `$${` is a literal `${`
            i += 2
            continue
        end = matching_brace(text, i + 1)
        out.append(text[i + 2 : end])
        i = end + 1


def matching_brace(text, open_at):
    """Index of the `}` closing the `{` at open_at, skipping string literals."""
    depth = 0
    i = open_at
    while i < len(text):
        c = text[i]
        if c == '"':
            i = end_of_string(text, i)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(text)


def end_of_string(text, quote_at):
    """Index just past the string literal starting at quote_at (its interpolations
    may hold strings of their own)."""
    i = quote_at + 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "$" and text.startswith("${", i):
            i = matching_brace(text, i + 1) + 1
            continue
        if c == '"':
            return i + 1
        i += 1
    return len(text)


def code_of(expression):
    """The expression with string literals emptied, and the expressions found inside them
    (their interpolations), so references are only looked for in code."""
    code = []
    nested = []
    i = 0
    while i < len(expression):
        c = expression[i]
        if c == '"':
            end = end_of_string(expression, i)
            nested.extend(expressions_in(expression[i:end]))
            code.append('""')
            i = end
            continue
        code.append(c)
        i += 1
    return "".join(code), nested


REFERENCE = re.compile(r"(?<![\w.\-])([A-Za-z_][\w\-]*)\.([A-Za-z_][\w\-]*|\*)(?:\.([A-Za-z_][\w\-]*))?")
FOR_VARS = re.compile(r"\bfor\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\b")


class Reference:
    def __init__(self, root, name, third, after):
        self.root, self.name, self.third, self.after = root, name, third, after

    def address(self):
        if self.root == "data":
            return f"{self.third}"
        return f"{self.root}.{self.name}"


def references_in_expression(expression, bound=()):
    """(root, name, third, next_char) for every reference in one expression."""
    code, nested = code_of(expression)
    bound = set(bound) | {v for pair in FOR_VARS.findall(code) for v in pair if v}
    found = []
    for m in REFERENCE.finditer(code):
        root = m.group(1)
        if root in bound:
            continue
        if root == "data":
            # data.T.N: the match holds data.T[.N]; what follows N decides indexing.
            end = m.end()
        else:
            end = m.end(2)
        after = code[end : end + 1]
        found.append((root, m.group(2), m.group(3), after))
    for inner in nested:
        found.extend(references_in_expression(inner, bound))
    return found


def references(value, bound=()):
    """Every reference in a parsed value (strings, lists, dicts, keys too)."""
    found = []
    if isinstance(value, str):
        for expression in expressions_in(value):
            found.extend(references_in_expression(expression, bound))
    elif isinstance(value, list):
        for item in value:
            found.extend(references(item, bound))
    elif isinstance(value, dict):
        # A dynamic block's iterator is its label (or `iterator`).
        inner_bound = set(bound)
        for key, item in value.items():
            if key.startswith("__"):
                continue
            if key == "dynamic" and isinstance(item, list):
                for block in item:
                    for label, body in block.items():
                        names = {unquote(label)}
                        if isinstance(body, dict) and "iterator" in body:
                            names.add(body["iterator"].strip("${}"))
                        found.extend(references(body, inner_bound | names))
                continue
            found.extend(references(key, inner_bound))
            found.extend(references(item, inner_bound))
    return found


def is_resource_type(root):
    return "_" in root and root not in BUILTIN_ROOTS


# ---------------------------------------------------------------- the checks


def check_references(module):
    used_vars, used_locals, used_data = set(), set(), set()

    def check(where, value, own_variable=None):
        for root, name, third, after in references(value):
            if root == "var":
                if name not in module.variables:
                    module.error(where, f"var.{name} is not declared")
                elif name != own_variable:
                    used_vars.add(name)
            elif root == "local":
                if name not in module.locals:
                    module.error(where, f"local.{name} is not declared")
                used_locals.add(name)
            elif root == "module":
                if name not in module.modules:
                    module.error(where, f"module.{name} is not declared")
            elif root == "data":
                if third is None:
                    module.error(where, f"data.{name} names no data source (data.TYPE.NAME)")
                    continue
                address = f"{name}.{third}"
                if address not in module.data:
                    module.error(where, f"data.{address} is not declared")
                    continue
                used_data.add(address)
                check_indexing(module, where, f"data.{address}", module.data[address][1], after)
            elif is_resource_type(root):
                address = f"{root}.{name}"
                if address not in module.resources:
                    module.error(where, f"{address} is not a declared resource")
                    continue
                check_indexing(module, where, address, module.resources[address][1], after)

    for name, (path, body) in module.variables.items():
        check(f"{locate(module, path, 'variable', name)} variable {name}", body, own_variable=name)
    for name, (path, value) in module.locals.items():
        check(f"{locate(module, path, 'locals', name)} local.{name}", value)
    for address, (path, body) in module.resources.items():
        check(f"{locate(module, path, 'resource', *address.split('.', 1))} {address}", body)
    for address, (path, body) in module.data.items():
        check(f"{locate(module, path, 'data', *address.split('.', 1))} data.{address}", body)
    for name, (path, body) in module.outputs.items():
        check(f"{locate(module, path, 'output', name)} output {name}", body)
    for name, (path, body) in module.modules.items():
        check(f"{locate(module, path, 'module', name)} module {name}", body)
    for path, parsed in module.files.items():
        for kind in ("provider", "terraform", "moved", "import", "check"):
            for block in parsed.get(kind, []):
                check(f"{path.name} {kind}", block)

    for name, (path, body) in module.variables.items():
        if name not in used_vars:
            module.error(locate(module, path, "variable", name), f"variable {name} is declared but never used")
    for name, (path, _) in module.locals.items():
        if name not in used_locals:
            module.error(locate(module, path, "locals", name), f"local.{name} is declared but never used")
    for address, (path, body) in module.data.items():
        if address not in used_data:
            module.error(locate(module, path, "data", *address.split(".", 1)), f"data.{address} is declared but never used")
    for name, (path, body) in module.outputs.items():
        if "value" not in body:
            module.error(locate(module, path, "output", name), f"output {name} has no value")
    for address, (path, body) in module.resources.items():
        provider = address.split("_", 1)[0]
        if module.providers and provider not in module.providers:
            module.error(locate(module, path, "resource", *address.split(".", 1)), f"provider {provider} is not in required_providers")


def check_indexing(module, where, address, body, after):
    multiple = "count" in body or "for_each" in body
    if multiple and after == ".":
        module.error(where, f"{address} has count/for_each: index it before reading an attribute")
    if not multiple and after == "[":
        module.error(where, f"{address} has no count/for_each: it cannot be indexed")


def check_tfvars(module, path):
    try:
        parsed = parse_file(path)
    except ValueError as e:
        module.errors.append(str(e))
        return
    names = {k for k in parsed if not k.startswith("__")}
    for name in sorted(names - set(module.variables)):
        module.error(path.name, f"sets {name}, which is not a declared variable")
    for name, (vpath, body) in module.variables.items():
        if "default" not in body and name not in names:
            module.error(path.name, f"does not set {name}, which has no default")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--tfvars", help="a tfvars example to check (default: terraform.tfvars.example)")
    args = parser.parse_args()
    directory = pathlib.Path(args.directory)
    module = load_dir(directory)
    if not module.errors:
        check_references(module)
        tfvars = pathlib.Path(args.tfvars) if args.tfvars else directory / "terraform.tfvars.example"
        if args.tfvars or tfvars.exists():
            check_tfvars(module, tfvars)
    if module.errors:
        for e in module.errors:
            print(f"check-terraform: {e}", file=sys.stderr)
        print(f"check-terraform: {directory}: {len(module.errors)} problem(s)", file=sys.stderr)
        return 1
    print(
        f"check-terraform: {directory}: {len(module.files)} files, {len(module.resources)} resources, "
        f"{len(module.data)} data sources, {len(module.variables)} variables, {len(module.locals)} locals, "
        f"{len(module.outputs)} outputs: every reference resolves"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
