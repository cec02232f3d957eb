/**
 * The objects Helm hands its templates besides `.Values`: `.Chart` (Chart.yaml under Go's field
 * names), `.Release`, `.Capabilities` and `.Files`. Objects with methods are class instances, which
 * the template engine treats as Go structs (their functions are methods).
 */
import { posix } from 'node:path';
import { stringify } from 'yaml';
import type { ChartFile, ChartMetadata } from './chart.js';

/** Chart.yaml keys and the Go field names templates use for them (helm's chart.Metadata). */
const METADATA_FIELDS: Record<string, string> = {
  name: 'Name',
  home: 'Home',
  sources: 'Sources',
  version: 'Version',
  description: 'Description',
  keywords: 'Keywords',
  icon: 'Icon',
  apiVersion: 'APIVersion',
  condition: 'Condition',
  tags: 'Tags',
  appVersion: 'AppVersion',
  deprecated: 'Deprecated',
  annotations: 'Annotations',
  kubeVersion: 'KubeVersion',
  type: 'Type',
};

function table(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** `.Chart`: the metadata of the chart a template belongs to (its alias as Name for an aliased sub-chart). */
export function chartObject(metadata: ChartMetadata, isRoot: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(METADATA_FIELDS)) out[field] = metadata.fields[key] ?? (field === 'Deprecated' ? false : '');
  out.Name = metadata.name;
  out.Version = metadata.version;
  out.APIVersion = metadata.apiVersion;
  out.Type = metadata.fields.type ?? '';
  out.AppVersion = metadata.appVersion ?? '';
  out.Maintainers = (Array.isArray(metadata.fields.maintainers) ? metadata.fields.maintainers : []).map((m) => {
    const t = table(m);
    return { Name: t.name ?? '', Email: t.email ?? '', URL: t.url ?? '' };
  });
  out.Dependencies = metadata.dependencies.map((d) => ({
    Name: d.name,
    Version: d.version ?? '',
    Repository: d.repository ?? '',
    Condition: d.condition ?? '',
    Tags: d.tags ?? [],
    Enabled: true,
    ImportValues: d.importValues ?? [],
    Alias: d.alias ?? '',
  }));
  out.IsRoot = isRoot;
  return out;
}

/** How mirroring releases its charts: one fresh install, as Helm's defaults for a dry run. */
export function releaseObject(): Record<string, unknown> {
  return { Name: 'NAME', Namespace: 'NAMESPACE', Service: 'Helm', IsInstall: true, IsUpgrade: false, Revision: 1n };
}

/**
 * Helm's default API versions when no cluster is asked (`helm template`): the group versions of
 * the Kubernetes client library's scheme plus apiextensions.k8s.io, without kinds.
 */
const DEFAULT_API_VERSIONS = [
  'v1',
  'admissionregistration.k8s.io/v1',
  'admissionregistration.k8s.io/v1beta1',
  'admissionregistration.k8s.io/v1alpha1',
  'apiextensions.k8s.io/v1',
  'apiextensions.k8s.io/v1beta1',
  'apps/v1',
  'apps/v1beta2',
  'apps/v1beta1',
  'authentication.k8s.io/v1',
  'authentication.k8s.io/v1beta1',
  'authentication.k8s.io/v1alpha1',
  'authorization.k8s.io/v1',
  'authorization.k8s.io/v1beta1',
  'autoscaling/v2',
  'autoscaling/v1',
  'autoscaling/v2beta2',
  'autoscaling/v2beta1',
  'batch/v1',
  'batch/v1beta1',
  'certificates.k8s.io/v1',
  'certificates.k8s.io/v1beta1',
  'certificates.k8s.io/v1alpha1',
  'coordination.k8s.io/v1',
  'coordination.k8s.io/v1beta1',
  'coordination.k8s.io/v1alpha1',
  'discovery.k8s.io/v1',
  'discovery.k8s.io/v1beta1',
  'events.k8s.io/v1',
  'events.k8s.io/v1beta1',
  'extensions/v1beta1',
  'flowcontrol.apiserver.k8s.io/v1',
  'flowcontrol.apiserver.k8s.io/v1beta3',
  'flowcontrol.apiserver.k8s.io/v1beta2',
  'flowcontrol.apiserver.k8s.io/v1beta1',
  'internal.apiserver.k8s.io/v1alpha1',
  'networking.k8s.io/v1',
  'networking.k8s.io/v1beta1',
  'networking.k8s.io/v1alpha1',
  'node.k8s.io/v1',
  'node.k8s.io/v1beta1',
  'node.k8s.io/v1alpha1',
  'policy/v1',
  'policy/v1beta1',
  'rbac.authorization.k8s.io/v1',
  'rbac.authorization.k8s.io/v1beta1',
  'rbac.authorization.k8s.io/v1alpha1',
  'resource.k8s.io/v1alpha3',
  'scheduling.k8s.io/v1',
  'scheduling.k8s.io/v1beta1',
  'scheduling.k8s.io/v1alpha1',
  'storage.k8s.io/v1',
  'storage.k8s.io/v1beta1',
  'storage.k8s.io/v1alpha1',
  'storagemigration.k8s.io/v1alpha1',
];

