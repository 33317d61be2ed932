"""One-screen summary at the end of training."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table

from search.training.recipe import Recipe
from search.training.trainer import TrainReport


def print_train_summary(report: TrainReport, recipe: Recipe) -> None:
    table = Table(title="training done")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("steps", str(report.steps))
    table.add_row("time", f"{report.seconds / 60:.1f} min")
    if recipe.time_budget_s:
        table.add_row("time budget", f"{recipe.time_budget_s / 60:.1f} min (step cap {recipe.max_steps})")
    table.add_row("tokens/s", f"{report.tokens_per_second:,.0f}")
    for task, loss in sorted(report.last_loss.items()):
        table.add_row(f"loss {task} (smoothed)", f"{loss:.4f}")
    table.add_row("limit per data set", str(recipe.limit or "all"))
    table.add_row("checkpoint", report.checkpoint)
    Console().print(table)
