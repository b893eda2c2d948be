"""The operations endpoints of `marketsync serve`, beside the push intake's routes in one app: /healthz,
/readyz, /metrics (Prometheus), /health/stores/{store} and the /status page, opened by bearer tokens
(`marketsync tokens`).

`server` (the whole app of `marketsync serve`, and serving it), `app` (the operations routes), `auth` and
`tokens` (who may read them), `prometheus` (the /metrics collector), `page` (the status page's HTML). The
figures themselves are the domain's (assets/operations: metrics, health, status).

Importing this package is cheap on purpose: `marketsync tokens` imports `tokens` through it.
"""
