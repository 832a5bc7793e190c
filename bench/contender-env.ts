/**
 * The environment the benches start their contenders in: this process's, without
 * `NODE_EXTRA_CA_CERTS`. Node reads that file's certificates into OpenSSL at every process
 * start, before any code runs: with this machine's setting (the system bundle,
 * /etc/ssl/certs/ca-certificates.crt) `node -e 0` took ~70 ms instead of ~20 ms, a cost of
 * starting Node on this machine rather than of the work measured, paid by every Node
 * contender (sluice, DuckDB, plain Node) and by no Python one. No contender opens a TLS
 * connection. `contenderEnvNote` says so in the bench output when the variable was set.
 */
const { NODE_EXTRA_CA_CERTS: extraCerts, ...rest } = process.env;

export const contenderEnv: NodeJS.ProcessEnv = rest;

export const contenderEnvNote =
  extraCerts === undefined ? '' : `contenders run without NODE_EXTRA_CA_CERTS (${extraCerts}): it costs every Node process start ~50 ms here, and none uses TLS`;
