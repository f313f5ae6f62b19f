"""Runnable code for the official SDKs from a mapping entry's language-neutral `steps`.

Python: `klaviyo-api` 24.0.0 on PyPI; Node: `klaviyo-api` 23.0.0 on npm. Both target the
pinned revision. Method names follow the spec: Python calls `klaviyo.<Tag>.<operationId>`,
Node `new <Tag>Api(session).<camelCase operationId>`; path variables and the body are
positional, query parameters are keywords (Python: `fields[profile]` -> `fields_profile`)
or an options object (Node: `fieldsProfile`). The Node SDK (de)serialises bodies through
its models, whose attribute names are camelCase, so body keys the schema names are
camelCased while free-form maps (custom properties, template context) keep theirs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from proxy.openapi.spec import Operation, Spec

PYTHON_SDK = "24.0.0"
NODE_SDK = "23.0.0"
_INTERPOLATION = re.compile(r"\{([A-Z][A-Z0-9_]*)\}")
_WORD_BREAK = re.compile(r"[^A-Za-z0-9]+")


@dataclass(frozen=True)
class SdkCall:
    """One step, resolved against the spec."""

    step: Mapping[str, Any]
    operation: Operation
    group: str  # the spec's tag: `Profiles`, `Data Privacy`
    collection: bool  # the 2xx answer's `data` is an array

    @property
    def python_group(self) -> str:
        return self.group.replace(" ", "_")  # KlaviyoAPI.Data_Privacy

    @property
    def node_class(self) -> str:
        return self.group.replace(" ", "") + "Api"

    @property
    def node_method(self) -> str:
        return camel(self.operation.operation_id)


@dataclass(frozen=True)
class _AnswerWriter:
    """How one language writes the lines that use a call's answer."""

    each: Callable[[list[str]], list[str]]  # print these paths of every resource in `data`
    show: Callable[[list[str]], str]  # print these paths of the one resource in `data`
    say: Callable[[str], str]  # print a line of text
    keep: Callable[[str, str], str]  # assign the answer's value at a dotted path to a name


def resolve_steps(steps: list[Mapping[str, Any]], spec: Spec) -> list[SdkCall]:
    calls = []
    for step in steps:
        operation = spec.by_id(step["operation"])
        raw = spec.document["paths"][operation.path][operation.method.lower()]
        calls.append(SdkCall(step, operation, raw["tags"][0], _answers_collection(spec, operation)))
    return calls


def _answers_collection(spec: Spec, operation: Operation) -> bool:
    for status, schema in operation.responses.items():
        if status.startswith("2") and schema:
            data = spec.resolve(schema.get("properties", {}).get("data", {}))
            return data.get("type") == "array"
    return False


def python_kwarg(parameter: str) -> str:
    """`fields[campaign-message]` -> `fields_campaign_message`, as the generated SDK names it."""
    return _WORD_BREAK.sub("_", parameter).strip("_")


def camel(name: str) -> str:
    """`additional-fields[profile]` -> `additionalFieldsProfile`; `_kx` -> `kx`."""
    words = [word for word in _WORD_BREAK.split(name) if word]
    return words[0] + "".join(word[:1].upper() + word[1:] for word in words[1:]) if words else name


# --- Python -----------------------------------------------------------------------------


def python_snippet(title: str, placeholders: Mapping[str, str], calls: list[SdkCall]) -> str:
    paging = any(call.step.get("pages") for call in calls)
    lines = [f'"""{title} with klaviyo-api {PYTHON_SDK} (pip install klaviyo-api=={PYTHON_SDK})."""', "import os"]
    if paging:
        lines.append("from urllib.parse import parse_qs, urlsplit")
    lines += [
        "",
        "from klaviyo_api import KlaviyoAPI",
        "from openapi_client.api_arg_options import USE_DICTIONARY_FOR_RESPONSE_DATA",
        "",
    ]
    for name, meaning in placeholders.items():
        lines.append(f'{name} = "YOUR_{name}"  # {meaning}')
    if placeholders:
        lines.append("")
    lines += [
        "klaviyo = KlaviyoAPI(",
        '    os.environ["KLAVIYO_API_KEY"],',
        "    max_delay=60,",
        "    max_retries=3,",
        "    options={USE_DICTIONARY_FOR_RESPONSE_DATA: True},  # answers as plain JSON:API dicts",
        ")",
    ]
    if paging:
        lines += [
            "",
            "",
            "def next_cursor(page):",
            '    """The page[cursor] of `links.next`, None on the last page."""',
            '    link = (page.get("links") or {}).get("next")',
            '    return parse_qs(urlsplit(link).query)["page[cursor]"][0] if link else None',
            "",
        ]
    for call in calls:
        lines.append("")
        lines += _python_call(call)
    return "\n".join(lines) + "\n"


