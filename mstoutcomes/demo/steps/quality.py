"""Demo step: run the data-quality rules over the demo, so the query list is not empty.

Runs last (900), after every step that writes data, exactly as the nightly command does.
"""

from __future__ import annotations

from mstoutcomes.demo.builder import DemoContext, register_step
from mstoutcomes.quality.services import quality_run


@register_step("quality", order=900)
def quality(ctx: DemoContext) -> str:
    result = quality_run()
    ctx.extras["quality"] = result
    return f"{result.open_now} open data quer{'y' if result.open_now == 1 else 'ies'}"
