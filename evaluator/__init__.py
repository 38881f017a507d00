"""The evaluator service: claims queued requests and runs them with lm-eval, in a process of its own.

Modules: ``worker`` (the claim/heartbeat/requeue loop), ``jobs`` (request -> job, results document),
``runner`` (a child process per job), ``lifeline`` (the job dies with its worker), ``harness`` (the child: the only lm_eval import), ``suite`` (task
folders, the bundled offline suite), ``tiny_model`` (a tiny local model), ``cli``. Shares records, the
definition file and stores with ``lib``; never imports Streamlit; does nothing at import time.
"""
