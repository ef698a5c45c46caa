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
    total_cost           DECIMAL(18,6),  -- totalCost; NULL while the price is pending
    currency             VARCHAR,        -- currency of every cost column (USD)
    price_source         VARCHAR,        -- item (priced by the workflow manager) or pending
    row_hash             VARCHAR,        -- fingerprint of the row's content, to skip unchanged items
    ingest_run_id        VARCHAR         -- the ingest run that last wrote this row
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
    availability_zone    VARCHAR,        -- where it ran, when known
    resource_id          VARCHAR,        -- file system id or cluster name, when known
    started_at           TIMESTAMP,      -- when the resource started serving the launch, UTC
    ended_at             TIMESTAMP,      -- when it stopped, UTC
    hours                DOUBLE,         -- ended_at - started_at, per resource
    unit_price           DECIMAL(18,6),  -- price per unit-hour (NULL until the pricing engine runs)
    cost                 DECIMAL(18,6),  -- price of this resource line (NULL until priced)
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
    ingest_run_id        VARCHAR
);

CREATE TABLE ingest_runs (
    run_id               VARCHAR,
    command              VARCHAR,        -- dynamodb, dynamodb-export, cost-explorer, demo
    source               VARCHAR,        -- table name, export path or account
    started_at           TIMESTAMP,
    ended_at             TIMESTAMP,
    records_read         BIGINT,
    records_loaded       BIGINT,         -- new or changed rows written
    records_unchanged    BIGINT,         -- read but identical to what the warehouse held
    records_quarantined  BIGINT,
    api_requests         BIGINT,         -- AWS API calls made (Cost Explorer bills $0.01 each)
    outcome              VARCHAR,        -- succeeded, failed
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
