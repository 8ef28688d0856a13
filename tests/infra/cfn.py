"""Loads a CloudFormation/SAM template (YAML with the short intrinsic tags) and evaluates
it for given parameter values: conditions, Ref, Fn::Sub, Fn::If, Fn::Join, Fn::Split,
Fn::Select, Fn::FindInMap, Fn::GetAtt. Resources are not created: a Ref to one is the
token "<Name>", a GetAtt "<Name.Attribute>". Enough to read the policies and the
notification configuration the template would deploy; used by check-aws-permissions.py
and aws-notification.py. Needs PyYAML only."""

import re

import yaml

PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "mlgate",
    "AWS::URLSuffix": "amazonaws.com",
}


class _NoValue:
    def __repr__(self):
        return "AWS::NoValue"


NOVALUE = _NoValue()


class _Loader(yaml.SafeLoader):
    pass


def _intrinsic(loader, suffix, node):
    name = suffix  # the tag without its "!"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if name == "Ref":
        return {"Ref": value}
    if name == "Condition":
        return {"Condition": value}
    if name == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Fn::" + name: value}


_Loader.add_multi_constructor("!", _intrinsic)


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)


class Stack:
    """A template evaluated with parameter values (defaults for those not given)."""

    def __init__(self, template, params=None):
        self.t = template
        self.params = {}
        for name, spec in (template.get("Parameters") or {}).items():
            value = (params or {}).get(name, spec.get("Default"))
            if value is None:
                raise ValueError(f"parameter {name} has no default: give it a value")
            if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
                value = [v.strip() for v in value.split(",")]
            self.params[name] = value if isinstance(value, list) else str(value)
        unknown = set(params or {}) - set(self.params)
        if unknown:
            raise ValueError(f"unknown parameters: {sorted(unknown)}")
        self._conditions = {}

    def condition(self, name):
        if name not in self._conditions:
            self._conditions[name] = bool(self._cond(self.t["Conditions"][name]))
        return self._conditions[name]

    def _cond(self, expr):
        if isinstance(expr, dict) and len(expr) == 1:
            (k, v), = expr.items()
            if k == "Fn::Equals":
                a, b = (self.eval(x) for x in v)
                return str(a) == str(b)
            if k == "Fn::Not":
                return not self._cond(v[0])
            if k == "Fn::And":
                return all(self._cond(x) for x in v)
            if k == "Fn::Or":
                return any(self._cond(x) for x in v)
            if k == "Condition":
                return self.condition(v)
        raise ValueError(f"not a condition: {expr!r}")

    def resources(self):
        """The resources this stack creates: (name, resource) for those whose condition holds."""
        for name, r in (self.t.get("Resources") or {}).items():
            if "Condition" not in r or self.condition(r["Condition"]):
                yield name, r

    def resource(self, name):
        r = self.t["Resources"].get(name)
        if r is None or ("Condition" in r and not self.condition(r["Condition"])):
            return None
        return r

    def _ref(self, name):
        if name in self.params:
            return self.params[name]
        if name == "AWS::NoValue":
            return NOVALUE
        if name in PSEUDO:
            return PSEUDO[name]
        if name in (self.t.get("Resources") or {}):
            return f"<{name}>"
        raise ValueError(f"Ref to unknown `{name}`")

    def _sub(self, template, variables):
        def one(m):
            inner = m.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"
            if inner in variables:
                return str(variables[inner])
            if "." in inner and inner.split(".", 1)[0] in (self.t.get("Resources") or {}):
                return f"<{inner}>"
            value = self._ref(inner)
            if isinstance(value, list):
                raise ValueError(f"Fn::Sub of the list parameter {inner}")
            return str(value)

        return re.sub(r"\$\{([^}]*)\}", one, template)

    def eval(self, v):
        """The value of `v` with every intrinsic function resolved."""
        if isinstance(v, list):
            out = [self.eval(x) for x in v]
            return [x for x in out if x is not NOVALUE]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            (k, arg), = v.items()
            if k == "Ref":
                return self._ref(arg)
            if k == "Fn::Sub":
                if isinstance(arg, str):
                    return self._sub(arg, {})
                template, variables = arg
                return self._sub(template, {n: self.eval(x) for n, x in variables.items()})
            if k == "Fn::If":
                name, yes, no = arg
                return self.eval(yes if self.condition(name) else no)
            if k == "Fn::Join":
                sep, items = arg
                items = self.eval(items)
                return sep.join(str(x) for x in items)
            if k == "Fn::Split":
                sep, text = arg
                return str(self.eval(text)).split(sep)
            if k == "Fn::Select":
                index, items = arg
                return self.eval(items)[int(self.eval(index))]
            if k == "Fn::FindInMap":
                m, a, b = (self.eval(x) for x in arg)
                return self.t["Mappings"][m][str(a)][b]
            if k == "Fn::GetAtt":
                name, attr = arg
                return f"<{name}.{attr}>"
            if k in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition"):
                return self._cond(v)
            if k.startswith("Fn::"):
                raise ValueError(f"{k} is not supported by this evaluator")
        out = {}
        for key, x in v.items():
            x = self.eval(x)
            if x is not NOVALUE:
                out[key] = x
        return out
