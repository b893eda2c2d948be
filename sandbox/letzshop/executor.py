"""A fast executor for validated GraphQL queries over plain dicts.

Why it exists: graphql-core builds a resolve-info object and dispatches on the type
for every field of every object; a page of 250 shipments with the fields real
integrations ask for is ~25,000 fields, too slow for the throughput the importer
must be benchmarked at. This executor walks the same selection sets (graphql-core's
own ``collect_fields``, so aliases, fragment spreads, inline fragments with type
conditions, ``@skip``/``@include`` and ``__typename`` behave identically), but turns
each (object type, selection) pair once into a small generated Python function that
reads the dict keys the selection names, checks each value's type inline, and builds
the result dict; compiled plans are kept per query text between requests.

It is honest by construction: whenever a value falls outside what it serialises
exactly like graphql-core (a null in a non-null position, an unusual scalar, a custom
resolver below the root, introspection, a resolver error, a variable error, ...), it
abandons the request and graphql-core executes it instead, so errors, paths and null
propagation always come from graphql-core. Mutations always go to graphql-core.
"""

from __future__ import annotations

from collections.abc import Callable
from math import isfinite
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    execute,
    is_abstract_type,
    is_specified_scalar_type,
)
from graphql.execution.collect_fields import collect_fields, collect_sub_fields
from graphql.execution.execute import ExecutionContext
from graphql.execution.values import get_argument_values
from graphql.language import DirectiveNode, Visitor, visit
from graphql.pyutils import Path, Undefined

_INTROSPECTION_ROOTS = ("__schema", "__type")


class _Abandon(Exception):
    """The fast path cannot promise graphql-core's exact output; use graphql-core."""


def _uses_directives(document: DocumentNode) -> bool:
    found = []

    class Finder(Visitor):
        def enter_directive(self, node: DirectiveNode, *_):
            found.append(node)
            return self.BREAK

    visit(document, Finder())
    return bool(found)


def _slow(type_: GraphQLScalarType | GraphQLEnumType) -> Callable[[Any], Any]:
    """``type_.serialize`` plus graphql-core's checks around it, for the odd values.

    A callable (which graphql-core's default resolver would have called) or a
    serialisation error abandons the fast path.
    """
    serialize = type_.serialize

    def slow(value):
        if value is None:
            return None
        if callable(value):
            raise _Abandon
        try:
            result = serialize(value)
        except Exception:
            raise _Abandon from None
        if result is None or result is Undefined:
            raise _Abandon
        return result
    return slow


def _enum(type_: GraphQLEnumType) -> Callable[[Any], Any]:
    slow = _slow(type_)
    names = {}  # internal value -> name; SDL enums use the name as value
    for name, enum_value in type_.values.items():
        try:
            names[enum_value.value] = name
        except TypeError:  # unhashable internal value: no shortcut
            return slow

    def enum(value):
        try:
            return names[value]
        except (KeyError, TypeError):
            return slow(value)
    return enum


# Inline test, per built-in scalar, that a value serialises to itself.
_SELF_SERIALISING = {
    "String": "type({v}) is str",
    "ID": "type({v}) is str",
    "Boolean": "type({v}) is bool",
    "Float": "type({v}) is float and isfinite({v})",
    "Int": "type({v}) is int and -2147483648 <= {v} <= 2147483647",
}


