/**
 * The Kubernetes manifests under deploy/kubernetes/: what is committed is what the generator
 * writes, every object of both value sets validates against the Kubernetes API schemas offline
 * (kubernetes-models), and the rules of our own hold: probes and limits on every container,
 * selectors that match their pods, autoscalers and budgets that target what exists, a
 * read-only non-root pod, keys only from the Secret kustomize generates.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseAllDocuments, parse } from 'yaml';
import { ConfigMap, Namespace, Service, ServiceAccount, type IContainer, type IPodSpec } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { KEYS_SECRET, SECRET_FILES, kustomization, render } from '../../deploy/kubernetes/generate';
import { valueSets } from '../../deploy/kubernetes/values';

const here = new URL('../../deploy/kubernetes/', import.meta.url);
const models = { Namespace, ServiceAccount, ConfigMap, Service, Deployment, Job, HorizontalPodAutoscaler, PodDisruptionBudget, Ingress, NetworkPolicy };
type Kind = keyof typeof models;

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

/** The committed objects of a value set, parsed from its YAML. */
function committed(set: string): Obj[] {
  return parseAllDocuments(readFileSync(new URL(`${set}/icarus-nova.yaml`, here), 'utf8'))
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

/** A kubernetes-models instance of a parsed object: its constructor checks kind and apiVersion. */
function modelOf(o: Obj) {
  const Model = models[o.kind as Kind];
  if (!Model) throw new Error(`${o.kind} ${o.metadata.name}: no model for this kind (add it to the test)`);
  return new (Model as unknown as new (data: unknown) => { validate(): void })(o);
}

const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

const podOf = (o: Obj) => (o.spec as { template?: { metadata?: { labels?: Record<string, string> }; spec: IPodSpec } } | undefined)?.template;

/**
 * Our rules over one value set's objects and its kustomization; each broken rule is one line.
 * (Also run below on objects with a planted defect each, so a rule that can no longer fail shows.)
 */
function ruleViolations(objects: Obj[], kustomize: { secretGenerator: { name: string; files: string[] }[] }): string[] {
  const problems: string[] = [];
  const named = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const secretKeys = new Set(kustomize.secretGenerator.filter((g) => g.name === KEYS_SECRET).flatMap((g) => g.files.map((f) => f.replace(/^secrets\//, ''))));
  for (const o of objects) {
    const pod = podOf(o);
    if (!pod) continue;
    const where = `${o.kind} ${o.metadata.name}`;
    const selector = (o.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels;
    if (o.kind === 'Deployment' && !matches(selector, pod.metadata?.labels)) problems.push(`${where}: selector does not match its pod labels`);
    const spec = pod.spec;
    if (spec.securityContext?.runAsNonRoot !== true) problems.push(`${where}: pod not runAsNonRoot`);
    if (spec.automountServiceAccountToken !== false) problems.push(`${where}: mounts a service account token`);
    for (const v of spec.volumes ?? []) {
      if (v.secret && v.secret.secretName !== KEYS_SECRET)
        problems.push(`${where}: volume ${v.name} names secret ${v.secret.secretName}, not the generated ${KEYS_SECRET}`);
      if (v.configMap && !named('ConfigMap', v.configMap.name ?? '')) problems.push(`${where}: volume ${v.name} names a missing ConfigMap`);
    }
    const keysMount = spec.volumes?.find((v) => v.secret)?.name;
    const containers: [IContainer, 'init' | 'main'][] = [
      ...(spec.initContainers ?? []).map((c) => [c, 'init'] as [IContainer, 'init']),
      ...spec.containers.map((c) => [c, 'main'] as [IContainer, 'main']),
    ];
    for (const [c, type] of containers) {
      const at = `${where} container ${c.name}`;
      const r = c.resources;
      for (const part of ['requests', 'limits'] as const)
        for (const what of ['cpu', 'memory']) if (!r?.[part]?.[what]) problems.push(`${at}: no ${part}.${what}`);
      const sc = c.securityContext;
      if (sc?.readOnlyRootFilesystem !== true) problems.push(`${at}: root filesystem not read-only`);
      if (sc?.allowPrivilegeEscalation !== false) problems.push(`${at}: may escalate privileges`);
      if (sc?.runAsNonRoot !== true || (sc.runAsUser ?? 0) === 0) problems.push(`${at}: may run as root`);
      if (!sc?.capabilities?.drop?.includes('ALL')) problems.push(`${at}: keeps capabilities`);
      for (const ref of c.envFrom ?? [])
        if (ref.configMapRef && !named('ConfigMap', ref.configMapRef.name ?? '')) problems.push(`${at}: envFrom a missing ConfigMap`);
      for (const e of c.env ?? []) {
        if (e.valueFrom?.secretKeyRef) problems.push(`${at}: ${e.name} from a secretKeyRef (keys are files)`);
        if (/KEY|SECRET|TOKEN|PASSWORD|DATABASE_URL|AMQP_URL/.test(e.name) && !e.name.endsWith('_FILE'))
          problems.push(`${at}: ${e.name} given as a plain value`);
        if (e.name.endsWith('_FILE')) {
          const mount = c.volumeMounts?.find((m) => m.name === keysMount);
          const file = mount && e.value?.startsWith(`${mount.mountPath}/`) ? e.value.slice(mount.mountPath.length + 1) : undefined;
          if (!file || !secretKeys.has(file)) problems.push(`${at}: ${e.name} names no file of the generated secret`);
        }
      }
      if (o.kind === 'Deployment' && type === 'main') {
        const http = (p: IContainer['readinessProbe']) => p?.httpGet?.path;
        if (http(c.readinessProbe) !== '/readyz') problems.push(`${at}: readiness probe is not /readyz`);
        if (http(c.livenessProbe) !== '/healthz') problems.push(`${at}: liveness probe is not /healthz`);
        const ports = new Set((c.ports ?? []).map((p) => p.name));
        for (const p of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
          const port = p?.httpGet?.port;
          if (typeof port === 'string' && !ports.has(port)) problems.push(`${at}: a probe names port ${port}, which the container does not declare`);
        }
      }
    }
  }
  for (const o of objects) {
    const where = `${o.kind} ${o.metadata.name}`;
    if (o.kind === 'Service') {
      const selector = (o.spec as { selector?: Record<string, string> }).selector;
      const target = deployments.find((d) => matches(selector, podOf(d)?.metadata?.labels));
      if (!target) problems.push(`${where}: selects no Deployment's pods`);
      const ports = new Set(podOf(target ?? o)?.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name)));
      for (const p of (o.spec as { ports: { targetPort?: string | number }[] }).ports) {
        if (typeof p.targetPort === 'string' && !ports.has(p.targetPort)) problems.push(`${where}: targetPort ${p.targetPort} is no port of its pods`);
      }
    }
    if (o.kind === 'HorizontalPodAutoscaler') {
      const ref = (o.spec as { scaleTargetRef: { kind: string; name: string } }).scaleTargetRef;
      const target = named(ref.kind, ref.name);
      if (!target) problems.push(`${where}: targets ${ref.kind} ${ref.name}, which does not exist`);
      const cpuRequested = podOf(target ?? o)?.spec.containers.every((c) => c.resources?.requests?.['cpu']);
      if (target && !cpuRequested) problems.push(`${where}: scales on CPU, but its pods request none`);
    }
    if (o.kind === 'PodDisruptionBudget') {
      const selector = (o.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels;
      if (!deployments.some((d) => matches(selector, podOf(d)?.metadata?.labels))) problems.push(`${where}: covers no Deployment's pods`);
    }
    if (o.kind === 'NetworkPolicy') {
      const selector = (o.spec as { podSelector: { matchLabels?: Record<string, string> } }).podSelector.matchLabels;
      const pods = objects.map(podOf).filter((p) => p !== undefined);
      if (selector && !pods.some((p) => matches(selector, p.metadata?.labels))) problems.push(`${where}: selects no pods`);
    }
    if (o.kind === 'Ingress') {
      const rules = (o.spec as { rules: { http: { paths: { backend: { service: { name: string; port: { name?: string } } } }[] } }[] }).rules;
      for (const path of rules.flatMap((r) => r.http.paths)) {
        const service = named('Service', path.backend.service.name);
        if (!service) problems.push(`${where}: routes to missing Service ${path.backend.service.name}`);
        else if (!(service.spec as { ports: { name?: string }[] }).ports.some((p) => p.name === path.backend.service.port.name))
          problems.push(`${where}: routes to a port its Service lacks`);
      }
    }
    if (o.metadata.namespace !== undefined && !named('Namespace', o.metadata.namespace))
      problems.push(`${where}: in namespace ${o.metadata.namespace}, which is not made here`);
  }
  for (const role of ['api', 'worker', 'scheduler']) {
    if (!deployments.some((d) => podOf(d)?.spec.containers.some((c) => c.env?.some((e) => e.name === 'ROLES' && e.value === role))))
      problems.push(`no Deployment runs the ${role} role`);
  }
  for (const role of ['api', 'worker']) {
    if (!objects.some((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name.endsWith(`-${role}`))) problems.push(`no autoscaler on the ${role} role`);
  }
  const job = objects.find((o) => o.kind === 'Job');
  if (!podOf(job ?? ({} as Obj))?.spec.containers.some((c) => c.command?.includes('cloud/scripts/migrate.ts'))) problems.push('no migration Job');
  for (const d of deployments) {
    if (!podOf(d)?.spec.initContainers?.some((c) => c.command?.join(' ').includes('migrate.ts --wait')))
      problems.push(`Deployment ${d.metadata.name}: starts without waiting for the schema`);
  }
  for (const file of Object.keys(SECRET_FILES)) if (!secretKeys.has(file)) problems.push(`the generated secret lacks ${file}`);
  return problems;
}

describe.each(valueSets)('the Kubernetes manifests of the $name value set', (values) => {
  const objects = committed(values.name);
  const kustomize = parse(readFileSync(new URL(`${values.name}/kustomization.yaml`, here), 'utf8')) as ReturnType<typeof kustomization>;

  it('are what deploy/kubernetes/generate.ts writes (run it after changing the generator or values.ts)', () => {
    for (const [path, text] of Object.entries(render(values))) expect(readFileSync(new URL(path, here), 'utf8'), path).toBe(text);
  });

  it('validate against the Kubernetes API schemas, every object', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(
      [
        'ConfigMap',
        'Deployment',
        'Deployment',
        'Deployment',
        'HorizontalPodAutoscaler',
        'HorizontalPodAutoscaler',
        'Ingress',
        'Job',
        'Namespace',
        'NetworkPolicy',
        'NetworkPolicy',
        'NetworkPolicy',
        'NetworkPolicy',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'PodDisruptionBudget',
        'PodDisruptionBudget',
        'Service',
        'ServiceAccount',
      ].sort(),
    );
    const failures: string[] = [];
    for (const o of objects) {
      try {
        modelOf(o).validate();
      } catch (error) {
        failures.push(`${o.kind} ${o.metadata.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('keep our rules: probes, limits, matching selectors, existing targets, read-only non-root pods, keys as files', () => {
    expect(ruleViolations(objects, kustomize)).toEqual([]);
  });

  it('make the keys Secret from files that are never committed', () => {
    expect(kustomize.resources).toEqual(['icarus-nova.yaml']);
    expect(kustomize.secretGenerator).toEqual([{ name: KEYS_SECRET, type: 'Opaque', files: Object.keys(SECRET_FILES).map((f) => `secrets/${f}`) }]);
    expect(readFileSync(new URL(`${values.name}/secrets/.gitignore`, here), 'utf8')).toMatch(/^\*$/m);
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
  });
});

describe('the checks can fail', () => {
  const objects = committed('production');
  const kustomize = kustomization(valueSets[1] ?? valueSets[0]!);
  const edited = (change: (objects: Obj[]) => void) => {
    const copy = structuredClone(objects);
    change(copy);
    return ruleViolations(copy, kustomize);
  };
  const api = (os: Obj[]) => os.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-api'))!;
  const container = (o: Obj) => podOf(o)!.spec.containers[0]!;

  // The API schemas allow fields they do not know (so does the API server, which drops them):
  // misspellings are caught where the objects are made, by the models' TypeScript types.
  it('the schemas refuse a wrong type and a missing required field', () => {
    const wrong = structuredClone(api(objects));
    (wrong.spec as { replicas: unknown }).replicas = 'three';
    expect(() => modelOf(wrong).validate()).toThrow(/replicas must be integer/);
    const unnamed = structuredClone(api(objects));
    delete (container(unnamed) as { name?: string }).name;
    expect(() => modelOf(unnamed).validate()).toThrow(/must have required property name/);
  });

  it('our rules flag each planted defect', () => {
    expect(edited((os) => delete container(api(os)).readinessProbe)).toContain('Deployment icarus-nova-api container cloud: readiness probe is not /readyz');
    expect(edited((os) => delete container(api(os)).resources!.limits)).toContain('Deployment icarus-nova-api container cloud: no limits.memory');
    expect(edited((os) => (podOf(api(os))!.metadata!.labels!['app.kubernetes.io/component'] = 'web'))).toContain(
      'Deployment icarus-nova-api: selector does not match its pod labels',
    );
    expect(
      edited((os) => {
        const hpa = os.find((o) => o.kind === 'HorizontalPodAutoscaler')!;
        (hpa.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name = 'icarus-nova-gone';
      }),
    ).toContain('HorizontalPodAutoscaler icarus-nova-api: targets Deployment icarus-nova-gone, which does not exist');
    expect(edited((os) => (container(api(os)).securityContext!.readOnlyRootFilesystem = false))).toContain(
      'Deployment icarus-nova-api container cloud: root filesystem not read-only',
    );
    expect(edited((os) => container(api(os)).env!.push({ name: 'TITLE_KEY', value: 'c2VjcmV0' }))).toContain(
      'Deployment icarus-nova-api container cloud: TITLE_KEY given as a plain value',
    );
    expect(edited((os) => (podOf(api(os))!.spec.initContainers = []))).toContain('Deployment icarus-nova-api: starts without waiting for the schema');
  });
});
