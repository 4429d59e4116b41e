import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { failure, success, type UpgradeCheck } from './types.js';

/** oslo.config's find_file: the first directory that holds `name` (an absolute name is itself). */
export function findConfigFile(name: string, dirs: readonly string[]): string | undefined {
  if (isAbsolute(name)) return existsSync(name) ? name : undefined;
  for (const dir of dirs) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** oslo_utils.fileutils.is_json: the whole file parses as JSON. */
function isJson(path: string): boolean {
  try {
    JSON.parse(readFileSync(path, 'utf8'));
    return true;
  } catch (err) {
    if (err instanceof SyntaxError) return false;
    throw err;
  }
}

function convertHint(path: string): string {
  return (
    `Convert it with "oslopolicy-convert-json-to-yaml --namespace placement --policy-file ${path} ` +
    '--output-file policy.yaml", then set [oslo_policy] policy_file = policy.yaml in ' +
    'placement.conf and remove the JSON file: oslo.policy has deprecated JSON-formatted policy files.'
  );
}

/**
 * placement-status's check (oslo.upgradecheck's common policy check): the
 * policy file placement would read is JSON. When [oslo_policy] policy_file
 * is not set, placement reads policy.yaml and, only when there is none, a
 * policy.json found in the same places.
 */
const policyFileJsonToYaml: UpgradeCheck = {
  title: 'Policy File JSON to YAML Migration',
  gate: 'placement',
  async run({ placementOptions, configSearchDirs }) {
    const configured = placementOptions.policyFile;
    if (configured !== undefined) {
      const path = findConfigFile(configured, configSearchDirs);
      if (path && isJson(path)) {
        return failure(
          `The configured policy file ([oslo_policy] policy_file) ${path} is JSON-formatted. ${convertHint(path)}`,
        );
      }
      return success();
    }
    const yaml = findConfigFile('policy.yaml', configSearchDirs);
    if (yaml) {
      return isJson(yaml)
        ? failure(`The policy file ${yaml} holds JSON, not YAML. ${convertHint(yaml)}`)
        : success();
    }
    const json = findConfigFile('policy.json', configSearchDirs);
    if (json && isJson(json)) {
      return failure(
        `${json} is a JSON-formatted policy file and there is no policy.yaml beside the configuration. ${convertHint(json)}`,
      );
    }
    return success();
  },
};

export default policyFileJsonToYaml;
