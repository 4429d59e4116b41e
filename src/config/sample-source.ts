import { fileURLToPath } from 'node:url';

/** The name that stands for the bundled sample nova_api wherever a nova_api URL is taken. */
export const SAMPLE_SOURCE_NAME = 'sample';

/**
 * The bundled sample nova_api's file, found from this module rather than the
 * current directory, so that `--source sample` works wherever the package is
 * installed (a checkout, node_modules, a global install).
 */
export function sampleSourceFile(): string {
  // src/config/ and dist/config/ both sit two levels below the package root.
  return fileURLToPath(new URL('../../fixtures/sample/nova_api.sqlite', import.meta.url));
}

/** The SQLAlchemy-style URL of the bundled sample (four slashes: an absolute path). */
export function sampleSourceUrl(): string {
  return `sqlite:///${sampleSourceFile()}`;
}
