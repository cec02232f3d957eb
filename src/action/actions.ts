/** The five actions; each is a thin node action running the same engine. */
export const ACTION_NAMES = ['plan', 'mirror', 'pack', 'push', 'delete'] as const;

export type ActionName = (typeof ACTION_NAMES)[number];

/** The `description` of each action.yml. */
export const ACTION_DESCRIPTIONS: Readonly<Record<ActionName, string>> = {
  plan: 'Plan an oc-mirror run: list what an ImageSetConfiguration would mirror, write mapping.txt, and cut the plan into shards for a job matrix',
  mirror: 'Mirror the images of an ImageSetConfiguration (or one shard of them) from their registries to a registry (oc-mirror mirror to mirror)',
  pack: 'Pack the images of an ImageSetConfiguration into archives for a disconnected registry (oc-mirror mirror to disk)',
  push: 'Push archives made by pack into a disconnected registry (oc-mirror disk to mirror)',
  delete: 'Delete mirrored images from a registry (oc-mirror delete): generate the delete list, or delete what a list names',
};

export function isActionName(name: string): name is ActionName {
  return (ACTION_NAMES as readonly string[]).includes(name);
}
