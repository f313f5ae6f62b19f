"""A declared sequence of calls (`sequence:` in a mapping entry): each step starts only
after the one before it succeeded (`proxy.engine.steps`, which also names the failed step
and what earlier steps already changed), and the answer is one step's result reshaped.

Every step's body is built before the first call, so a bad legacy value is a 400 before
anything has changed upstream.
"""

from __future__ import annotations

from proxy.engine.bodies import build
from proxy.engine.context import Context, fill
from proxy.engine.steps import Steps
from proxy.engine.styles import Shape, answer
from proxy.legacy.responses import LegacyResponse
from proxy.mapping.table import Step
from proxy.path_templates import fill as fill_template
from proxy.upstream.client import Call


async def sequence(ctx: Context, shape: Shape | None) -> LegacyResponse:
    calls = [_call(ctx, step) for step in ctx.entry.sequence]
    steps = Steps(ctx)
    replies = [
        await steps.send(fill_template(step.does, ctx.path_params), call) for step, call in zip(ctx.entry.sequence, calls)
    ]
    return answer(replies[(ctx.entry.answer or len(replies)) - 1].document, shape)


def _call(ctx: Context, step: Step) -> Call:
    path_params = {name: fill_template(template, ctx.path_params) for name, template in step.path_params.items()}
    query = tuple((name, fill(value, ctx.path_params)) for name, value in step.query.items())
    body = build(step.body, ctx.params, ctx.path_params)
    return ctx.call(step.call.method, step.call.path, path_params=path_params, query=query, body=body)
