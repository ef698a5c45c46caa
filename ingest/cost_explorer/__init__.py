"""Cost Explorer: daily spend by consumer tag (``usage``, GetCostAndUsage) and the spend forecast
per consumer (``forecast``, GetCostForecast); ``jobs`` runs each as one recorded, atomic run."""
