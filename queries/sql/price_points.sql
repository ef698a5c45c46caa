-- price_points: every unit price the warehouse holds (list prices and Spot history), for the pricing engine.
SELECT
    service,
    region,
    availability_zone,
    resource_kind,
    resource_type,
    purchase_option,
    charge,
    unit,
    price,
    currency,
    effective_from,
    source
FROM prices
ORDER BY region, resource_kind, resource_type, purchase_option, availability_zone, effective_from
