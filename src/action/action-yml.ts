/**
 * The action.yml files and the README's input/output tables, generated from the input and output
 * tables so that documentation and behaviour cannot drift (test/unit/action-yml.test.ts compares
 * the committed files with this rendering).
 */
import { stringify } from 'yaml';
import { ACTION_DESCRIPTIONS, ACTION_NAMES, type ActionName } from './actions.js';
import { ACTION_INPUTS, type InputSpec } from './input-table.js';
import { ACTION_OUTPUTS, type OutputSpec } from './outputs.js';

export const ROOT_DESCRIPTION =
  'oc-mirror v2 compatible mirroring for disconnected OpenShift: plan, mirror, pack, push or delete, chosen by the command input';

const COMMAND: InputSpec = {
  name: 'command',
  description: `What to run: ${ACTION_NAMES.join(', ')} (the same as the action of that name; its inputs apply).`,
  required: true,
  kind: 'text',
};

/** The root action's inputs: `command`, then every action's inputs once (first description wins), none required. */
export function rootInputs(): InputSpec[] {
  const seen = new Map<string, InputSpec>();
  for (const action of ACTION_NAMES) {
    for (const spec of ACTION_INPUTS[action]) if (!seen.has(spec.name)) seen.set(spec.name, { ...spec, required: false, description: usedBy(spec.name, spec.description) });
  }
  return [COMMAND, ...seen.values()];
}

function usedBy(name: string, description: string): string {
  const actions = ACTION_NAMES.filter((a) => ACTION_INPUTS[a].some((s) => s.name === name));
  return actions.length === ACTION_NAMES.length ? description : `${description} (${actions.join(', ')})`;
}

export function rootOutputs(): OutputSpec[] {
  const seen = new Map<string, OutputSpec>();
  for (const action of ACTION_NAMES) {
    for (const spec of ACTION_OUTPUTS[action]) {
      if (!seen.has(spec.name)) {
        const actions = ACTION_NAMES.filter((a) => ACTION_OUTPUTS[a].some((s) => s.name === spec.name));
        seen.set(spec.name, { name: spec.name, description: `${spec.description} (${actions.join(', ')})` });
      }
    }
  }
  return [...seen.values()];
}

const HEADER = '# Generated from src/action/input-table.ts and src/action/outputs.ts: edit those, then regenerate\n# (UPDATE_ACTION_YML=1 node --import tsx --test test/unit/action-yml.test.ts).\n';

function render(name: string, description: string, inputs: readonly InputSpec[], outputs: readonly OutputSpec[], main: string): string {
  const doc = {
    name,
    description,
    author: 'oc-mirror-action',
    branding: { icon: 'copy', color: 'red' },
    inputs: Object.fromEntries(
      inputs.map((s) => [s.name, { description: s.description, required: s.required, ...(s.default !== undefined && { default: s.default }) }]),
    ),
    outputs: Object.fromEntries(outputs.map((o) => [o.name, { description: o.description }])),
    // node24 and not composite: composite steps get no ACTIONS_RUNTIME_TOKEN / ACTIONS_RESULTS_URL,
    // which the cache and artifact clients need.
    runs: { using: 'node24', main },
  };
  return HEADER + stringify(doc, { lineWidth: 0 });
}

/** `<action>/action.yml`, running `dist/<action>/index.js`. */
export function actionYml(action: ActionName): string {
  return render(`oc-mirror ${action}`, ACTION_DESCRIPTIONS[action], ACTION_INPUTS[action], ACTION_OUTPUTS[action], `../dist/${action}/index.js`);
}

/** The root `action.yml`, running `dist/index.js`. */
export function rootActionYml(): string {
  return render('oc-mirror', ROOT_DESCRIPTION, rootInputs(), rootOutputs(), 'dist/index.js');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The README's Markdown tables of one action's inputs and outputs. */
export function readmeTables(action: ActionName): string {
  const inputs = ACTION_INPUTS[action]
    .map((s) => `| \`${s.name}\` | ${s.required ? 'yes' : 'no'} | ${s.default !== undefined ? `\`${cell(s.default)}\`` : ''} | ${cell(s.description)} |`)
    .join('\n');
  const outputs = ACTION_OUTPUTS[action].map((o) => `| \`${o.name}\` | ${cell(o.description)} |`).join('\n');
  return `#### \`${action}\` inputs\n\n| input | required | default | description |\n| --- | --- | --- | --- |\n${inputs}\n\n#### \`${action}\` outputs\n\n| output | description |\n| --- | --- |\n${outputs}\n`;
}
