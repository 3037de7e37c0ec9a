/**
 * The two value sets the Kubernetes manifests are generated from (`npx tsx deploy/kubernetes/generate.ts`).
 *
 * Resource figures come from `docs/BENCHMARKS.md`, "Ingestion through the HTTP server into
 * PostgreSQL": one cloud process with every role, taking 500-span batches from 4 clients as fast
 * as it can, peaked at 351 MB resident (VmHWM, start-up and tsx compiling the sources included)
 * and used 0.52 cores for 51,340 spans/s (about 10 µs of CPU per span). Only that all-roles
 * process is measured, so every role gets its memory: a request of 384Mi (the peak, rounded up)
 * and a limit of twice that for report exports and bursts. CPU requests follow from the span
 * rate each set is sized for (`docs/DEPLOYMENT.md`, "Sizing"), with room for the requests
 * around the spans; the limit is one core, as Node runs JavaScript on one.
 */

export type Role = 'api' | 'worker' | 'scheduler';

export interface Resources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export interface Values {
  /** Folder under deploy/kubernetes/ the set is written to. */
  name: string;
  namespace: string;
  image: string;
  /** The address people and agents use (the Ingress host); PUBLIC_URL is https://<host>. */
  host: string;
  /** A kubernetes.io/tls Secret with the certificate for host, made by the operator or cert-manager. */
  tlsSecretName: string;
  ingressClassName: string;
  /** Namespace of the ingress controller: the only source of traffic to the api pods. */
  ingressNamespace: string;
  /** Namespace of the Prometheus that scrapes METRICS_PORT. */
  monitoringNamespace: string;
  /** Where PostgreSQL, Redis and RabbitMQ are (CIDRs) for egress; empty: any address, on their ports only. */
  dataCidrs: string[];
  redisUrl: string;
  logLevel: 'info' | 'warn' | 'debug';
  databasePoolSize: number;
  replicas: Record<Role, number>;
  autoscaling: Record<'api' | 'worker', { min: number; max: number; cpuPercent: number }>;
  resources: Record<Role | 'migrate', Resources>;
  /** Spread each role's pods over zones (production: a zone can go without losing a role). */
  spreadOverZones: boolean;
}

const memory = { requests: '384Mi', limits: '768Mi' };
const measured: Record<Role | 'migrate', Resources> = {
  api: { requests: { cpu: '250m', memory: memory.requests }, limits: { cpu: '1', memory: memory.limits } },
  worker: { requests: { cpu: '100m', memory: memory.requests }, limits: { cpu: '1', memory: memory.limits } },
  scheduler: { requests: { cpu: '50m', memory: memory.requests }, limits: { cpu: '1', memory: memory.limits } },
  migrate: { requests: { cpu: '100m', memory: memory.requests }, limits: { cpu: '1', memory: memory.limits } },
};

/** A small install (a few hundred devices) or a trial: two api pods, one worker, one scheduler. */
export const defaultValues: Values = {
  name: 'default',
  namespace: 'icarus-nova',
  image: 'icarus-cloud:0.1.0',
  host: 'activity.example.com',
  tlsSecretName: 'icarus-nova-tls',
  ingressClassName: 'nginx',
  ingressNamespace: 'ingress-nginx',
  monitoringNamespace: 'monitoring',
  dataCidrs: [],
  redisUrl: 'redis://redis.icarus-data.svc:6379',
  logLevel: 'info',
  databasePoolSize: 10,
  replicas: { api: 2, worker: 1, scheduler: 1 },
  autoscaling: { api: { min: 2, max: 4, cpuPercent: 70 }, worker: { min: 1, max: 3, cpuPercent: 70 } },
  resources: measured,
  spreadOverZones: false,
};

/**
 * 5,000 people (the fleet `docs/SCALING.md` works out: about 100 requests/s): three api pods at
 * least, room to twelve; two workers and two schedulers (one leads, one takes over); spread over
 * zones; egress to the data services' network only.
 */
export const productionValues: Values = {
  ...defaultValues,
  name: 'production',
  image: 'registry.example.com/icarus-cloud:0.1.0',
  dataCidrs: ['10.20.0.0/16'],
  replicas: { api: 3, worker: 2, scheduler: 2 },
  autoscaling: { api: { min: 3, max: 12, cpuPercent: 70 }, worker: { min: 2, max: 8, cpuPercent: 70 } },
  resources: {
    ...measured,
    api: { requests: { cpu: '500m', memory: memory.requests }, limits: { cpu: '1', memory: memory.limits } },
    worker: { requests: { cpu: '250m', memory: memory.requests }, limits: { cpu: '1', memory: memory.limits } },
  },
  spreadOverZones: true,
};

export const valueSets = [defaultValues, productionValues];
