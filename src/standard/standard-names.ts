import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DATA = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'data');

function readList(file: string): string[] {
  return readFileSync(join(DATA, file), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** The os-resource-classes and os-traits releases whose names every placement since Zed holds. */
export const STANDARD_RESOURCE_CLASSES_SOURCE = 'os-resource-classes 1.1.0';
export const STANDARD_TRAITS_SOURCE = 'os-traits 2.9.0';

let classes: string[] | undefined;
let traits: string[] | undefined;

/** Standard resource classes in id order: a standard class's id is its index. */
export function standardResourceClasses(): readonly string[] {
  classes ??= readList('os-resource-classes-1.1.0.txt');
  return classes;
}

/** Standard trait names (their ids are plain auto-increment values). */
export function standardTraits(): readonly string[] {
  traits ??= readList('os-traits-2.9.0.txt');
  return traits;
}

/** Custom resource classes are numbered from here, as placement and nova do. */
export const FIRST_CUSTOM_RESOURCE_CLASS_ID = 10000;
