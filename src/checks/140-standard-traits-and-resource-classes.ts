import {
  FIRST_CUSTOM_RESOURCE_CLASS_ID,
  standardResourceClasses,
  standardTraits,
} from '../standard/standard-names.js';
import { listSome } from './support.js';
import { failure, success, warning, type UpgradeCheck } from './types.js';

/** The library releases data/ holds the names of (what placement 8.0.0, Zed, ships with). */
const CLASSES_SOURCE = 'os-resource-classes 1.1.0';
const TRAITS_SOURCE = 'os-traits 2.9.0';

/**
 * Standard traits and resource classes are not data nova copied but names
 * placement inserts itself when its service starts: missing ones only mean
 * placement has not started on this database yet. A resource class at the
 * wrong id is worse: placement inserts each standard class at its fixed id
 * and silently gives up when that id is taken, so lookups by name then fail.
 */
const standardTraitsAndResourceClasses: UpgradeCheck = {
  title: 'Standard Traits and Resource Classes',
  gate: 'advisory',
  async run({ database: { knex } }) {
    const standard = standardResourceClasses();
    const standardId = new Map(standard.map((name, id) => [name, id]));
    const classes = (
      (await knex('resource_classes').select('id', 'name').orderBy('id')) as {
        id: number | string;
        name: string;
      }[]
    ).map((r) => ({ id: Number(r.id), name: r.name }));

    const wrong: string[] = [];
    for (const c of classes) {
      const expected = standardId.get(c.name);
      if (expected !== undefined && expected !== c.id) {
        wrong.push(`standard class ${c.name} has id ${c.id} instead of ${expected}`);
      } else if (c.name.startsWith('CUSTOM_') && c.id < FIRST_CUSTOM_RESOURCE_CLASS_ID) {
        const taken = standard[c.id];
        wrong.push(
          `custom class ${c.name} has id ${c.id}, in the range reserved for standard classes${taken ? ` (${taken}'s id)` : ''}`,
        );
      }
    }
    if (wrong.length > 0) {
      return failure(
        `Resource classes at the wrong ids: ${listSome(wrong, wrong.length, 10)}. Standard classes must have their fixed ids (VCPU = 0 …) and custom classes ids from ${FIRST_CUSTOM_RESOURCE_CLASS_ID}, or placement cannot add its standard classes and allocations of these classes are misread. Give each class its right id, updating inventories.resource_class_id and allocations.resource_class_id to match, e.g. by copying again from nova_api.`,
      );
    }

    const present = new Set(classes.map((c) => c.name));
    const missingClasses = standard.filter((name) => !present.has(name));
    const traitNames = new Set((await knex('traits').pluck('name')) as string[]);
    const missingTraits = standardTraits().filter((name) => !traitNames.has(name));
    if (missingClasses.length === 0 && missingTraits.length === 0) return success();
    const parts: string[] = [];
    if (missingClasses.length > 0) {
      parts.push(
        `${missingClasses.length} of the ${standard.length} standard resource classes of ${CLASSES_SOURCE} (${listSome(missingClasses)})`,
      );
    }
    if (missingTraits.length > 0) {
      parts.push(
        `${missingTraits.length} of the ${standardTraits().length} standard traits of ${TRAITS_SOURCE} (${listSome(missingTraits)})`,
      );
    }
    return warning(
      `The database lacks ${parts.join(' and ')}. The placement service adds them when it starts, so this is expected on a database no placement service has used yet; if one has, check that it is configured with this database.`,
    );
  },
};

export default standardTraitsAndResourceClasses;