def _python_call(call: SdkCall) -> list[str]:
    step = call.step
    lines = [f"# {line}" for line in _wrap(step["why"])] if step.get("why") else []
    args: list[Any] = [_Raw(step["path"][variable]) for variable in _path_variables(call)]
    if "body" in step:
        args.append(_py_literal(step["body"], indent=0))
    kwargs = {python_kwarg(name): value for name, value in step.get("query", {}).items()}
    method = f"klaviyo.{call.python_group}.{call.operation.operation_id}"
    if step.get("pages"):
        kwargs["page_cursor"] = _Raw("cursor")
        lines += ["cursor = None", "while True:"]
        lines += ["    " + line for line in _py_invocation("page", method, args, kwargs)]
        lines += ['    for resource in page["data"]:']
        lines += ["        " + _py_print(step.get("show", ["id"]), "resource")]
        lines += ["    cursor = next_cursor(page)", "    if cursor is None:", "        break"]
        return lines
    return lines + _py_invocation("result", method, args, kwargs) + _answer_lines(call, _PYTHON_ANSWER)


class _Raw(str):
    """Code, not a string value."""


def _py_invocation(target: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> list[str]:
    rendered = [arg if isinstance(arg, _Code) else _py_value(arg) for arg in args]
    rendered += [f"{name}={_py_value(value)}" for name, value in kwargs.items()]
    one_line = f"{target} = {method}({', '.join(rendered)})"
    if len(one_line) <= 96 and "\n" not in one_line:
        return [one_line]
    return [f"{target} = {method}("] + [f"    {_indent(part)}," for part in rendered] + [")"]


class _Code(str):
    """A rendered literal (a body), inserted as is."""


def _py_literal(value: Any, indent: int) -> _Code:
    return _Code(_py_value(value, indent))


def _py_value(value: Any, indent: int = 0) -> str:
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, str):
        return _py_string(value)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    pad = "    " * (indent + 1)
    if isinstance(value, list):
        items = [_py_value(item, indent + 1) for item in value]
        flat = "[" + ", ".join(items) + "]"
        return flat if len(flat) <= 60 and "\n" not in flat else "[\n" + "".join(f"{pad}{item},\n" for item in items) + "    " * indent + "]"
    items = [f"{_py_string(key)}: {_py_value(item, indent + 1)}" for key, item in value.items()]
    flat = "{" + ", ".join(items) + "}"
    if len(flat) <= 60 and "\n" not in flat:
        return flat
    return "{\n" + "".join(f"{pad}{item},\n" for item in items) + "    " * indent + "}"


def _py_string(text: str) -> str:
    return _string_literal(text, _py_f_string)


def _py_f_string(text: str) -> str:
    # Literal braces doubled, then the {NAME} placeholders restored.
    escaped = text.replace("{", "{{").replace("}", "}}")
    return "f" + json.dumps(re.sub(r"\{\{([A-Z][A-Z0-9_]*)\}\}", r"{\1}", escaped), ensure_ascii=False)


def _py_path(path: str) -> str:
    return "".join(f"[{part}]" if part.isdigit() else f'["{part}"]' for part in path.split("."))


def _py_print(paths: list[str], source: str) -> str:
    return "print(" + ", ".join(f"{source}{_py_path(path)}" for path in paths) + ")"


_PYTHON_ANSWER = _AnswerWriter(
    each=lambda paths: ['for resource in result["data"]:', "    " + _py_print(paths, "resource")],
    show=lambda paths: _py_print(paths, 'result["data"]'),
    say=lambda text: f'print("{text}")',
    keep=lambda name, path: f"{name} = result{_py_path(path)}",
)


# --- Node -------------------------------------------------------------------------------


