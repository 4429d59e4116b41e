import { Flags } from '@oclif/core';
import { DEFAULT_PLUGIN_TIMEOUT_SECONDS, PLUGIN_CONFIG } from '../plugins/load.js';

/** The flags of the commands that run plugin checks or migrations. */
export function pluginFlags() {
  return {
    plugin: Flags.string({
      summary: `npm package of a plugin to load (installed beside placement-upgrade or in the current directory); repeatable. Config: [${PLUGIN_CONFIG.section}] ${PLUGIN_CONFIG.packages}.`,
      multiple: true,
      helpValue: 'PACKAGE',
    }),
    'plugin-dir': Flags.string({
      summary: `Directory whose .js/.mjs files and package folders are plugins; repeatable. Config: [${PLUGIN_CONFIG.section}] ${PLUGIN_CONFIG.dirs}.`,
      multiple: true,
      helpValue: 'DIR',
    }),
    'plugin-timeout': Flags.integer({
      summary:
        "Seconds one plugin check or migration batch may take before it is that plugin's failure.",
      default: DEFAULT_PLUGIN_TIMEOUT_SECONDS,
      min: 1,
    }),
  };
}

/** For --help: where plugins come from and what happens when one fails. */
export const PLUGIN_HELP = `PLUGINS: --plugin PACKAGE, --plugin-dir DIR, or [${PLUGIN_CONFIG.section}] ${PLUGIN_CONFIG.packages} / ${PLUGIN_CONFIG.dirs} in the placement config add checks and online data migrations, run after the built-in ones (interface: "placement-upgrade/plugin", see docs/plugins.md). A plugin that cannot load, throws, or takes longer than --plugin-timeout is reported as that plugin's failure; the rest still run.`;
