/** Written into cluster resources (`oc-mirror_version`) and printed by `oc-mirror version`. */
export const VERSION = '0.1.0';
