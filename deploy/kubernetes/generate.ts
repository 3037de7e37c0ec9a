/**
 * The Kubernetes manifests of the cloud, as typed objects (kubernetes-models) made from a value
 * set (`values.ts`), written as YAML with a kustomization beside them:
 *
 *   npx tsx deploy/kubernetes/generate.ts          # rewrites deploy/kubernetes/<set>/
 *   kubectl apply -k deploy/kubernetes/production  # after making its secrets/ (docs/DEPLOYMENT.md)
 *
 * The keys never reach these files: kustomize's secretGenerator makes the Secret from files in
 * `<set>/secrets/` (made by deploy/compose/make-secrets.sh, never committed), and its name's
 * hash changes with its content, so new keys roll the pods. `test/deploy/kubernetes.test.ts`
 * checks the committed YAML is what this writes, and validates every object.
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { Model } from '@kubernetes-models/base';
import { ConfigMap, Namespace, Service, ServiceAccount, type IContainer, type IPodSpec, type IProbe } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  Ingress,
  NetworkPolicy,
  type INetworkPolicyEgressRule,
  type INetworkPolicyPort,
  type INetworkPolicySpec,
} from 'kubernetes-models/networking.k8s.io/v1';
import { valueSets, type Resources, type Role, type Values } from './values';

export const APP = 'icarus-nova';
export const VERSION = (JSON.parse(readFileSync(new URL('../../cloud/package.json', import.meta.url), 'utf8')) as { version: string }).version;
export const PORT = 8787;
export const METRICS_PORT = 9464;
export const KEYS_SECRET = `${APP}-keys`;
const SECRETS_DIR = '/run/secrets/icarus';
const UID = 10001;

/** Every file of the keys Secret, and the variable the cloud reads it through (deploy/env-files.mjs). */
export const SECRET_FILES = {
  database_url: 'DATABASE_URL',
  title_key: 'TITLE_KEY',
  token_secret: 'TOKEN_SECRET',
  receipt_signing_key: 'RECEIPT_SIGNING_KEY',
  audit_signing_key: 'AUDIT_SIGNING_KEY',
  metrics_token: 'METRICS_TOKEN',
  amqp_url: 'AMQP_URL',
} as const;

const ROLES: Role[] = ['api', 'worker', 'scheduler'];
/** The image's NODE_OPTIONS loads deploy/env-files.mjs first, so NAME_FILE variables work here. */
const NODE = ['node', '--import', 'tsx'];

const labelsOf = (component: string) => ({ 'app.kubernetes.io/name': APP, 'app.kubernetes.io/component': component });
const metadataOf = (values: Values, name: string, component: string) => ({
  name,
  namespace: values.namespace,
  labels: { ...labelsOf(component), 'app.kubernetes.io/version': VERSION, 'app.kubernetes.io/part-of': APP },
});

const containerSecurity = {
  runAsNonRoot: true,
  runAsUser: UID,
  runAsGroup: UID,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' as const },
};

const resourcesOf = (r: Resources) => ({ requests: { ...r.requests }, limits: { ...r.limits } });

/** Keys as files, read into the environment by deploy/env-files.mjs: never in `kubectl describe`. */
function secretEnv(only?: (keyof typeof SECRET_FILES)[]) {
  return Object.entries(SECRET_FILES)
    .filter(([file]) => !only || only.includes(file as keyof typeof SECRET_FILES))
    .map(([file, variable]) => ({ name: `${variable}_FILE`, value: `${SECRETS_DIR}/${file}` }));
}

const volumes = [
  { name: 'keys', secret: { secretName: KEYS_SECRET, defaultMode: 0o440 } },
  // tsx's compile cache and Node's temp files; the root filesystem is read-only.
  { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
  // DATA_DIR: nothing is written with PostgreSQL and every key given, but the cloud expects it.
  { name: 'data', emptyDir: { sizeLimit: '16Mi' } },
];
const volumeMounts = [
  { name: 'keys', mountPath: SECRETS_DIR, readOnly: true },
  { name: 'tmp', mountPath: '/tmp' },
  { name: 'data', mountPath: '/data' },
];

function podSpec(values: Values, containers: IContainer[], extra: Partial<IPodSpec> = {}): IPodSpec {
  return {
    serviceAccountName: APP,
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: UID, runAsGroup: UID, fsGroup: UID, seccompProfile: { type: 'RuntimeDefault' } },
    volumes,
    containers,
    ...extra,
  };
}

const probe = (path: '/healthz' | '/readyz', periodSeconds: number, failureThreshold: number): IProbe => ({
  httpGet: { path, port: 'http' },
  periodSeconds,
  timeoutSeconds: 3,
  failureThreshold,
});

