import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Pair, type YAMLError, type YAMLMap } from 'yaml';
import type { ConfigError } from '../errors.js';
import { withDeleteDefaults } from './defaults.js';
import { configError, Locations } from './locations.js';
import { deleteImageSetConfigurationSchema, imageSetConfigurationSchema } from './schema.js';
import {
  DELETE_IMAGE_SET_CONFIGURATION,
  IMAGE_SET_CONFIGURATION,
  type DeleteImageSetConfiguration,
  type ImageSetConfiguration,
} from './types.js';
import { validateContent } from './validate.js';
import { walk } from './walk.js';

/**
 * Loading (ref §2.3): YAML → kind and stanza rules → schema walk → cross-field rules. Every
 * function throws a ConfigError whose message is one line naming the file, the line and the
 * field at fault; only the first problem is reported.
 */

interface KindRules {
  kind: string;
  /** the content stanza this kind must have */
  stanza: 'mirror' | 'delete';
  /** the other kind's stanza, refused with its own message rather than as an unknown field */
  foreign: 'mirror' | 'delete';
}

const ISC_RULES: KindRules = { kind: IMAGE_SET_CONFIGURATION, stanza: 'mirror', foreign: 'delete' };
const DISC_RULES: KindRules = { kind: DELETE_IMAGE_SET_CONFIGURATION, stanza: 'delete', foreign: 'mirror' };

interface ParsedRoot {
  doc: Document;
  root: YAMLMap;
  at: Locations;
}

export function parseImageSetConfiguration(text: string, file: string): ImageSetConfiguration {
  const { doc, root, at } = parseRoot(text, file, ISC_RULES);
  const config = walk(root, imageSetConfigurationSchema, '', doc, text, at);
  validateContent(config.mirror, 'mirror', at);
  return config;
}

export function parseDeleteImageSetConfiguration(text: string, file: string): DeleteImageSetConfiguration {
  const { doc, root, at } = parseRoot(text, file, DISC_RULES);
  const config = walk(root, deleteImageSetConfigurationSchema, '', doc, text, at);
  validateContent(config.delete, 'delete', at);
  return withDeleteDefaults(config);
}

// Synchronous on purpose: the file is small, read once before anything else happens, and callers
// (workflows, CLI) need it before they can do any other work.
export function loadImageSetConfiguration(path: string): ImageSetConfiguration {
  return parseImageSetConfiguration(readConfigFile(path), path);
}

export function loadDeleteImageSetConfiguration(path: string): DeleteImageSetConfiguration {
  return parseDeleteImageSetConfiguration(readConfigFile(path), path);
}

function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw configError(path, undefined, '', `cannot read the configuration file: ${readFailure(err)}`);
  }
}

function readFailure(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

function parseRoot(text: string, file: string, rules: KindRules): ParsedRoot {
  const counter = new LineCounter();
  // prettyErrors off: we want the bare reason and place it ourselves, on one line.
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const at = new Locations(file, counter);
  const syntaxError = doc.errors[0];
  if (syntaxError) throw yamlError(syntaxError, text, at);

  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) {
    throw configError(file, undefined, '', `the file is empty (expected kind: ${rules.kind})`);
  }
  if (!isMap(root)) {
    throw configError(file, at.lineOfNode(root), '', `the top level must be a mapping with kind: ${rules.kind}, not ${isScalar(root) ? 'a single value' : 'a list'}`);
  }
  checkKindAndStanzas(root, rules, at);
  return { doc, root, at };
}

function yamlError(err: YAMLError, text: string, at: Locations): ConfigError {
  const line = at.lineOfOffset(err.pos[0]);
  let reason = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  if (err.code === 'MULTIPLE_DOCS') reason = 'more than one document (one configuration per file)';
  if (err.code === 'DUPLICATE_KEY') {
    // The error's range covers only the start of the key: take the key up to its colon.
    const key = /^[^:\n]*/.exec(text.slice(err.pos[0]))![0].trim().replace(/^(["'])(.*)\1$/, '$2');
    reason = key ? `duplicate key ${JSON.stringify(key)}` : 'duplicate key';
  }
  return configError(at.file, line, '', `invalid YAML: ${reason}`);
}

function findPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p): p is Pair => isPair(p) && isScalar(p.key) && p.key.value === key);
}

/** The kind decides everything else, so it is checked before any field (ref §2.3). */
function checkKindAndStanzas(root: YAMLMap, rules: KindRules, at: Locations): void {
  const rootLine = at.lineOfNode(root);
  const kindPair = findPair(root, 'kind');
  const kindNode = kindPair?.value;
  if (!kindPair || kindNode === null || (isScalar(kindNode) && kindNode.value === null)) {
    throw at.error('kind', `missing (expected ${rules.kind})`, at.lineOfNode(kindPair?.key) ?? rootLine);
  }
  const kindLine = at.lineOfNode(kindNode) ?? rootLine;
  if (!isScalar(kindNode)) throw at.error('kind', `expected ${rules.kind}, got ${isMap(kindNode) ? 'a mapping' : 'a list'}`, kindLine);
  if (kindNode.value !== rules.kind) throw at.error('kind', `"${String(kindNode.value)}" is not ${rules.kind}`, kindLine);

  const foreign = findPair(root, rules.foreign);
  if (foreign) throw at.error(rules.foreign, `not allowed in ${rules.kind}`, at.lineOfNode(foreign.key));
  if (!findPair(root, rules.stanza)) throw at.error(rules.stanza, `missing: ${rules.kind} needs a ${rules.stanza} stanza`, rootLine);
}