def node_snippet(title: str, placeholders: Mapping[str, str], calls: list[SdkCall], spec: Spec) -> str:
    classes = sorted({call.node_class for call in calls})
    lines = [
        f"// {title} with klaviyo-api {NODE_SDK} (npm install klaviyo-api@{NODE_SDK}).",
        f'const {{ ApiKeySession, {", ".join(classes)} }} = require("klaviyo-api");',
        "",
    ]
    for name, meaning in placeholders.items():
        lines.append(f'const {name} = "YOUR_{name}"; // {meaning}')
    if placeholders:
        lines.append("")
    lines.append("const session = new ApiKeySession(process.env.KLAVIYO_API_KEY);")
    for cls in classes:
        lines.append(f"const {_node_instance(cls)} = new {cls}(session);")
    if any(call.step.get("pages") for call in calls):
        lines += [
            "",
            "function nextCursor(body) {",
            "  // The page[cursor] of links.next; undefined on the last page.",
            "  const link = body.links && body.links.next;",
            '  return link ? new URL(link).searchParams.get("page[cursor]") : undefined;',
            "}",
        ]
    lines += ["", "async function main() {"]
    if any(not call.step.get("pages") and not _answers_nothing(call) for call in calls):
        lines.append("  let body;")
    if any(call.step.get("pages") for call in calls):
        lines.append("  let cursor;")
    for index, call in enumerate(calls):
        if index:
            lines.append("")
        lines += ["  " + line if line else "" for line in _node_call(call, spec)]
    lines += [
        "}",
        "",
        "main().catch((error) => {",
        "  console.error(error.response ? error.response.data : error);",
        "  process.exitCode = 1;",
        "});",
    ]
    return "\n".join(lines) + "\n"


def _node_instance(cls: str) -> str:
    return cls[0].lower() + cls[1:]


def _node_call(call: SdkCall, spec: Spec) -> list[str]:
    step = call.step
    lines = [f"// {line}" for line in _wrap(step["why"])] if step.get("why") else []
    args: list[Any] = [_Raw(step["path"][variable]) for variable in _path_variables(call)]
    # The Node SDK takes required query parameters (get_campaigns' filter) positionally.
    required = [p["name"] for p in call.operation.parameters_in("query") if p.get("required")]
    query = dict(step.get("query", {}))
    args += [query.pop(name) for name in required]
    if "body" in step:
        args.append(_js_value(_node_body(step["body"], call.operation.request_schema, spec)))
    options = {camel(name): value for name, value in query.items()}
    method = f"{_node_instance(call.node_class)}.{call.node_method}"
    if step.get("pages"):
        options["pageCursor"] = _Raw("cursor")
        lines += ["cursor = undefined;", "do {"]
        lines += ["  " + line for line in _js_invocation("const { body }", method, args, options)]
        lines += [f"  for (const resource of body.data) {_js_print(step.get('show', ['id']), 'resource')}"]
        lines += ["  cursor = nextCursor(body);", "} while (cursor);"]
        return lines
    target = "await" if _answers_nothing(call) else "body"
    return lines + _js_invocation(target, method, args, options) + _answer_lines(call, _NODE_ANSWER)


def _js_invocation(target: str, method: str, args: list[Any], options: dict[str, Any]) -> list[str]:
    rendered = [arg if isinstance(arg, _Code) else _js_value(arg) for arg in args]
    if options:
        rendered.append(_js_value(options))
    call = f"{method}({', '.join(rendered)})"
    if target == "await":
        text = f"await {call};"
    elif target == "body":
        text = f"({{ body }} = await {call});"
    else:
        text = f"{target} = await {call};"
    return text.split("\n")


def _node_body(value: Any, schema: dict[str, Any] | None, spec: Spec) -> Any:
    """Body keys the schema names are camelCased (model attributes); free-form maps keep theirs."""
    schema = _concrete(spec, schema or {})
    if isinstance(value, list):
        return [_node_body(item, schema.get("items"), spec) for item in value]
    if not isinstance(value, dict):
        return value
    named = schema.get("properties") or {}
    if not named:
        return value
    return {camel(key) if key in named else key: _node_body(item, named.get(key), spec) for key, item in value.items()}