/** Kubernetes version the templates see: that of the client library of the Helm releases oc-mirror 4.18 builds with. */
export const KUBE_VERSION = { major: '1', minor: '31' };

/** `.Capabilities.APIVersions` with Helm's `Has` method (a struct to the engine, so `Has` is callable). */
export class VersionSet {
  constructor(private readonly versions: readonly string[]) {}

  Has(apiVersion: unknown): boolean {
    return this.versions.includes(String(apiVersion));
  }
}

export class KubeVersion {
  readonly Version: string;
  constructor(
    readonly Major: string,
    readonly Minor: string,
  ) {
    this.Version = `v${Major}.${Minor}.0`;
  }

  GitVersion(): string {
    return this.Version;
  }

  String(): string {
    return this.Version;
  }
}

export function capabilitiesObject(): Record<string, unknown> {
  return {
    KubeVersion: new KubeVersion(KUBE_VERSION.major, KUBE_VERSION.minor),
    APIVersions: new VersionSet(DEFAULT_API_VERSIONS),
    HelmVersion: { Version: 'v3.16.0', GitCommit: '', GitTreeState: '', GoVersion: '' },
  };
}

/** A gobwas-style glob (`*` within a path component, `**` across, `?`, `[...]`, `{a,b}`) as a RegExp. */
function globRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') re += '(?:';
    else if (c === '}') re += ')';
    else if (c === ',' && re.includes('(?:')) re += '|';
    else if (c === '[') {
      const end = pattern.indexOf(']', i);
      if (end < 0) re += '\\[';
      else {
        re += `[${pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** `.Files`: the chart's non-template files, with Helm's accessors. */
export class Files {
  constructor(private readonly files: ReadonlyMap<string, Buffer>) {}

  static of(files: readonly ChartFile[]): Files {
    return new Files(new Map(files.map((f) => [f.name, f.data])));
  }

  Get(name: unknown): string {
    return this.files.get(String(name))?.toString('utf8') ?? '';
  }

  GetBytes(name: unknown): Uint8Array {
    return this.files.get(String(name)) ?? new Uint8Array();
  }

  Glob(pattern: unknown): Files {
    const re = globRegExp(String(pattern));
    return new Files(new Map([...this.files].filter(([name]) => re.test(name))));
  }

  Lines(name: unknown): string[] {
    const text = this.Get(name);
    if (text === '') return [];
    return text.split('\n');
  }

  AsConfig(): string {
    if (this.files.size === 0) return '';
    const m: Record<string, string> = {};
    for (const [name, data] of this.files) m[posix.basename(name)] = data.toString('utf8');
    return stringify(m, { sortMapEntries: true }).trimEnd();
  }

  AsSecrets(): string {
    if (this.files.size === 0) return '';
    const m: Record<string, string> = {};
    for (const [name, data] of this.files) m[posix.basename(name)] = data.toString('base64');
    return stringify(m, { sortMapEntries: true }).trimEnd();
  }
}