class _Compiler:
    """Compiles one operation's selections into completer functions."""

    def __init__(self, schema: GraphQLSchema, fragments: dict, variables: dict):
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def completer(self, type_, field_nodes: list) -> Callable[[Any], Any]:
        """A function turning a resolved value of ``type_`` into its result value."""
        if isinstance(type_, GraphQLNonNull):
            inner = self.completer(type_.of_type, field_nodes)

            def non_null(value):
                if value is None:
                    raise _Abandon  # graphql-core owns null propagation and its error
                return inner(value)
            return non_null
        if isinstance(type_, GraphQLList):
            item_type = type_.of_type
            items_non_null = isinstance(item_type, GraphQLNonNull)
            item = self.completer(item_type.of_type if items_non_null else item_type, field_nodes)

            def list_(value):
                if type(value) is not list and type(value) is not tuple:
                    if value is None:
                        return None
                    raise _Abandon  # other iterables: leave them to graphql-core
                if items_non_null and None in value:
                    raise _Abandon
                return [item(v) for v in value]
            return list_
        if isinstance(type_, GraphQLEnumType):
            return _enum(type_)
        if isinstance(type_, GraphQLScalarType):
            return _slow(type_)
        if isinstance(type_, GraphQLObjectType):
            return self._object(type_, field_nodes)
        if is_abstract_type(type_):
            return self._abstract(type_, field_nodes)
        raise _Abandon

    def _object(self, object_type: GraphQLObjectType, field_nodes: list) -> Callable:
        """Generate ``complete(value)`` for one selection on one object type."""
        if object_type.is_type_of is not None:
            raise _Abandon  # graphql-core would check each object with it
        namespace = {"Abandon": _Abandon, "isfinite": isfinite}
        lines = [
            "def complete(value):",
            "    if type(value) is not dict:",
            "        if value is None:",
            "            return None",
            "        raise Abandon",
            "    get = value.get",
        ]
        out = []
        fields = collect_sub_fields(self.schema, self.fragments, self.variables, object_type,
                                    field_nodes)
        for i, (key, nodes) in enumerate(fields.items()):
            name, var = nodes[0].name.value, f"v{i}"
            out.append(f"{key!r}: {var}")
            if name == "__typename":
                lines.append(f"    {var} = {object_type.name!r}")
                continue
            field_def = object_type.fields[name]  # validation guarantees it exists
            if field_def.resolve is not None or any(n.arguments for n in nodes):
                raise _Abandon  # below the root only the default dict resolver is reproduced
            lines.append(f"    {var} = get({name!r})")
            lines.extend(self._emit(var, field_def.type, nodes, namespace))
        lines.append("    return {" + ", ".join(out) + "}")
        exec("\n".join(lines), namespace)  # noqa: S102 - source built from schema names only
        return namespace["complete"]

    def _emit(self, var: str, type_, nodes: list, namespace: dict) -> list[str]:
        """Statements completing ``var`` in place; built-in scalars are checked inline."""
        non_null = isinstance(type_, GraphQLNonNull)
        base = type_.of_type if non_null else type_
        null_check = ["        raise Abandon"] if non_null else []
        if isinstance(base, GraphQLScalarType) and is_specified_scalar_type(base):
            slow = f"slow{len(namespace)}"
            namespace[slow] = _slow(base)
            test = _SELF_SERIALISING[base.name].format(v=var)
            if non_null:
                return [f"    if not ({test}):", f"        if {var} is None:",
                        "            raise Abandon", f"        {var} = {slow}({var})"]
            return [f"    if {var} is not None and not ({test}):", f"        {var} = {slow}({var})"]
        fn = f"complete{len(namespace)}"
        namespace[fn] = self.completer(base, nodes)
        lines = [f"    if {var} is None:", *null_check] if non_null else []
        return [*lines, f"    {var} = {fn}({var})"]

    def _abstract(self, abstract_type, field_nodes: list) -> Callable:
        per_type: dict[str, Callable] = {}
        schema = self.schema

        def abstract(value):
            if value is None:
                return None
            if type(value) is not dict or abstract_type.resolve_type is not None:
                raise _Abandon
            typename = value.get("__typename")  # graphql-core's default type resolution
            complete = per_type.get(typename) if type(typename) is str else None
            if complete is None:
                runtime = schema.get_type(typename) if type(typename) is str else None
                if not isinstance(runtime, GraphQLObjectType) or not schema.is_sub_type(
                        abstract_type, runtime):
                    raise _Abandon
                complete = per_type[typename] = self._object(runtime, field_nodes)
            return complete(value)
        return abstract


class QueryExecutor:
    """Executes queries fast and everything else with graphql-core; same JSON output."""

    def __init__(self, schema: GraphQLSchema):
        self.schema = schema
        self.fallbacks = 0  # how often graphql-core had to take over, for tests

    def execute(self, document: DocumentNode, root_value: Any = None, context: Any = None,
                variables: dict | None = None, operation_name: str | None = None,
                plans: dict | None = None) -> dict:
        """Return the formatted result (``{"data": ...}`` plus ``errors`` if any).

        ``plans`` is a per-document dict in which compiled plans are kept between
        requests; it is only used when the document has no directives, since
        ``@skip``/``@include`` may depend on variables.
        """
        try:
            return self._fast(document, root_value, context, variables, operation_name, plans)
        except _Abandon:
            self.fallbacks += 1
            return self.reference(document, root_value, context, variables, operation_name)

    def reference(self, document, root_value=None, context=None, variables=None,
                  operation_name=None) -> dict:
        """graphql-core's own execution, formatted."""
        result = execute(self.schema, document, root_value, context, variables, operation_name)
        return result.formatted

    def _fast(self, document, root_value, context, variables, operation_name, plans) -> dict:
        exe = ExecutionContext.build(self.schema, document, root_value, context, variables,
                                     operation_name)
        if isinstance(exe, list) or exe.operation.operation.value != "query":
            raise _Abandon
        root_type = self.schema.query_type
        if plans is not None and ("directives",) not in plans:
            plans[("directives",)] = _uses_directives(document)
        cacheable = plans is not None and not plans[("directives",)]
        plan_key = exe.operation.name.value if exe.operation.name else None
        root_plan = plans.get(plan_key) if cacheable else None
        if root_plan is None:
            compiler = _Compiler(self.schema, exe.fragments, exe.variable_values)
            root_plan = []
            fields = collect_fields(self.schema, exe.fragments, exe.variable_values, root_type,
                                    exe.operation.selection_set)
            for key, nodes in fields.items():
                name = nodes[0].name.value
                if name in _INTROSPECTION_ROOTS:
                    raise _Abandon
                if name == "__typename":
                    root_plan.append((key, name, nodes, None, None))
                    continue
                field_def = root_type.fields.get(name)
                if field_def is None:
                    continue
                root_plan.append((key, name, nodes, field_def,
                                  compiler.completer(field_def.type, nodes)))
            if cacheable:
                plans[plan_key] = root_plan

        data = {}
        for key, _name, nodes, field_def, complete in root_plan:
            if field_def is None:
                data[key] = root_type.name
                continue
            try:
                args = get_argument_values(field_def, nodes[0], exe.variable_values)
                info = exe.build_resolve_info(field_def, nodes, root_type, Path(None, key, root_type.name))
                resolve = field_def.resolve or exe.field_resolver
                value = resolve(root_value, info, **args)
            except Exception:
                raise _Abandon from None
            if exe.is_awaitable(value):
                raise _Abandon
            data[key] = complete(value)
        return {"data": data}