function cloudContainer(values: Values, role: Role): IContainer {
  return {
    name: 'cloud',
    image: values.image,
    imagePullPolicy: 'IfNotPresent',
    envFrom: [{ configMapRef: { name: `${APP}-settings` } }],
    env: [{ name: 'ROLES', value: role }, ...secretEnv()],
    ports: [
      { name: 'http', containerPort: PORT, protocol: 'TCP' },
      { name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' },
    ],
    // The first start compiles the sources (tsx) and migrates: up to 2 minutes on a busy node.
    startupProbe: probe('/healthz', 2, 60),
    // Out of the Service while the database is unreachable; restarted only if the process hangs.
    readinessProbe: probe('/readyz', 5, 2),
    livenessProbe: probe('/healthz', 10, 3),
    // The endpoints controller and the ingress take a moment to drop a stopping pod: keep
    // serving meanwhile, then SIGTERM finishes the requests in flight (server.ts).
    ...(role === 'api' ? { lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } } } : {}),
    resources: resourcesOf(values.resources[role]),
    securityContext: containerSecurity,
    volumeMounts,
  };
}

/** New pods start once the migration Job has brought the schema to what their image ships. */
function waitForSchema(values: Values): IContainer {
  return {
    name: 'wait-for-schema',
    image: values.image,
    imagePullPolicy: 'IfNotPresent',
    command: [...NODE, 'cloud/scripts/migrate.ts', '--wait', '600'],
    env: secretEnv(['database_url']),
    resources: resourcesOf(values.resources.migrate),
    securityContext: containerSecurity,
    volumeMounts,
  };
}

function deployment(values: Values, role: Role) {
  const labels = labelsOf(role);
  return new Deployment({
    metadata: metadataOf(values, `${APP}-${role}`, role),
    spec: {
      // With an autoscaler it owns the count; this is the count before it acts.
      replicas: values.replicas[role],
      revisionHistoryLimit: 5,
      selector: { matchLabels: labels },
      // Rolling, never below the desired count: a new pod is ready before an old one stops.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { ...labels, 'app.kubernetes.io/version': VERSION } },
        spec: podSpec(values, [cloudContainer(values, role)], {
          initContainers: [waitForSchema(values)],
          terminationGracePeriodSeconds: 40,
          ...(values.spreadOverZones
            ? {
                topologySpreadConstraints: [
                  { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
                  { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
                ],
              }
            : {}),
        }),
      },
    },
  });
}

/** Named after the release, so each release's migration runs once (a Job's pod template cannot change). */
function migrationJob(values: Values) {
  return new Job({
    metadata: metadataOf(values, `${APP}-migrate-${VERSION.replaceAll('.', '-')}`, 'migrate'),
    spec: {
      backoffLimit: 4,
      activeDeadlineSeconds: 900,
      ttlSecondsAfterFinished: 7 * 86_400,
      template: {
        metadata: { labels: labelsOf('migrate') },
        spec: podSpec(
          values,
          [
            {
              name: 'migrate',
              image: values.image,
              imagePullPolicy: 'IfNotPresent',
              command: [...NODE, 'cloud/scripts/migrate.ts'],
              env: secretEnv(['database_url']),
              resources: resourcesOf(values.resources.migrate),
              securityContext: containerSecurity,
              volumeMounts,
            },
          ],
          { restartPolicy: 'OnFailure' },
        ),
      },
    },
  });
}

const tcp = (...ports: number[]): INetworkPolicyPort[] => ports.map((port) => ({ protocol: 'TCP', port }));

function networkPolicies(values: Values) {
  const dns: INetworkPolicyEgressRule = {
    to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
    ports: [
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ],
  };
  const data: INetworkPolicyEgressRule = {
    ...(values.dataCidrs.length > 0 ? { to: values.dataCidrs.map((cidr) => ({ ipBlock: { cidr } })) } : {}),
    ports: tcp(5432, 6379, 5672),
  };
  // Mail, webhooks and single sign-on reach out on these; the cloud itself refuses private addresses for webhooks.
  const outside: INetworkPolicyEgressRule = { ports: tcp(443, 465, 587) };
  const fromMonitoring = {
    from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': values.monitoringNamespace } } }],
    ports: tcp(METRICS_PORT),
  };
  const policy = (name: string, component: string, spec: INetworkPolicySpec) => new NetworkPolicy({ metadata: metadataOf(values, name, component), spec });
  return [
    // Nothing in the namespace talks to anything unless a policy below allows it.
    policy(`${APP}-default-deny`, 'network', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    policy(`${APP}-api`, 'api', {
      podSelector: { matchLabels: labelsOf('api') },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': values.ingressNamespace } } }], ports: tcp(PORT) },
        fromMonitoring,
      ],
      egress: [dns, data, outside],
    }),
    ...(['worker', 'scheduler'] as const).map((role) =>
      policy(`${APP}-${role}`, role, {
        podSelector: { matchLabels: labelsOf(role) },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [fromMonitoring],
        egress: [dns, data, outside],
      }),
    ),
    policy(`${APP}-migrate`, 'migrate', {
      podSelector: { matchLabels: labelsOf('migrate') },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      egress: [dns, { ...data, ports: tcp(5432) }],
    }),
  ];
}

/** Every object of one value set, in the order `kubectl apply` wants them. */
export function manifests(values: Values): Model<unknown>[] {
  const settings: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '0.0.0.0',
    PORT: String(PORT),
    METRICS_PORT: String(METRICS_PORT),
    DATA_DIR: '/data',
    PUBLIC_URL: `https://${values.host}`,
    TRUST_PROXY: 'true',
    LOG_LEVEL: values.logLevel,
    DATABASE_POOL_SIZE: String(values.databasePoolSize),
    REDIS_URL: values.redisUrl,
    REDIS_PREFIX: 'icarus:',
  };
  const objects: Model<unknown>[] = [
    new Namespace({
      metadata: {
        name: values.namespace,
        labels: {
          'app.kubernetes.io/part-of': APP,
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
      },
    }),
    new ServiceAccount({ metadata: metadataOf(values, APP, 'cloud'), automountServiceAccountToken: false }),
    new ConfigMap({ metadata: metadataOf(values, `${APP}-settings`, 'cloud'), data: settings }),
    migrationJob(values),
    ...ROLES.map((role) => deployment(values, role)),
    new Service({
      metadata: metadataOf(values, `${APP}-api`, 'api'),
      spec: { type: 'ClusterIP', selector: labelsOf('api'), ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
    }),
    new Ingress({
      metadata: {
        ...metadataOf(values, APP, 'api'),
        annotations: {
          // The cloud's MAX_BODY_BYTES is 4 MiB; the edge allows a little more and lets the cloud answer.
          'nginx.ingress.kubernetes.io/proxy-body-size': '16m',
          'nginx.ingress.kubernetes.io/ssl-redirect': 'true',
        },
      },
      spec: {
        ingressClassName: values.ingressClassName,
        tls: [{ hosts: [values.host], secretName: values.tlsSecretName }],
        rules: [
          {
            host: values.host,
            http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: `${APP}-api`, port: { name: 'http' } } } }] },
          },
        ],
      },
    }),
    ...(['api', 'worker'] as const).map(
      (role) =>
        new HorizontalPodAutoscaler({
          metadata: metadataOf(values, `${APP}-${role}`, role),
          spec: {
            scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: `${APP}-${role}` },
            minReplicas: values.autoscaling[role].min,
            maxReplicas: values.autoscaling[role].max,
            metrics: [
              { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: values.autoscaling[role].cpuPercent } } },
            ],
            // Scale down slowly: a fleet's load comes in waves (log-ins, catch-up after an outage).
            behavior: { scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } },
          },
        }),
    ),
    ...ROLES.map(
      (role) =>
        new PodDisruptionBudget({
          metadata: metadataOf(values, `${APP}-${role}`, role),
          spec: { maxUnavailable: 1, selector: { matchLabels: labelsOf(role) } },
        }),
    ),
    ...networkPolicies(values),
  ];
  return objects;
}

