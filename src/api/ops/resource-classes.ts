/**
 * The writes of /resource_classes, as placement's ResourceClass object
 * makes them. Custom classes are numbered from 10000 (the next is the
 * largest id plus one); two writers taking the same number is a race the
 * loser runs again, as placement does.
 */
import { ObjectNotFound, type RequestContext } from '../context.js';
import { ApiError, badRequest } from '../errors.js';
import type { NamedRow } from '../store/index.js';

/** The first id of a custom resource class; below it are the standard ones. */
const MIN_CUSTOM_RESOURCE_CLASS_ID = 10000;
/** placement's RESOURCE_CREATE_RETRY_COUNT. */
const CREATE_ATTEMPTS = 100;

/** Thrown when the name is taken (ResourceClassExists). */
export class ResourceClassExists extends Error {}

/** Creates a custom class; throws ResourceClassExists when the name is taken. */
export async function createResourceClass(ctx: RequestContext, name: string): Promise<NamedRow> {
  for (let attempt = 1; attempt <= CREATE_ATTEMPTS; attempt++) {
    try {
      return await ctx.store.transaction(async (tx) => {
        const max = await tx.classes.maxId();
        const id =
          max === null || max < MIN_CUSTOM_RESOURCE_CLASS_ID
            ? MIN_CUSTOM_RESOURCE_CLASS_ID
            : max + 1;
        return tx.classes.create(id, name);
      });
    } catch (err) {
      if (!ctx.store.db.dialect.isUniqueViolation(err)) throw err;
      // The name is taken, or only the id (someone else just numbered a class): then again.
      if (await ctx.store.classes.byName(name)) throw new ResourceClassExists(name);
    }
  }
  throw new ApiError(
    409,
    `Max retries of DB transaction exceeded attempting to create resource class: ${name}, please try again.`,
  );
}

/** PUT /resource_classes/{name} from 1.7: true when it was created, false when it was there. */
export async function ensureResourceClass(ctx: RequestContext, name: string): Promise<boolean> {
  try {
    await ctx.resourceClasses.byNameOrThrow(name);
    return false;
  } catch (err) {
    if (!(err instanceof ObjectNotFound)) throw err;
  }
  try {
    await createResourceClass(ctx, name);
    return true;
  } catch (err) {
    if (err instanceof ResourceClassExists) return false;
    throw err;
  }
}

/** PUT /resource_classes/{name} 1.2–1.6: renames a custom class. */
export async function renameResourceClass(
  ctx: RequestContext,
  name: string,
  newName: string,
): Promise<void> {
  const rc = await ctx.resourceClasses.byNameOrThrow(name);
  if (rc.id < MIN_CUSTOM_RESOURCE_CLASS_ID) {
    throw badRequest(`Cannot update standard resource class ${name}`);
  }
  if (newName === rc.name) return;
  try {
    await ctx.store.transaction((tx) => tx.classes.rename(rc.id, newName));
  } catch (err) {
    if (!ctx.store.db.dialect.isUniqueViolation(err)) throw err;
    throw new ApiError(409, `Resource class already exists: ${newName}`);
  }
}

/** DELETE /resource_classes/{name}: custom classes no inventory uses. */
export async function deleteResourceClass(ctx: RequestContext, name: string): Promise<void> {
  const rc = await ctx.resourceClasses.byNameOrThrow(name);
  if (rc.id < MIN_CUSTOM_RESOURCE_CLASS_ID) {
    throw badRequest(
      `Error in delete resource class: Cannot delete standard resource class ${name}.`,
    );
  }
  await ctx.store.transaction(async (tx) => {
    if (await tx.classes.inUse(rc.id)) {
      throw new ApiError(
        409,
        `Error in delete resource class: Cannot delete resource class ${name}. Class is in use in inventory.`,
      );
    }
    if ((await tx.classes.delete(rc.id)) === 0) {
      throw new ApiError(404, 'Resource could not be found.', { escapes: true });
    }
  });
}
