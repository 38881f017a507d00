-- The in-memory index built from the stores. Rebuilt from files; never the source of truth.
CREATE TABLE evaluations (
    eval_id VARCHAR,           -- the results file's path in the results store
    model VARCHAR,
    revision VARCHAR,
    sha VARCHAR,
    precision VARCHAR,
    weight_type VARCHAR,
    chat_template BOOLEAN,
    limit_n DOUBLE,            -- lm-eval's --limit: set means a partial run
    lm_eval_version VARCHAR,
    git_hash VARCHAR,
    date DOUBLE,               -- UNIX seconds
    duration_s DOUBLE,
    model_args VARCHAR,
    batch_size VARCHAR,
    source_format VARCHAR,
    training VARCHAR,
    step BIGINT,
    tokens DOUBLE,
    request_file VARCHAR,
    n_warnings INTEGER,
    base_model VARCHAR,        -- the base of an adapter (peft=) or delta weights
    backend VARCHAR,           -- lm-eval's model type (hf, vllm, local-completions, ...)
    setting VARCHAR,           -- model arguments that may change scores, k=v,... (docs/formats.md)
    model_written VARCHAR,     -- the model id as the file spells it; `model` is the shown casing
    eval_no INTEGER,           -- a small integer id, for fast joins and groupings
    base_no UBIGINT            -- hash of (model key, sha or revision, precision, chat template, limit, setting)
);

CREATE TABLE scores (
    eval_id VARCHAR,
    task VARCHAR,
    metric VARCHAR,
    filter VARCHAR,
    value DOUBLE,
    stderr DOUBLE,
    n_shot INTEGER,
    higher_is_better BOOLEAN,
    n_samples BIGINT,
    version VARCHAR,           -- lm-eval's task version (the file's `versions` block), NULL when unknown
    eval_no INTEGER            -- evaluations.eval_no of eval_id
);

CREATE TABLE requests (
    path VARCHAR,
    model VARCHAR,
    revision VARCHAR,
    precision VARCHAR,
    weight_type VARCHAR,
    status VARCHAR,
    submitted_time VARCHAR,
    base_model VARCHAR,
    model_type VARCHAR,
    private BOOLEAN,
    params DOUBLE,
    license VARCHAR,
    likes BIGINT,
    architecture VARCHAR,
    use_chat_template BOOLEAN,
    sender VARCHAR,
    error VARCHAR,
    flagged VARCHAR,
    merged BOOLEAN,
    moe BOOLEAN,
    on_hub BOOLEAN,
    training VARCHAR,
    step BIGINT,
    tokens DOUBLE
);

CREATE TABLE problems (
    store VARCHAR,             -- 'results' or 'requests'
    path VARCHAR,
    level VARCHAR,             -- 'error': not loaded; 'warning': loaded with a caveat
    reason VARCHAR
);