/** The kustomization beside the objects: the keys Secret made from files, never committed. */
export function kustomization(values: Values) {
  return {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace: values.namespace,
    resources: [`${APP}.yaml`],
    secretGenerator: [{ name: KEYS_SECRET, type: 'Opaque', files: Object.keys(SECRET_FILES).map((file) => `secrets/${file}`) }],
  };
}

const HEADER = (values: Values) =>
  `# Generated by deploy/kubernetes/generate.ts from the "${values.name}" value set (deploy/kubernetes/values.ts): edit those, not this.\n`;

/** The files of one value set, by path under deploy/kubernetes/. */
export function render(values: Values): Record<string, string> {
  const docs = manifests(values).map((m) => stringify(m.toJSON(), { lineWidth: 0 }));
  return {
    [`${values.name}/${APP}.yaml`]: HEADER(values) + docs.map((d) => `---\n${d}`).join(''),
    [`${values.name}/kustomization.yaml`]: HEADER(values) + stringify(kustomization(values), { lineWidth: 0 }),
    [`${values.name}/secrets/.gitignore`]: '# The key files kustomize makes the Secret from: see docs/DEPLOYMENT.md. Never committed.\n*\n!.gitignore\n',
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const values of valueSets) {
    for (const [path, text] of Object.entries(render(values))) {
      const target = new URL(`./${path}`, import.meta.url);
      mkdirSync(new URL('.', target), { recursive: true });
      writeFileSync(target, text);
      process.stdout.write(`wrote deploy/kubernetes/${path}\n`);
    }
  }
}