def _concrete(spec: Spec, schema: dict[str, Any]) -> dict[str, Any]:
    schema = spec.resolve(schema)
    for combinator in ("allOf", "oneOf", "anyOf"):
        if combinator in schema:
            merged: dict[str, Any] = {"properties": {}}
            for part in schema[combinator]:
                part = _concrete(spec, part)
                for name, item in (part.get("properties") or {}).items():
                    known = merged["properties"].get(name)
                    merged["properties"][name] = item if known is None else {"anyOf": [known, item]}
                merged.setdefault("items", part.get("items"))
            return merged
    return schema


def _js_value(value: Any, indent: int = 0) -> _Code:
    if isinstance(value, _Code):
        return value
    if isinstance(value, _Raw):
        return _Code(value)
    if isinstance(value, str):
        return _Code(_js_string(value))
    if isinstance(value, bool):
        return _Code("true" if value else "false")
    if value is None:
        return _Code("null")
    if isinstance(value, (int, float)):
        return _Code(json.dumps(value))
    pad = "  " * (indent + 1)
    if isinstance(value, list):
        items = [_js_value(item, indent + 1) for item in value]
        flat = "[" + ", ".join(items) + "]"
        if len(flat) <= 60 and "\n" not in flat:
            return _Code(flat)
        return _Code("[\n" + "".join(f"{pad}{item},\n" for item in items) + "  " * indent + "]")
    items = [f"{_js_key(key)}: {_js_value(item, indent + 1)}" for key, item in value.items()]
    flat = "{ " + ", ".join(items) + " }"
    if len(flat) <= 60 and "\n" not in flat:
        return _Code(flat)
    return _Code("{\n" + "".join(f"{pad}{item},\n" for item in items) + "  " * indent + "}")


def _js_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", key) else json.dumps(key)


def _js_string(text: str) -> str:
    return _string_literal(text, _js_template_literal)


def _js_template_literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
    return "`" + _INTERPOLATION.sub(lambda m: "${" + m.group(1) + "}", escaped) + "`"


def _js_path(path: str) -> str:
    """Response models are camelCase too, except free-form maps such as custom properties."""
    rendered, free_form = "", False
    for part in path.split("."):
        if part.isdigit():
            rendered += f"[{part}]"
        elif free_form:
            rendered += f"[{json.dumps(part)}]"
        else:
            rendered += f".{camel(part)}"
        free_form = part in ("properties", "context")
    return rendered


def _js_print(paths: list[str], source: str) -> str:
    return "console.log(" + ", ".join(f"{source}{_js_path(path)}" for path in paths) + ");"


_NODE_ANSWER = _AnswerWriter(
    each=lambda paths: [f"for (const resource of body.data) {_js_print(paths, 'resource')}"],
    show=lambda paths: _js_print(paths, "body.data"),
    say=lambda text: f'console.log("{text}");',
    keep=lambda name, path: f"const {name} = body{_js_path(path)};",
)


# --- shared -----------------------------------------------------------------------------


def _answers_nothing(call: SdkCall) -> bool:
    return all(schema is None for status, schema in call.operation.responses.items() if status.startswith("2"))


def _string_literal(text: str, interpolated: Callable[[str], str]) -> str:
    """A string value as code: a lone {NAME} placeholder is the variable itself, text with
    none a JSON string literal, any other text the language's `interpolated` string."""
    whole = _INTERPOLATION.fullmatch(text)
    if whole:
        return whole.group(1)
    if not _INTERPOLATION.search(text):
        return json.dumps(text, ensure_ascii=False)
    return interpolated(text)


def _answer_lines(call: SdkCall, writer: _AnswerWriter) -> list[str]:
    """What a snippet does with a call's answer, in either language: print each resource of a
    collection, else the fields the step shows, else say an answer-less call was accepted,
    else print the id unless the step saves something; then keep what the step saves."""
    step = call.step
    if call.collection:
        lines = writer.each(step.get("show", ["id"]))
    elif step.get("show"):
        lines = [writer.show(step["show"])]
    elif _answers_nothing(call):
        lines = [writer.say(f"accepted: {call.operation.method} {call.operation.path}")]
    elif not step.get("save"):
        lines = [writer.show(["id"])]
    else:
        lines = []
    return lines + [writer.keep(name, path) for name, path in step.get("save", {}).items()]


def _path_variables(call: SdkCall) -> list[str]:
    return re.findall(r"\{([^}]+)\}", call.operation.path)


def _indent(text: str) -> str:
    return text.replace("\n", "\n    ")


def _wrap(text: str, width: int = 88) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + ([line] if line else [])
