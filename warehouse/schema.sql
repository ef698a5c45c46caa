-- The warehouse tables: one source of truth for every column's name and type.
-- Timestamps are UTC (TIMESTAMP without zone). Money is DECIMAL(18,6) in the stated currency.

CREATE TABLE launches (
    launch_id            VARCHAR,        -- the workflow manager's key for the launch
    consumer             VARCHAR,        -- who launched it: team, project or cost centre
    workflow_type        VARCHAR,        -- e.g. nextflow-rnaseq, snakemake-variant-calling
    compute_platform     VARCHAR,        -- EC2, Batch, ParallelCluster, EKS, OnPremHPC
    region               VARCHAR,        -- AWS region the launch ran in (NULL on premises)
    status               VARCHAR,        -- PREPARING, WAITING, READY, RUNNING, COMPLETE or FAILED
    input_path           VARCHAR,        -- where the input data set lives (s3://...)
    input_size_gb        DOUBLE,         -- size of the input data set in GB
    sample_count         INTEGER,        -- samples in the input, where the manager recorded it
    output_size_gb       DOUBLE,         -- size of the run's output in GB, where recorded (Nextflow/Seqera: bytes written)
    launched_at          TIMESTAMP,      -- first status time (PREPARING), UTC
    launch_month         DATE,           -- first day of the month of launched_at
    preparing_at         TIMESTAMP,      -- when the launch entered PREPARING
    waiting_at           TIMESTAMP,      -- when it entered WAITING
    ready_at             TIMESTAMP,      -- when it entered READY (queued for compute)
    running_at           TIMESTAMP,      -- when it entered RUNNING
    completed_at         TIMESTAMP,      -- when it entered COMPLETE
    failed_at            TIMESTAMP,      -- when it entered FAILED
    ended_at             TIMESTAMP,      -- completed_at or failed_at
    preparing_hours      DOUBLE,         -- PREPARING until the next status
    waiting_hours        DOUBLE,         -- WAITING until the next status
    queued_hours         DOUBLE,         -- READY until RUNNING (or the end)
    running_hours        DOUBLE,         -- RUNNING until COMPLETE/FAILED
    total_hours          DOUBLE,         -- launched_at until ended_at
    instance_count       INTEGER,        -- EC2 instances the launch used (sum of counts)
    instance_hours       DOUBLE,         -- sum over instances of count x hours
    primary_instance_type      VARCHAR,  -- the instance type with the most instance-hours
    primary_purchase_option    VARCHAR,  -- Spot, On-Demand or Reserved, of that instance type
    instance_cost        DECIMAL(18,6),  -- price of EC2 instances
    volume_cost          DECIMAL(18,6),  -- price of EBS volumes
    filesystem_cost      DECIMAL(18,6),  -- price of the FSx for Lustre file system
    control_plane_cost   DECIMAL(18,6),  -- the rest of totalCost: the EKS control plane share
    total_cost           DECIMAL(18,6),  -- totalCost (the engine's price when price_source is computed); NULL while pending
    currency             VARCHAR,        -- currency of every cost column (USD)
    price_source         VARCHAR,        -- item (the manager's price), seqera (Seqera's), computed (the engine's) or pending
    row_hash             VARCHAR,        -- fingerprint of the row's content, to skip unchanged items
    ingest_run_id        VARCHAR,        -- the ingest run that last wrote this row
    as_of                TIMESTAMP       -- when the row's state is from, UTC (export time, write time, scan start); NULL: unknown
);

CREATE TABLE launch_resources (
    launch_id            VARCHAR,        -- the launch that consumed the resource
    resource_index       INTEGER,        -- position of the resource within the launch
    kind                 VARCHAR,        -- instance, volume, filesystem or cluster
    resource_type        VARCHAR,        -- r6i.4xlarge, gp3, PERSISTENT_2, eks
    family               VARCHAR,        -- instance family (r6i) or the volume/deployment type
    size                 VARCHAR,        -- instance size (4xlarge); NULL for storage
    purchase_option      VARCHAR,        -- Spot, On-Demand or Reserved (instances only)
    count                INTEGER,        -- how many identical resources
    size_gb              DOUBLE,         -- provisioned GB per volume or file system
    iops                 INTEGER,        -- provisioned IOPS per volume (gp3, io2), when the item says
    throughput_mibps     INTEGER,        -- provisioned throughput per gp3 volume in MiB/s, when the item says
    availability_zone    VARCHAR,        -- where it ran, when known
    resource_id          VARCHAR,        -- file system id or cluster name, when known
    started_at           TIMESTAMP,      -- when the resource started serving the launch, UTC
    ended_at             TIMESTAMP,      -- when it stopped, UTC
    hours                DOUBLE,         -- ended_at - started_at, per resource
    launch_month         DATE,           -- launch_month of the launch
    ingest_run_id        VARCHAR
);

CREATE TABLE costs_daily (
    usage_date           DATE,           -- the billing day (UTC)
    usage_month          DATE,           -- first day of its month
    account_id           VARCHAR,        -- linked account, when grouped or configured
    service              VARCHAR,        -- AWS service (SERVICE dimension) or other grouping value
    tag_key              VARCHAR,        -- the cost-allocation tag grouped on (e.g. consumer)
    consumer             VARCHAR,        -- that tag's value; NULL for untagged spend
    unblended_cost       DECIMAL(18,6),
    amortized_cost       DECIMAL(18,6),
    net_amortized_cost   DECIMAL(18,6),
    usage_quantity       DOUBLE,
    currency             VARCHAR,        -- unit of the cost columns (USD)
    estimated            BOOLEAN,        -- Cost Explorer still marks the day as an estimate
    source               VARCHAR,        -- cost-explorer
    ingest_run_id        VARCHAR,
    billed_cost          DECIMAL(18,6),  -- what the invoice charges: FOCUS BilledCost, CUR (net) unblended, CE UnblendedCost
    effective_cost       DECIMAL(18,6),  -- amortized after discounts: FOCUS EffectiveCost, CUR (net) amortized, CE NetAmortizedCost
    list_cost            DECIMAL(18,6),  -- at public on-demand prices: FOCUS ListCost, CUR public on-demand cost; NULL from CE
    charge_category      VARCHAR,        -- Usage, Purchase, Tax, Credit or Adjustment (FOCUS ChargeCategory)
    resource_id          VARCHAR,        -- the billed resource (FOCUS ResourceId, CUR line_item_resource_id); NULL from CE
    tags                 VARCHAR,        -- every tag on the charge, as a JSON object (FOCUS Tags, CUR resource_tags); NULL from CE
    split_parent_resource_id VARCHAR,    -- CUR split cost allocation: the EC2 instance the ECS task or EKS pod ran on
    split_cost           DECIMAL(18,6),  -- CUR split cost allocation: the task's or pod's share of that instance's cost
    split_unused_cost    DECIMAL(18,6),  -- CUR split cost allocation: its share of the instance's unused capacity
    provider             VARCHAR         -- who bills the charge (FOCUS ProviderName); NULL means AWS (Cost Explorer, CUR)
);

-- Derived: costs_daily summed per month, kept in step by the writer whenever costs_daily changes
-- (warehouse.store.ROLLUPS), so month-level questions of a big bill read thousands of rows, not millions.
CREATE TABLE costs_monthly (
    usage_month          DATE,           -- first day of the month
    consumer             VARCHAR,        -- the tag value; NULL for untagged spend
    tag_key              VARCHAR,        -- the cost-allocation tag grouped on
    service              VARCHAR,        -- AWS service (or other grouping value)
    currency             VARCHAR,        -- unit of the cost columns
    source               VARCHAR,        -- where the daily rows came from (cost-explorer, focus, cur)
    unblended_cost       DECIMAL(18,6),  -- sum over the month's daily rows
    amortized_cost       DECIMAL(18,6),  -- sum over the month's daily rows
    net_amortized_cost   DECIMAL(18,6),  -- sum over the month's daily rows
    estimated            BOOLEAN,        -- any of its days still an estimate
    first_day            DATE,           -- first billing day summed
    last_day             DATE,           -- last billing day summed
    daily_rows           BIGINT          -- costs_daily rows summed
);

CREATE TABLE job_runs (
    run_id               VARCHAR,
    command              VARCHAR,        -- dynamodb, dynamodb-export, cost-explorer, demo
    source               VARCHAR,        -- table name, export path or account
    started_at           TIMESTAMP,
    ended_at             TIMESTAMP,
    records_read         BIGINT,
    records_loaded       BIGINT,         -- new or changed rows written
    records_unchanged    BIGINT,         -- read but identical to what the warehouse held
    records_quarantined  BIGINT,
    records_deleted      BIGINT,         -- rows removed because the source deleted them (incremental export deletes)
    api_requests         BIGINT,         -- AWS API calls made (Cost Explorer bills $0.01 each)
    outcome              VARCHAR,        -- succeeded, failed, died (found dead by the next run: killed, out of memory)
    message              VARCHAR         -- what went wrong, for failed runs
);

CREATE TABLE quarantine (
    run_id               VARCHAR,        -- the ingest run that rejected the record
    source               VARCHAR,        -- file or table it came from
    record_key           VARCHAR,        -- launch_id when the record had one
    reason               VARCHAR,        -- why it was rejected, in words a person can act on
    raw_record           VARCHAR,        -- the record as read (JSON)
    quarantined_at       TIMESTAMP
);

CREATE TABLE launch_deletions (
    launch_id            VARCHAR,        -- the launch an incremental export deleted from the table
    deleted_at           TIMESTAMP,      -- when the item was deleted (Metadata.WriteTimestampMicros), UTC
    launch_month         DATE,           -- launch_month of the launch row removed (NULL: the warehouse did not hold it)
    consumer             VARCHAR,        -- consumer of the removed row
    total_cost           DECIMAL(18,6),  -- total_cost of the removed row: what is no longer charged
    currency             VARCHAR,        -- currency of total_cost
    source               VARCHAR,        -- the export file the delete came from
    run_id               VARCHAR         -- the ingest run that applied it
);

CREATE TABLE closed_statements (
    statement_month      DATE,           -- the month closed (first day); its statement never changes again
    consumer             VARCHAR,        -- who is charged; NULL on unallocated and rounding lines
    line_kind            VARCHAR,        -- direct, shared, credit, adjustment, unallocated or rounding
    line                 VARCHAR,        -- what the line is: workflow type and platform, shared cost, restated month
    workflow_type        VARCHAR,        -- direct lines: the workflow type the cost is attributed to
    compute_platform     VARCHAR,        -- direct lines: the compute platform
    rule                 VARCHAR,        -- how the amount was arrived at (tag, PROPORTIONAL to ..., EVEN, FIXED 40%)
    adjusts_month        DATE,           -- adjustment lines: the closed month whose bill was restated
    amount               DECIMAL(18,6),  -- charged, in whole cents: effective cost (amortized, after discounts and credits)
    billed_amount        DECIMAL(18,6),  -- the same line at billed cost, in whole cents
    launches             BIGINT,         -- launches the line covers (direct lines)
    currency             VARCHAR,        -- unit of the amounts
    bill_source          VARCHAR,        -- where the month's bill came from: cur, focus or cost-explorer
    bill_total           DECIMAL(18,6),  -- the month's bill at close, in cents: the month's lines without adjustments sum to it
    rules_fingerprint    VARCHAR,        -- sha256 of the allocation rules in force when the month was closed
    closed_at            TIMESTAMP,      -- when the month was closed (UTC)
    closed_by_run_id     VARCHAR         -- the run (command close-month in job_runs) that closed it
);

CREATE TABLE prices (
    service              VARCHAR,        -- Price List service code: AmazonEC2 (instances, EBS), AmazonFSx, AmazonEKS
    region               VARCHAR,        -- AWS region code (us-east-1)
    availability_zone    VARCHAR,        -- Spot prices only: the zone the price holds in
    resource_kind        VARCHAR,        -- instance, volume, filesystem or cluster (as in launch_resources.kind)
    resource_type        VARCHAR,        -- r6i.4xlarge, gp3, PERSISTENT_2, eks
    purchase_option      VARCHAR,        -- On-Demand (list price) or Spot
    charge               VARCHAR,        -- what is charged: usage (hours), storage (GB-month), iops, throughput
    unit                 VARCHAR,        -- Price List unit: Hrs, GB-Mo, IOPS-Mo, MiBps-Mo
    price                DECIMAL(18,10), -- price per unit in the currency (Price List carries up to 10 decimals)
    currency             VARCHAR,        -- USD
    effective_from       TIMESTAMP,      -- from when the price holds, UTC (Price List effectiveDate, Spot timestamp, snapshot date)
    source               VARCHAR,        -- price-list-api, spot-price-history-api or snapshot:<file>
    sku                  VARCHAR,        -- Price List SKU, when the price came from the Price List API
    fetched_at           TIMESTAMP,      -- when Launch Ledger fetched or loaded it, UTC
    ingest_run_id        VARCHAR         -- the ingest run that wrote it
);

CREATE TABLE launch_costs (
    launch_id            VARCHAR,        -- the launch (launches.launch_id)
    launch_month         DATE,           -- launch_month of the launch
    instance_cost        DECIMAL(18,6),  -- computed: EC2 instances (or on-premises nodes at the rate card)
    volume_cost          DECIMAL(18,6),  -- computed: EBS volumes
    filesystem_cost      DECIMAL(18,6),  -- computed: FSx for Lustre
    control_plane_cost   DECIMAL(18,6),  -- computed: the launch's share of its EKS control plane
    total_cost           DECIMAL(18,6),  -- the four parts' exact sum; NULL while PENDING
    currency             VARCHAR,        -- currency of the cost columns (USD)
    price_status         VARCHAR,        -- PENDING (not ended or a price missing), ESTIMATED (list/Spot prices) or FINAL (month billed)
    unpriced_resources   INTEGER,        -- resources no price was found for (a PENDING launch that has ended)
    priced_at            TIMESTAMP,      -- when the pricing engine ran, UTC
    ingest_run_id        VARCHAR         -- the price-launches run that wrote the row
);

CREATE TABLE backtest_results (
    run_id               VARCHAR,        -- the backtest run (python -m ingest backtest; also in job_runs)
    computed_at          TIMESTAMP,      -- when it ran, UTC
    month                DATE,           -- the launch month predicted from the launches before it; NULL: all months pooled
    method               VARCHAR,        -- model, model_required, group_median or nearest_neighbours
    target               VARCHAR,        -- cost (total_cost) or hours (total_hours)
    launches             BIGINT,         -- completed, priced launches of the month scored
    estimated            BIGINT,         -- those the method gave a number for (the rest: not enough history)
    training_launches    BIGINT,         -- completed, priced launches before the month; NULL on pooled rows
    mdape                DOUBLE,         -- median absolute percentage error of the median estimate (0.2 = 20%)
    coverage             DOUBLE,         -- share of actual values inside the interval (calibrated: near interval_level)
    median_interval_ratio DOUBLE,        -- median of high / low: how wide the intervals were
    interval_level       DOUBLE,         -- the interval's nominal coverage (0.8)
    young_launches       BIGINT,         -- scored launches whose type x platform had 5-29 completed launches before
    young_estimated      BIGINT,         -- those the method gave a number for (the model: by partial pooling)
    young_mdape          DOUBLE,         -- MdAPE over them
    young_coverage       DOUBLE,         -- share of their actual values inside the interval
    young_median_interval_ratio DOUBLE,  -- median high / low over them
    output_launches      BIGINT,         -- model rows: scored launches whose estimate used their output size; else NULL
    output_mdape         DOUBLE,         -- MdAPE over them, with the output size
    output_coverage      DOUBLE,         -- coverage over them, with the output size
    output_median_interval_ratio DOUBLE, -- median high / low over them, with the output size
    no_output_mdape      DOUBLE,         -- the same launches and model without the output size: MdAPE
    no_output_coverage   DOUBLE,         -- ... coverage
    no_output_median_interval_ratio DOUBLE -- ... median high / low
);

CREATE TABLE cost_forecasts (
    ingest_run_id        VARCHAR,        -- the forecast run that asked Cost Explorer (python -m ingest forecast)
    forecast_date        DATE,           -- the day it asked: the forecast is as of that day
    period_start         DATE,           -- first day the forecast covers
    period_end           DATE,           -- day after the last (Cost Explorer's exclusive end)
    month                DATE,           -- first day of the month of period_start
    tag_key              VARCHAR,        -- the cost-allocation tag filtered on (e.g. consumer)
    consumer             VARCHAR,        -- that tag's value
    metric               VARCHAR,        -- UNBLENDED_COST, NET_AMORTIZED_COST, ...
    mean_amount          DECIMAL(18,6),  -- MeanValue: the forecast
    lower_bound          DECIMAL(18,6),  -- PredictionIntervalLowerBound
    upper_bound          DECIMAL(18,6),  -- PredictionIntervalUpperBound
    prediction_interval_level INTEGER,   -- the interval's level in percent (80)
    currency             VARCHAR,        -- unit of the amounts (USD)
    source               VARCHAR         -- cost-explorer
);

CREATE TABLE launch_tasks (
    launch_id            VARCHAR,        -- the launch (the run) the task belongs to
    task_id              VARCHAR,        -- the task's id within its run (Nextflow task_id, Seqera taskId)
    task_hash            VARCHAR,        -- Nextflow's work-directory hash (ab/123456), when known
    native_id            VARCHAR,        -- the executor's job id (AWS Batch job id, Slurm job id, pod name), when known
    process              VARCHAR,        -- the pipeline process (NFCORE_RNASEQ:RNASEQ:FASTQC)
    name                 VARCHAR,        -- the task's name, process and tag (FASTQC (sample1))
    status               VARCHAR,        -- COMPLETED, FAILED, ABORTED or CACHED, as the run record says
    attempt              INTEGER,        -- 1 for the first try, 2 and up for retries
    exit_code            INTEGER,        -- the task's exit status, when it ended
    machine_type         VARCHAR,        -- the instance type it ran on (m5.2xlarge), when known
    zone                 VARCHAR,        -- the availability zone it ran in (us-east-1a), when known
    price_model          VARCHAR,        -- Spot, On-Demand or Reserved, when known
    cpus                 INTEGER,        -- CPUs requested
    memory_gb            DOUBLE,         -- memory requested, GB
    disk_gb              DOUBLE,         -- disk requested, GB
    time_limit_hours     DOUBLE,         -- the time limit requested, hours
    submitted_at         TIMESTAMP,      -- when the task was submitted, UTC
    started_at           TIMESTAMP,      -- when it started running, UTC
    completed_at         TIMESTAMP,      -- when it ended, UTC
    realtime_hours       DOUBLE,         -- wall-clock run time of the task's command, hours
    cpu_percent          DOUBLE,         -- %cpu: CPU used, in percent of one CPU (400 = four CPUs busy)
    peak_rss_gb          DOUBLE,         -- peak resident memory, GB
    read_bytes           BIGINT,         -- bytes read from disk
    write_bytes          BIGINT,         -- bytes written to disk
    spot_interruptions   INTEGER,        -- times a Spot reclaim interrupted it, when known
    seqera_cost          DECIMAL(18,6),  -- the task's cost as Seqera Platform estimated it (NULL for a Nextflow trace)
    engine_cost          DECIMAL(18,6),  -- the pricing engine's cost of the task (machine type, zone, price model, run time); NULL until priced
    currency             VARCHAR,        -- currency of the cost columns (USD)
    source               VARCHAR,        -- nextflow or seqera
    launch_month         DATE,           -- launch_month of the launch
    ingest_run_id        VARCHAR         -- the ingest run that last wrote this row
);

CREATE TABLE launch_billed_costs (
    launch_id            VARCHAR,        -- the launch the bill rows are tagged with (the run tag's value); NULL: the tag matches no launch
    run_tag              VARCHAR,        -- the run tag's value on the bill rows (e.g. the Seqera or nf-aggregate unique_run_id)
    usage_month          DATE,           -- billing month (first day)
    split_cost           DECIMAL(18,6),  -- CUR split cost allocation: the run's share of the instances it ran on
    split_unused_cost    DECIMAL(18,6),  -- CUR split cost allocation: the run's share of those instances' unused capacity
    billed_cost          DECIMAL(18,6),  -- billed (unblended) cost of the rows carrying the tag
    effective_cost       DECIMAL(18,6),  -- effective (amortized, net) cost of the rows carrying the tag
    rows                 BIGINT,         -- bill rows summed
    currency             VARCHAR,        -- currency of the cost columns
    source               VARCHAR,        -- cur or focus
    ingest_run_id        VARCHAR         -- the ingest run that wrote this row
);

CREATE TABLE audit_events (
    event_id             VARCHAR,        -- unique id of the event (UTC time and a random suffix)
    event_at             TIMESTAMP,      -- when it happened, UTC
    event_month          DATE,           -- first day of the month of event_at (the partition)
    actor                VARCHAR,        -- who: the signed-in email (or OIDC subject); "local (sign-in off)" without sign-in
    provider             VARCHAR,        -- the identity provider ([auth] section name); NULL without sign-in
    role                 VARCHAR,        -- the actor's role then: viewer, finance, admin; NULL when the access file did not know them
    action               VARCHAR,        -- sign-in, sign-out, access-denied, close-month, download or budget-change
    subject              VARCHAR,        -- what: the month closed (2025-03), the file downloaded (chargeback_2025-03.pdf)
    consumers            VARCHAR,        -- the consumers the statement downloaded or shown covered: "every consumer" or a list
    detail               VARCHAR         -- the rest: the export format, the closing run, the total
);

CREATE TABLE anomalies (
    run_id               VARCHAR,        -- the anomalies run that found it (python -m ingest anomalies; also in job_runs)
    computed_at          TIMESTAMP,      -- when it ran, UTC
    kind                 VARCHAR,        -- launch, or consumer month
    month                DATE,           -- the launch month, or the month of the consumer's spend (first day)
    launch_id            VARCHAR,        -- the launch (kind launch); NULL for a consumer month
    consumer             VARCHAR,        -- whose launch or spend it is
    workflow_type        VARCHAR,        -- the launch's workflow type; NULL for a consumer month
    compute_platform     VARCHAR,        -- the launch's compute platform; NULL for a consumer month
    outside              VARCHAR,        -- what fell outside its interval: cost, hours, cost and hours, or spend
    actual_cost          DECIMAL(18,6),  -- the launch's total_cost, or the consumer's spend that month (exact)
    expected_cost        DECIMAL(18,6),  -- the estimator's median cost for a launch of its size, or the spend forecast
    cost_low             DECIMAL(18,6),  -- low end of the cost (or spend) interval
    cost_high            DECIMAL(18,6),  -- high end of the cost (or spend) interval
    cost_ratio           DOUBLE,         -- actual_cost / expected_cost (4.2: 4.2x the expected cost for its size)
    actual_hours         DOUBLE,         -- the launch's total_hours; NULL for a consumer month
    expected_hours       DOUBLE,         -- the estimator's median hours for a launch of its size
    hours_low            DOUBLE,         -- low end of the hours interval
    hours_high           DOUBLE,         -- high end of the hours interval
    hours_ratio          DOUBLE,         -- actual_hours / expected_hours
    how_far_off          DOUBLE,         -- the largest ratio among the measures outside, above or below (4.0: 4x or a quarter)
    interval_level       DOUBLE,         -- the intervals' nominal coverage (0.95)
    basis                VARCHAR,        -- what the expectation was learnt from, in words
    currency             VARCHAR         -- unit of the cost columns (USD)
);
