"""Benchmarks: self-reported Hub results per benchmark and task, with badges, and ours beside them."""

from lib.ui.benchmarks import benchmarks_page, hub_results
from lib.ui.data import app_definition, app_index, data_status

definition = app_definition()
index = app_index(definition)
benchmarks_page(definition, index, hub_results(definition, index))
data_status(index)
