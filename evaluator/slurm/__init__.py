"""The Slurm executor: each claimed request runs as one Slurm job (``python -m evaluator --executor slurm``).

``settings`` reads the definition's ``evaluation.slurm``; ``client`` wraps Slurm's commands; ``executor``
claims, submits and reconciles; ``job`` is what runs inside the job. See docs/evaluator.md.
"""
